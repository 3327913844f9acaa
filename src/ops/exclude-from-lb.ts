import type { ActionOutcome } from "../engine/ports.js";
import { callOptions, type KubeClients } from "../kube/clients.js";
import { statusCodeOf } from "../kube/errors.js";
import { describeSelector, type NodeGroupSelector } from "../kube/node-selector.js";
import { nodeName } from "../kube/nodes.js";
import { listGroupNodes } from "./group-nodes.js";
import { apiFailure } from "./ops-error.js";

// Takes a group's nodes out of every load balancer that uses instance (node) targets before
// they are drained: the well-known label node.kubernetes.io/exclude-from-external-load-balancers
// makes the cloud's service controller and the AWS Load Balancer Controller deregister the
// nodes (https://kubernetes.io/docs/reference/labels-annotations-taints/#node-kubernetes-io-exclude-from-external-load-balancers).
// A cordon alone does not: since Kubernetes 1.19 unschedulable nodes stay in the LB, so a
// drained node would keep receiving NodePort traffic until it disappears. With IP targets
// (this project's NLB) the label changes nothing for the ingress, and it still protects any
// other instance-target load balancer on the cluster.

export const EXCLUDE_FROM_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

/** "~1" escapes "/" in a JSON-patch path. */
const LABEL_PATH = `/metadata/labels/${EXCLUDE_FROM_LB_LABEL.replace(/~/g, "~0").replace(/\//g, "~1")}`;

export async function setExcludedFromLoadBalancers(
  kube: KubeClients,
  selector: NodeGroupSelector,
  excluded: boolean,
  signal: AbortSignal,
): Promise<ActionOutcome> {
  const nodes = await listGroupNodes(kube, selector, signal);
  const changed: string[] = [];
  await Promise.all(
    nodes.map(async (node) => {
      const name = nodeName(node);
      const has = node.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined;
      if (has === excluded) return;
      try {
        await kube.core.patchNode(
          {
            name,
            body: excluded
              ? [{ op: "add", path: LABEL_PATH, value: "true" }]
              : [{ op: "remove", path: LABEL_PATH }],
          },
          callOptions(signal),
        );
        changed.push(name);
      } catch (err) {
        if (statusCodeOf(err) === 404) return;
        throw apiFailure(`labelling node ${name} ${EXCLUDE_FROM_LB_LABEL}`, err);
      }
    }),
  );
  changed.sort();
  const verb = excluded ? "excluded from" : "returned to";
  return {
    summary: `${changed.length} node(s) of ${describeSelector(selector)} ${verb} external load balancers`,
    details: { nodes: changed },
  };
}
