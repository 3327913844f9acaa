import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { callOptions, type KubeClients } from "../kube/clients.js";
import { type NodeGroupSelector, nodeLabelSelector } from "../kube/node-selector.js";
import { apiFailure } from "./ops-error.js";

/** The nodes of a group, by name order. */
export async function listGroupNodes(
  kube: KubeClients,
  selector: NodeGroupSelector,
  signal: AbortSignal,
): Promise<V1Node[]> {
  try {
    const list = await kube.core.listNode(
      { labelSelector: nodeLabelSelector(selector) },
      callOptions(signal),
    );
    return list.items.sort((a, b) =>
      (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
    );
  } catch (err) {
    throw apiFailure("listing the group's nodes", err);
  }
}

/** The pods bound to one node (any namespace). */
export async function listNodePods(
  kube: KubeClients,
  node: string,
  signal: AbortSignal,
): Promise<V1Pod[]> {
  try {
    const list = await kube.core.listPodForAllNamespaces(
      { fieldSelector: `spec.nodeName=${node}` },
      callOptions(signal),
    );
    return list.items;
  } catch (err) {
    throw apiFailure(`listing the pods on node ${node}`, err);
  }
}
