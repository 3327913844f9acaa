import { RunbookError } from "../engine/errors.js";
import { describeKubeError } from "../kube/errors.js";

/** A cluster operation that could not finish; the message says what is left and why. */
export class OperationError extends RunbookError {
  constructor(
    message: string,
    hint: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message, hint);
  }
}

const API_HINT =
  "Check that the API server is reachable with this kubeconfig (kubectl get nodes), then retry the step.";

/** Wraps an API failure met by an operation into an OperationError naming what was being done. */
export function apiFailure(doing: string, err: unknown): OperationError {
  return new OperationError(`${doing}: ${describeKubeError(err)}`, API_HINT);
}
