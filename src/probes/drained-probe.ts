import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { Probe, ProbeResult } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import { LiveList } from "../kube/live-list.js";
import {
  describeSelector,
  type NodeGroupSelector,
  nodeLabelSelector,
  nodeMatches,
} from "../kube/node-selector.js";
import { nodeName } from "../kube/nodes.js";
import { podEssentials } from "../kube/pod-essentials.js";
import { classifyForDrain, describePodState, podKey } from "../kube/pods.js";
import { observeSources } from "./cluster-probe.js";
import { listSomeOf, plural } from "./report-changes.js";

export interface DrainedExpectation {
  selector: NodeGroupSelector;
  /** Pass when no node matches (the group is already gone). Default: fail, it may be a typo. */
  passWhenNoNodes?: boolean;
}

/**
 * No pod a drain would evict (or that would block it) is left on the group's nodes.
 * DaemonSet pods, mirror pods and finished pods may stay, exactly as the drain leaves them.
 */
export function evaluateDrained(
  pods: readonly V1Pod[],
  nodes: readonly V1Node[],
  exp: DrainedExpectation,
): ProbeResult {
  const desc = describeSelector(exp.selector);
  const group = new Set(nodes.filter((n) => nodeMatches(exp.selector, n)).map(nodeName));
  if (group.size === 0) {
    return exp.passWhenNoNodes
      ? { ok: true, reason: `no nodes of ${desc}: nothing to drain` }
      : {
          ok: false,
          reason: `no nodes of ${desc}: no node matches ${nodeLabelSelector(exp.selector)}`,
        };
  }
  // Sorted by pod key and formatted only for the few shown (the same order as sorting the
  // formatted lines: pod names never hold characters below the space that follows them).
  const left: { key: string; pod: V1Pod; node: string }[] = [];
  let staying = 0;
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node || !group.has(node)) continue;
    const c = classifyForDrain(pod);
    if (c.kind === "skip") {
      staying++;
      continue;
    }
    left.push({ key: podKey(pod), pod, node });
  }
  left.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const nodesText = plural(group.size, "node");
  if (left.length === 0) {
    const stay = staying > 0 ? ` (${plural(staying, "DaemonSet/mirror pod")} stay)` : "";
    return { ok: true, reason: `no evictable pods on ${nodesText} of ${desc}${stay}` };
  }
  return {
    ok: false,
    reason: `${plural(left.length, "evictable pod")} left on ${nodesText} of ${desc}: ${listSomeOf(left, (l) => `${l.key} on ${l.node} (${describePodState(l.pod)})`, 3)}`,
  };
}

/** Watches all unfinished pods and the group's nodes. */
export function drainedProbe(kube: KubeClients, exp: DrainedExpectation): Probe {
  return {
    observe: async (signal, report) => {
      const pods = new LiveList<V1Pod>(kube.kc, {
        path: "/api/v1/pods",
        itemType: "V1Pod",
        fieldSelector: "status.phase!=Succeeded,status.phase!=Failed",
        project: podEssentials,
      });
      const nodes = new LiveList<V1Node>(kube.kc, {
        path: "/api/v1/nodes",
        itemType: "V1Node",
        labelSelector: nodeLabelSelector(exp.selector),
      });
      await observeSources(
        signal,
        report,
        `drain of ${describeSelector(exp.selector)}`,
        [pods, nodes],
        () => evaluateDrained(pods.items(), nodes.items(), exp),
      );
    },
  };
}
