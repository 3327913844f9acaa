import type { MigrationSpec, NodeGroupSpec } from "../infra/spec.js";

// Pure spec → spec transforms, the only way a Pulumi step changes the desired state.

export function addGroup(spec: MigrationSpec, group: NodeGroupSpec): MigrationSpec {
  const others = spec.nodeGroups.filter((g) => g.name !== group.name);
  return { ...spec, nodeGroups: [...others, group] };
}

export function setNginxInstanceTypes(spec: MigrationSpec, instanceTypes: string[]): MigrationSpec {
  return { ...spec, nginx: { ...spec.nginx, instanceTypes: [...instanceTypes] } };
}

export function scaleGroup(spec: MigrationSpec, name: string, size: number): MigrationSpec {
  return {
    ...spec,
    nodeGroups: spec.nodeGroups.map((g) => (g.name === name ? { ...g, desired: size, min: size, max: Math.max(size, 1) } : g)),
  };
}

export function removeGroup(spec: MigrationSpec, name: string): MigrationSpec {
  return { ...spec, nodeGroups: spec.nodeGroups.filter((g) => g.name !== name) };
}
