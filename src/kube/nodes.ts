import type { V1Node } from "@kubernetes/client-node";
import { INSTANCE_TYPE_LABEL, NODE_GROUP_LABEL } from "../infra/workload-names.js";

export function nodeName(node: V1Node): string {
  return node.metadata?.name ?? "";
}

export interface NodeReadiness {
  ready: boolean;
  /** The Ready condition's reason (or why there is none), when not Ready. */
  reason?: string;
}

// The node lifecycle controller taints a node that is not (or no longer) Ready and removes the
// taint a moment after the Ready condition turns True; until then the scheduler places nothing
// there. A new node counts as ready only without these taints ("Taint based evictions" and
// "Taint Nodes by Condition" in https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/).
const CONDITION_TAINTS = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

export function nodeReadiness(node: V1Node): NodeReadiness {
  const cond = node.status?.conditions?.find((c) => c.type === "Ready");
  if (!cond) return { ready: false, reason: "no Ready condition yet" };
  if (cond.status === "True") {
    const taint = node.spec?.taints?.find((t) => CONDITION_TAINTS.includes(t.key));
    if (!taint) return { ready: true };
    return { ready: false, reason: `Ready, still tainted ${taint.key}` };
  }
  const reason = cond.reason ?? (cond.status === "Unknown" ? "NodeStatusUnknown" : "NotReady");
  return { ready: false, reason };
}

export function nodeGroupOf(node: V1Node): string | undefined {
  return node.metadata?.labels?.[NODE_GROUP_LABEL];
}

export function instanceTypeOf(node: V1Node): string | undefined {
  return node.metadata?.labels?.[INSTANCE_TYPE_LABEL];
}

/** "group old, t3.2xlarge" — how a node is named in reasons. */
export function describeNodePlacement(node: V1Node | undefined): string {
  if (!node) return "node not in the API";
  const parts = [
    nodeGroupOf(node) ? `group ${nodeGroupOf(node)}` : undefined,
    instanceTypeOf(node),
  ];
  const known = parts.filter((p): p is string => p !== undefined);
  return known.length ? known.join(", ") : "no group label";
}
