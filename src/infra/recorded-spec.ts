import * as pulumi from "@pulumi/pulumi";
import { RECORDED_SPEC_OUTPUT } from "./output-names.js";
import type { MigrationSpec } from "./spec.js";

// The applied desired state recorded WITH THE STACK, as a (non-secret) stack output: outputs
// live in the backend with the state, while stack config lives in this machine's
// Pulumi.<stack>.yaml. So any machine (or CI) with access to the backend reads where the
// migration stands from the stack itself. Both programs export it.

export { RECORDED_SPEC_OUTPUT };

/**
 * The spec as JSON, resolved only once every resource in `after` has been created or
 * updated. A Stash (a resource the engine itself keeps; its input is constant, so it is
 * "same" in every preview after the first) depends on all of them: its registration, and
 * so this output, waits for them, and an update that fails on any of them never registers
 * the stack's outputs, so the spec of a failed update is never recorded as applied.
 * Depending on a component waits for all of its children.
 */
export function recordedSpec(spec: MigrationSpec, after: pulumi.Resource[]): pulumi.Output<string> {
  const json = JSON.stringify(spec);
  const done = new pulumi.Stash(
    "runbook-spec-recorded",
    { input: "after-every-resource" },
    {
      dependsOn: after,
    },
  );
  return done.urn.apply(() => json);
}
