import { InputError } from "../engine/errors.js";
import type { GroupNames, MigrationSpec, NodeGroupSpec } from "./spec.js";
import { WORKLOAD } from "./workload-names.js";

// The tutorial's desired states, modernised, and the pure spec → spec functions of the
// runbook's Pulumi steps (3 create new group, 4 migrate NGINX, 7 scale old to 0, 8 remove
// old group). Each returns a new spec and never touches its argument; validity of the
// result is checked by migrationSpecSchema where the spec is used (the driver), so a step
// applied out of order (scaling the old group to 0 while NGINX still runs there) is refused
// before it reaches Pulumi.

export const DEFAULT_GROUP_NAMES: GroupNames = { standard: "standard", old: "old", new: "new" };

function fixedGroup(
  name: string,
  instanceType: string,
  size: number,
  kubeletVersion: string,
): NodeGroupSpec {
  return {
    name,
    instanceType,
    desired: size,
    min: size,
    max: size,
    kubeletVersion,
    taints: [],
    labels: {},
  };
}

/** General-purpose nodes for the echoserver. */
export const DEFAULT_STANDARD_GROUP: NodeGroupSpec = fixedGroup("standard", "t3.medium", 3, "1.33");
/** NGINX's first home, one kubelet minor behind the control plane: the reason to migrate. */
export const DEFAULT_OLD_GROUP: NodeGroupSpec = fixedGroup("old", "t3.2xlarge", 3, "1.32");
/** NGINX's new home: bigger, current kubelet, tainted so only NGINX lands there. */
export const DEFAULT_NEW_GROUP: NodeGroupSpec = {
  ...fixedGroup("new", "c5.4xlarge", 5, "1.33"),
  taints: [{ ...WORKLOAD.nginxTaint }],
};

/** Step 1 (provision): the cluster, the standard and old groups, NGINX on the old group. */
export const DEFAULT_SPEC: MigrationSpec = {
  clusterVersion: "1.33",
  nodeGroups: [DEFAULT_STANDARD_GROUP, DEFAULT_OLD_GROUP],
  nginx: { replicas: 3, instanceTypes: [DEFAULT_OLD_GROUP.instanceType] },
  echoserver: { replicas: 3, nodeGroup: DEFAULT_STANDARD_GROUP.name },
  host: "apps.example.com",
  path: "/echoserver",
};

function requireGroup(spec: MigrationSpec, name: string, step: string): NodeGroupSpec {
  const g = spec.nodeGroups.find((x) => x.name === name);
  if (!g) {
    throw new InputError(
      `${step}: the spec has no node group "${name}" (groups: ${spec.nodeGroups.map((x) => x.name).join(", ")})`,
      "Check the group names in the configuration; the steps must run in order.",
    );
  }
  return g;
}

/** Step 3: adds (or redefines, so the step can be re-run) the new node group. */
export function addNewGroup(
  spec: MigrationSpec,
  group: NodeGroupSpec = DEFAULT_NEW_GROUP,
): MigrationSpec {
  const others = spec.nodeGroups.filter((g) => g.name !== group.name);
  return { ...spec, nodeGroups: [...others, structuredClone(group)] };
}

/** Step 4: NGINX's required node affinity → the instance type of `toGroup`. */
export function moveNginx(
  spec: MigrationSpec,
  toGroup: string = DEFAULT_GROUP_NAMES.new,
): MigrationSpec {
  const g = requireGroup(spec, toGroup, "migrate NGINX");
  return { ...spec, nginx: { ...spec.nginx, instanceTypes: [g.instanceType] } };
}

/** Step 7: the old group's ASG to desired = min = 0 (max stays: the group still exists). */
export function scaleOldToZero(
  spec: MigrationSpec,
  oldGroup: string = DEFAULT_GROUP_NAMES.old,
): MigrationSpec {
  requireGroup(spec, oldGroup, "scale old group to 0");
  return {
    ...spec,
    nodeGroups: spec.nodeGroups.map((g) =>
      g.name === oldGroup ? { ...g, desired: 0, min: 0 } : g,
    ),
  };
}

/** Step 8: the old group leaves the program (Pulumi deletes its ASG and what belongs to it). */
export function removeOldGroup(
  spec: MigrationSpec,
  oldGroup: string = DEFAULT_GROUP_NAMES.old,
): MigrationSpec {
  requireGroup(spec, oldGroup, "remove old group");
  return { ...spec, nodeGroups: spec.nodeGroups.filter((g) => g.name !== oldGroup) };
}

export interface StepSpecs {
  provision: MigrationSpec;
  createNewGroup: MigrationSpec;
  migrateNginx: MigrationSpec;
  scaleOldToZero: MigrationSpec;
  removeOldGroup: MigrationSpec;
}

/** The desired state after each Pulumi step, in runbook order. */
export function stepSpecs(
  initial: MigrationSpec = DEFAULT_SPEC,
  newGroup: NodeGroupSpec = DEFAULT_NEW_GROUP,
  names: GroupNames = DEFAULT_GROUP_NAMES,
): StepSpecs {
  const createNewGroup = addNewGroup(initial, newGroup);
  const migrateNginx = moveNginx(createNewGroup, names.new);
  const scaled = scaleOldToZero(migrateNginx, names.old);
  return {
    provision: initial,
    createNewGroup,
    migrateNginx,
    scaleOldToZero: scaled,
    removeOldGroup: removeOldGroup(scaled, names.old),
  };
}
