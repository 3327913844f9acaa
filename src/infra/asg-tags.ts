import type { Taint } from "./spec.js";

// The contract between the local target's Auto Scaling groups (created by the infra's
// dynamic provider) and the sandbox's node-group controller (which turns each InService
// instance into a kwok Node). Everything a Node needs is carried in ASG tags, exactly as
// a real EKS self-managed group carries it in its launch template / bootstrap.

export const ASG_TAG = {
  cluster: "eks-runbook/cluster",
  nodeGroup: "eks-runbook/node-group",
  instanceType: "eks-runbook/instance-type",
  kubeletVersion: "eks-runbook/kubelet-version",
  /** JSON object of extra node labels. */
  labels: "eks-runbook/labels",
  /** JSON array of {key,value,effect}. */
  taints: "eks-runbook/taints",
} as const;

export interface NodeGroupTags {
  cluster: string;
  nodeGroup: string;
  instanceType: string;
  /** Full version, e.g. "v1.32.9" or a minor "1.32" (the controller picks a patch). */
  kubeletVersion: string;
  labels: Record<string, string>;
  taints: Taint[];
}

export function encodeNodeGroupTags(t: NodeGroupTags): Record<string, string> {
  return {
    [ASG_TAG.cluster]: t.cluster,
    [ASG_TAG.nodeGroup]: t.nodeGroup,
    [ASG_TAG.instanceType]: t.instanceType,
    [ASG_TAG.kubeletVersion]: t.kubeletVersion,
    [ASG_TAG.labels]: JSON.stringify(t.labels),
    [ASG_TAG.taints]: JSON.stringify(t.taints),
  };
}

/** Returns undefined when the group does not carry the tags (not one of ours). */
export function decodeNodeGroupTags(tags: Record<string, string>): NodeGroupTags | undefined {
  const cluster = tags[ASG_TAG.cluster];
  const nodeGroup = tags[ASG_TAG.nodeGroup];
  const instanceType = tags[ASG_TAG.instanceType];
  const kubeletVersion = tags[ASG_TAG.kubeletVersion];
  if (!cluster || !nodeGroup || !instanceType || !kubeletVersion) return undefined;
  return {
    cluster,
    nodeGroup,
    instanceType,
    kubeletVersion,
    labels: JSON.parse(tags[ASG_TAG.labels] ?? "{}") as Record<string, string>,
    taints: JSON.parse(tags[ASG_TAG.taints] ?? "[]") as Taint[],
  };
}
