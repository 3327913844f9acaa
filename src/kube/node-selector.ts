import type { V1Node } from "@kubernetes/client-node";
import { INSTANCE_TYPE_LABEL, NODE_GROUP_LABEL } from "../infra/workload-names.js";

/**
 * Which nodes make up a group: by the group label every node carries (exact), or by
 * instance type (what the tutorial's affinity uses; several groups may share a type).
 */
export type NodeGroupSelector =
  | { group: string }
  | { instanceTypes: readonly string[] }
  /** Any node labels (your own stack: `eks.amazonaws.com/nodegroup`, `karpenter.sh/nodepool`). */
  | { labels: Readonly<Record<string, string>> };

/** The API label selector for the group's nodes. */
export function nodeLabelSelector(sel: NodeGroupSelector): string {
  if ("group" in sel) return `${NODE_GROUP_LABEL}=${sel.group}`;
  if ("labels" in sel)
    return Object.entries(sel.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  return `${INSTANCE_TYPE_LABEL} in (${sel.instanceTypes.join(",")})`;
}

export function nodeMatches(sel: NodeGroupSelector, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  if ("group" in sel) return labels[NODE_GROUP_LABEL] === sel.group;
  if ("labels" in sel) return Object.entries(sel.labels).every(([k, v]) => labels[k] === v);
  const t = labels[INSTANCE_TYPE_LABEL];
  return t !== undefined && sel.instanceTypes.includes(t);
}

/** "group new" or "c5.4xlarge" / "c5.4xlarge|m5.large" — for reasons. */
export function describeSelector(sel: NodeGroupSelector): string {
  if ("group" in sel) return `group ${sel.group}`;
  if ("labels" in sel) return nodeLabelSelector(sel);
  return sel.instanceTypes.join("|");
}
