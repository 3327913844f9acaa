import { callOptions, type KubeClients } from "../kube/clients.js";
import { statusCodeOf } from "../kube/errors.js";
import { API_CONCURRENCY, mapBounded } from "./limit.js";
import { apiFailure } from "./ops-error.js";

/**
 * Marks nodes (un)schedulable. JSON patch "add" sets the field whether or not it exists.
 * Nodes that no longer exist are skipped (returned in `missing`), so undo after a delete
 * does not fail. At most API_CONCURRENCY patches are in flight (1,000 nodes are 1,000 patches).
 */
export async function setUnschedulable(
  kube: KubeClients,
  nodes: readonly string[],
  unschedulable: boolean,
  signal: AbortSignal,
): Promise<{ changed: string[]; missing: string[] }> {
  const changed: string[] = [];
  const missing: string[] = [];
  await mapBounded(nodes, API_CONCURRENCY, async (name) => {
    try {
      await kube.core.patchNode(
        { name, body: [{ op: "add", path: "/spec/unschedulable", value: unschedulable }] },
        callOptions(signal),
      );
      changed.push(name);
    } catch (err) {
      if (statusCodeOf(err) === 404) {
        missing.push(name);
        return;
      }
      throw apiFailure(`${unschedulable ? "cordoning" : "uncordoning"} node ${name}`, err);
    }
  });
  return { changed: changed.sort(), missing: missing.sort() };
}

export const cordonNodes = (kube: KubeClients, nodes: readonly string[], signal: AbortSignal) =>
  setUnschedulable(kube, nodes, true, signal);

export const uncordonNodes = (kube: KubeClients, nodes: readonly string[], signal: AbortSignal) =>
  setUnschedulable(kube, nodes, false, signal);
