import * as pulumi from "@pulumi/pulumi";
import { RECORDED_SPEC_OUTPUT } from "./output-names.js";
import type { MigrationSpec } from "./spec.js";

// The applied desired state recorded WITH THE STACK, as a (non-secret) stack output: outputs
// live in the backend with the state, while stack config lives in this machine's
// Pulumi.<stack>.yaml. So any machine (or CI) with access to the backend reads where the
// migration stands from the stack itself. Both programs export it.

export { RECORDED_SPEC_OUTPUT };

/**
 * The spec as JSON, resolved only once `after` has (the groups' ASGs and the workload's
 * Service): Pulumi registers the stack's outputs when they all resolve, so an update that
 * fails before its resources exist does not record its spec as applied.
 */
export function recordedSpec(
  spec: MigrationSpec,
  after: pulumi.Input<unknown>[],
): pulumi.Output<string> {
  const json = JSON.stringify(spec);
  return pulumi.all(after).apply(() => json);
}
