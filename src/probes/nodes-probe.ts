import type { V1Node } from "@kubernetes/client-node";
import type { Probe, ProbeResult } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import { LiveList } from "../kube/live-list.js";
import {
  describeSelector,
  type NodeGroupSelector,
  nodeLabelSelector,
  nodeMatches,
} from "../kube/node-selector.js";
import { nodeName, nodeReadiness } from "../kube/nodes.js";
import { ServerVersion } from "../kube/server-version.js";
import {
  formatMinor,
  type KubeVersion,
  kubeletSkew,
  MAX_KUBELET_MINORS_BEHIND,
  parseKubeVersion,
} from "../kube/versions.js";
import { observeSources } from "./cluster-probe.js";
import { listSome, plural } from "./report-changes.js";

export interface NodesExpectation {
  selector: NodeGroupSelector;
  /** Exactly this many nodes, all Ready; "absent": no node of the group may exist. */
  count: number | "absent";
  /** The kubelet minor the group must run ("1.33"); any other fails. Optional. */
  kubeletVersion?: string;
}

/**
 * The verdict on a group's nodes. `nodes` may contain nodes of other groups (they are
 * ignored); `controlPlane` is the API server's version.
 */
export function evaluateNodes(
  nodes: readonly V1Node[],
  exp: NodesExpectation,
  controlPlane: KubeVersion,
): ProbeResult {
  const group = nodes.filter((n) => nodeMatches(exp.selector, n));
  const desc = describeSelector(exp.selector);
  const names = group.map(nodeName).sort();

  if (exp.count === "absent" || exp.count === 0) {
    if (group.length === 0) return { ok: true, reason: `no nodes of ${desc} in the API` };
    return {
      ok: false,
      reason: `${plural(group.length, "node")} of ${desc} still in the API: ${listSome(names)}`,
    };
  }

  const expected = exp.count;
  if (group.length === 0) {
    return {
      ok: false,
      reason: `0/${expected} nodes of ${desc} Ready: no node matches ${nodeLabelSelector(exp.selector)}`,
    };
  }

  const problems: string[] = [];
  const warnings: string[] = [];
  const notReady = group
    .map((n) => ({ name: nodeName(n), r: nodeReadiness(n) }))
    .filter((x) => !x.r.ready)
    .sort((a, b) => a.name.localeCompare(b.name));
  const ready = group.length - notReady.length;
  if (notReady.length > 0) {
    problems.push(`not Ready: ${listSome(notReady.map((x) => `${x.name} (${x.r.reason})`))}`);
  }
  if (group.length < expected) {
    problems.push(`${plural(group.length, "node")} found, expected ${expected}`);
  }

  const versions = versionFindings(group, controlPlane, exp.kubeletVersion);
  problems.push(...versions.problems);
  warnings.push(...versions.warnings);

  const head =
    group.length > expected
      ? `${group.length} nodes of ${desc}, expected ${expected} (${ready} Ready)`
      : `${ready}/${expected} nodes of ${desc} Ready`;
  if (group.length > expected) problems.push(`${group.length - expected} more than expected`);
  const result: ProbeResult =
    problems.length === 0
      ? { ok: true, reason: `${head}, ${versions.summary}` }
      : { ok: false, reason: `${head}: ${problems.join("; ")}` };
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

function versionFindings(
  nodes: readonly V1Node[],
  cp: KubeVersion,
  expectedMinor: string | undefined,
): { problems: string[]; warnings: string[]; summary: string } {
  const problems: string[] = [];
  const warnings: string[] = [];
  // Group nodes by kubelet version so the reason stays short on big groups.
  const byVersion = new Map<string, string[]>();
  for (const n of nodes) {
    const v = n.status?.nodeInfo?.kubeletVersion ?? "unknown";
    // Appended in place: copying the list per node was quadratic at 1,000 nodes.
    const names = byVersion.get(v);
    if (names) names.push(nodeName(n));
    else byVersion.set(v, [nodeName(n)]);
  }
  const cpText = formatMinor(cp);
  const want = expectedMinor ? parseKubeVersion(expectedMinor) : undefined;
  for (const [text, names] of byVersion) {
    const v = parseKubeVersion(text);
    const on = `on ${listSome(names.sort(), 3)}`;
    const skew = kubeletSkew(v, cp);
    switch (skew.level) {
      case "newer":
        problems.push(`kubelet ${text} ${on} is newer than the control plane ${cpText}`);
        break;
      case "too-old":
        problems.push(
          `kubelet ${text} ${on} is more than ${MAX_KUBELET_MINORS_BEHIND} minors behind the control plane ${cpText}`,
        );
        break;
      case "behind":
        warnings.push(
          `kubelet ${text} ${on} is ${plural(skew.minors, "minor")} behind the control plane ${cpText}`,
        );
        break;
      case "unknown":
        warnings.push(`kubelet version "${text}" ${on} cannot be compared with the control plane`);
        break;
      case "ok":
        break;
    }
    if (want && (!v || v.major !== want.major || v.minor !== want.minor)) {
      problems.push(`kubelet ${text} ${on}, expected ${formatMinor(want)}`);
    }
  }
  const kubelets = [...byVersion.keys()]
    .map((t) => parseKubeVersion(t))
    .map((v) => (v ? formatMinor(v) : "?"));
  const distinct = [...new Set(kubelets)].sort();
  return {
    problems,
    warnings,
    summary: `kubelet ${distinct.join("/")} (control plane ${cpText})`,
  };
}

/** Watches the group's nodes (and reads /version once) and reports each new verdict. */
export function nodesProbe(kube: KubeClients, exp: NodesExpectation): Probe {
  return {
    observe: async (signal, report) => {
      const nodes = new LiveList<V1Node>(kube.kc, {
        path: "/api/v1/nodes",
        itemType: "V1Node",
        labelSelector: nodeLabelSelector(exp.selector),
      });
      const version = new ServerVersion(kube.kc);
      await observeSources(
        signal,
        report,
        `nodes of ${describeSelector(exp.selector)}`,
        [nodes, version],
        () => evaluateNodes(nodes.items(), exp, version.version!),
      );
    },
  };
}
