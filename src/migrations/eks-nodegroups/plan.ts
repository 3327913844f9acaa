import type { MigrationSpec, NodeGroupSpec } from "../../infra/spec.js";
import { addNewGroup, moveNginx, removeOldGroup, scaleOldToZero } from "../../infra/spec-steps.js";

// The migration's desired states, defined once: where it starts, and the pure spec → spec
// change of each Pulumi step, by step id. The steps (steps.ts) use these changes; the config
// (config.ts) folds them to refuse, before anything runs, a plan that would pass through an
// invalid state.

export interface PlanInput {
  clusterVersion: string;
  groups: { standard: NodeGroupSpec; old: NodeGroupSpec; new: NodeGroupSpec };
  nginx: { replicas: number };
  echoserver: { replicas: number };
  host: string;
  path: string;
}

/** The stack's desired state before step 1 (what "provision" creates). */
export function planStart(c: PlanInput): MigrationSpec {
  return {
    clusterVersion: c.clusterVersion,
    nodeGroups: [c.groups.standard, c.groups.old],
    nginx: { replicas: c.nginx.replicas, instanceTypes: [c.groups.old.instanceType] },
    // Pinned to the standard group, so it never lands on the group that is drained.
    echoserver: { replicas: c.echoserver.replicas, nodeGroup: c.groups.standard.name },
    host: c.host,
    path: c.path,
  };
}

export type PlanStepId =
  | "provision"
  | "create-new-group"
  | "migrate-nginx"
  | "scale-old-to-zero"
  | "remove-old-group";

/** Each Pulumi step's change, in runbook order. */
export function planChanges(c: PlanInput): [PlanStepId, (spec: MigrationSpec) => MigrationSpec][] {
  const { old, new: fresh } = c.groups;
  return [
    ["provision", (spec) => spec],
    ["create-new-group", (spec) => addNewGroup(spec, fresh)],
    ["migrate-nginx", (spec) => moveNginx(spec, fresh.name)],
    ["scale-old-to-zero", (spec) => scaleOldToZero(spec, old.name)],
    ["remove-old-group", (spec) => removeOldGroup(spec, old.name)],
  ];
}
