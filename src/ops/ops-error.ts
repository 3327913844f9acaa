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

/** One pod a drain could not evict, and why: what the operator must fix. */
export interface DrainBlocker {
  node: string;
  pod: string;
  /** The API server's refusal (or the pod's state when it was never refused). */
  message: string;
  /** The disruption budgets covering the pod when it was last refused (namespace/name, allowed). */
  pdbs: { namespace: string; name: string; disruptionsAllowed: number }[];
}

/**
 * A drain that could not finish: a budget kept refusing, a node did not empty in time, or
 * the health check between nodes never held. The nodes stay cordoned; the step's roll back
 * (uncordon) undoes that. `blockers` lists the pods and budgets still in the way, budgets
 * first, so a step failure can name them without parsing the message.
 */
export class DrainBlockedError extends OperationError {
  constructor(
    message: string,
    hint: string,
    readonly blockers: readonly DrainBlocker[],
    details: Record<string, unknown> = {},
  ) {
    super(message, hint, {
      ...details,
      blockers: blockers.length,
      pdbs: [...new Set(blockers.flatMap((b) => b.pdbs.map((p) => `${p.namespace}/${p.name}`)))],
    });
  }

  /** The budgets named by the blockers, "ns/name", without repeats. */
  get pdbNames(): string[] {
    return [
      ...new Set(this.blockers.flatMap((b) => b.pdbs.map((p) => `${p.namespace}/${p.name}`))),
    ];
  }
}
