import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { Probe, ProbeResult } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import { LiveList } from "../kube/live-list.js";
import { describeSelector, type NodeGroupSelector, nodeMatches } from "../kube/node-selector.js";
import { describeNodePlacement } from "../kube/nodes.js";
import { podEssentials } from "../kube/pod-essentials.js";
import { describePodState, isPodFinished, isPodReady, isPodTerminating } from "../kube/pods.js";
import { observeSources } from "./cluster-probe.js";
import { listSomeOf, plural } from "./report-changes.js";

export interface PlacementExpectation {
  namespace: string;
  /** Label selector of the pods, e.g. "app=nginx-ing-cntlr". */
  podSelector: string;
  /** What the pods are called in reasons ("nginx"); defaults to the selector. */
  label?: string;
  /** The nodes every pod must run on. */
  on: NodeGroupSelector;
  /** Exactly this many pods (the Deployment's replicas). Optional. */
  count?: number;
}

/**
 * Every (unfinished) pod of the selector is Running and Ready on a node of the expected
 * group, and none is anywhere else — terminating pods included, since they still carry
 * traffic until they are gone.
 */
export function evaluatePlacement(
  pods: readonly V1Pod[],
  nodesByName: ReadonlyMap<string, V1Node>,
  exp: PlacementExpectation,
): ProbeResult {
  const label = exp.label ?? exp.podSelector;
  const where = describeSelector(exp.on);
  const live = pods.filter((p) => !isPodFinished(p));
  if (live.length === 0) {
    return {
      ok: false,
      reason: `no ${label} pods: nothing matches ${exp.podSelector} in namespace ${exp.namespace}`,
    };
  }
  // Categorised first, formatted only for the few a reason shows (5,000 pods per verdict).
  let good = 0;
  const elsewhere: { pod: V1Pod; nodeName: string; node: V1Node | undefined }[] = [];
  const notReady: V1Pod[] = [];
  for (const pod of [...live].sort(byName)) {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      notReady.push(pod);
      continue;
    }
    const node = nodesByName.get(nodeName);
    if (!node || !nodeMatches(exp.on, node)) {
      elsewhere.push({ pod, nodeName, node });
      continue;
    }
    if (isPodTerminating(pod) || pod.status?.phase !== "Running" || !isPodReady(pod)) {
      notReady.push(pod);
      continue;
    }
    good++;
  }
  const expected = exp.count ?? live.length;
  const head = `${good}/${expected} ${label} pods Ready on ${where}`;
  const problems: string[] = [];
  const nameOf = (pod: V1Pod) => pod.metadata?.name ?? "?";
  if (elsewhere.length > 0) {
    const fmt = (e: (typeof elsewhere)[number]) =>
      `${nameOf(e.pod)} on ${e.nodeName} (${describeNodePlacement(e.node)})${isPodTerminating(e.pod) ? " Terminating" : ""}`;
    problems.push(`elsewhere: ${listSomeOf(elsewhere, fmt, 3)}`);
  }
  if (notReady.length > 0) {
    problems.push(
      `not Ready: ${listSomeOf(notReady, (pod) => `${nameOf(pod)} ${describePodState(pod)}`, 3)}`,
    );
  }
  if (exp.count !== undefined && live.length !== exp.count) {
    problems.push(`${plural(live.length, "pod")} found, expected ${exp.count}`);
  }
  if (problems.length === 0) return { ok: true, reason: head };
  return { ok: false, reason: `${head}; ${problems.join("; ")}` };
}

// Code-point order, not localeCompare: the same order for pod names (lower-case ASCII) at a
// fraction of the cost, which matters when 5,000 pods are sorted per verdict.
function byName(a: V1Pod, b: V1Pod): number {
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

export function indexNodes(nodes: readonly V1Node[]): Map<string, V1Node> {
  return new Map(nodes.map((n) => [n.metadata?.name ?? "", n]));
}

/** Watches the pods of the selector and all nodes (to know each pod's group). */
export function placementProbe(kube: KubeClients, exp: PlacementExpectation): Probe {
  return {
    observe: async (signal, report) => {
      const pods = new LiveList<V1Pod>(kube.kc, {
        path: `/api/v1/namespaces/${encodeURIComponent(exp.namespace)}/pods`,
        itemType: "V1Pod",
        labelSelector: exp.podSelector,
        project: podEssentials,
      });
      const nodes = new LiveList<V1Node>(kube.kc, { path: "/api/v1/nodes", itemType: "V1Node" });
      // The node index is rebuilt only when a node changed, not on every pod event.
      let index = new Map<string, V1Node>();
      let indexed = -1;
      await observeSources(
        signal,
        report,
        `${exp.label ?? exp.podSelector} placement`,
        [pods, nodes],
        () => {
          if (indexed !== nodes.version) {
            index = indexNodes(nodes.items());
            indexed = nodes.version;
          }
          return evaluatePlacement(pods.items(), index, exp);
        },
      );
    },
  };
}
