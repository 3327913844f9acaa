import type { ActionPreview } from "../engine/ports.js";
import { callOptions, type KubeClients } from "../kube/clients.js";
import { statusCodeOf } from "../kube/errors.js";
import { describeSelector, type NodeGroupSelector } from "../kube/node-selector.js";
import { nodeName } from "../kube/nodes.js";
import { classifyForDrain, podKey } from "../kube/pods.js";
import { listGroupNodes, listNodePods } from "./group-nodes.js";
import { API_CONCURRENCY, mapBounded } from "./limit.js";
import { apiFailure, OperationError } from "./ops-error.js";

export interface NodeDeletionCheck {
  node: string;
  /** Pods a drain would have evicted that are still on the node. */
  undrained: string[];
}

/** The group's nodes and, for each, what is still on it that a drain would have moved. */
export async function checkNodesForDeletion(
  kube: KubeClients,
  selector: NodeGroupSelector,
  signal: AbortSignal,
): Promise<NodeDeletionCheck[]> {
  const nodes = (await listGroupNodes(kube, selector, signal)).map(nodeName);
  return mapBounded(nodes, API_CONCURRENCY, async (node) => ({
    node,
    undrained: (await listNodePods(kube, node, signal))
      .filter((p) => classifyForDrain(p, { force: true }).kind !== "skip")
      .map(podKey)
      .sort(),
  }));
}

export function deletePreview(
  selector: NodeGroupSelector,
  checks: readonly NodeDeletionCheck[],
): ActionPreview {
  const desc = describeSelector(selector);
  if (checks.length === 0) return { summary: `no nodes of ${desc}: nothing to delete`, items: [] };
  const blocked = checks.filter((c) => c.undrained.length > 0);
  return {
    summary:
      `delete ${checks.length} node${checks.length === 1 ? "" : "s"} of ${desc}` +
      (blocked.length ? `; ${blocked.length} not drained (would block)` : ""),
    items: checks.map((c) =>
      c.undrained.length
        ? { kind: "block", target: c.node, detail: `not drained: ${listFew(c.undrained)}` }
        : { kind: "delete", target: c.node },
    ),
  };
}

/**
 * Deletes the Node objects of the group. Refuses while a node still carries pods a drain
 * would have evicted (deleting the node would kill them without their budgets), unless
 * `allowUndrained`. Nodes already gone count as deleted.
 */
export async function deleteGroupNodes(
  kube: KubeClients,
  selector: NodeGroupSelector,
  signal: AbortSignal,
  opts: { allowUndrained?: boolean } = {},
): Promise<{ deleted: string[] }> {
  const checks = await checkNodesForDeletion(kube, selector, signal);
  const undrained = checks.filter((c) => c.undrained.length > 0);
  if (undrained.length > 0 && !opts.allowUndrained) {
    throw new OperationError(
      `not deleting nodes of ${describeSelector(selector)}: ${undrained
        .slice(0, 5)
        .map((c) => `${c.node} still runs ${listFew(c.undrained)}`)
        .join("; ")}${undrained.length > 5 ? `; and ${undrained.length - 5} more nodes` : ""}`,
      "Drain the nodes first (the previous step), then retry.",
      { undrained: undrained.map((c) => c.node) },
    );
  }
  await mapBounded(checks, API_CONCURRENCY, async ({ node }) => {
    try {
      await kube.core.deleteNode({ name: node }, callOptions(signal));
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw apiFailure(`deleting node ${node}`, err);
    }
  });
  return { deleted: checks.map((c) => c.node) };
}

/** "a, b, c and 12 more": a node with hundreds of pods left stays one line. */
function listFew(items: readonly string[], max = 5): string {
  return items.length <= max
    ? items.join(", ")
    : `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}
