import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { ActionPreview, ActionPreviewItem } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import { describeSelector, type NodeGroupSelector } from "../kube/node-selector.js";
import { nodeName } from "../kube/nodes.js";
import { classifyForDrain, podKey } from "../kube/pods.js";
import { evictPod } from "./evict.js";
import { listGroupNodes, listNodePods } from "./group-nodes.js";
import { describePdb, listPdbs, type PdbInfo, pdbsSelecting } from "./pdb.js";
import { Semaphore } from "./semaphore.js";

export interface DrainPlanPod {
  pod: string;
  node: string;
  action: "evict" | "block" | "skip";
  /** Why it is skipped or blocked, or warnings for an eviction. */
  detail?: string;
  pdbs?: PdbInfo[];
}

export interface DrainPlan {
  selector: NodeGroupSelector;
  nodes: string[];
  pods: DrainPlanPod[];
  /** Budgets that let fewer pods go at once than the drain would evict: they serialise it. */
  serialisedBy: { pdb: PdbInfo; pods: number }[];
}

/**
 * What a drain of the group would do, changing nothing: each candidate pod gets a
 * server-side dry-run eviction (dryRun=All), which runs the API server's real checks,
 * disruption budgets included. Dry runs do not consume a budget, so the plan also names
 * budgets that would make the real drain evict their pods one after another.
 */
export async function planDrain(
  kube: KubeClients,
  selector: NodeGroupSelector,
  signal: AbortSignal,
  opts: { force?: boolean; parallelism?: number } = {},
): Promise<DrainPlan> {
  const nodes = await listGroupNodes(kube, selector, signal);
  const names = nodes.map(nodeName);
  const podsByNode = await Promise.all(names.map((n) => listNodePods(kube, n, signal)));
  const sem = new Semaphore(opts.parallelism ?? 16);
  const candidates: { pod: V1Pod; node: string }[] = [];
  const plan: DrainPlanPod[] = [];
  names.forEach((node, i) => {
    for (const pod of podsByNode[i] ?? []) {
      const c = classifyForDrain(pod, { force: opts.force });
      if (c.kind === "skip") plan.push({ pod: podKey(pod), node, action: "skip", detail: c.why });
      else if (c.kind === "block")
        plan.push({ pod: podKey(pod), node, action: "block", detail: c.why });
      else candidates.push({ pod, node });
    }
  });

  // One read of the budgets per namespace; evictPod reads them again only on a refusal.
  const pdbsByNamespace = new Map<string, Promise<V1PodDisruptionBudget[]>>();
  const coveringOf = async (pod: V1Pod) => {
    const ns = pod.metadata?.namespace ?? "default";
    let p = pdbsByNamespace.get(ns);
    if (!p) {
      p = listPdbs(kube, ns, signal).catch(() => []);
      pdbsByNamespace.set(ns, p);
    }
    return pdbsSelecting(await p, pod);
  };

  const checked = await Promise.all(
    candidates.map(({ pod, node }) =>
      sem.run(async (): Promise<DrainPlanPod> => {
        const warnings = classifyForDrain(pod, { force: opts.force });
        const warn =
          warnings.kind === "evict" && warnings.warnings.length
            ? warnings.warnings.join(", ")
            : undefined;
        const out = await evictPod(kube, pod, signal, { dryRun: true });
        const pdbs = await coveringOf(pod);
        switch (out.kind) {
          case "evicted":
            return { pod: podKey(pod), node, action: "evict", detail: warn, pdbs };
          case "gone":
            return { pod: podKey(pod), node, action: "skip", detail: "already gone" };
          case "blocked":
            return { pod: podKey(pod), node, action: "block", detail: out.message, pdbs: out.pdbs };
          case "failed":
            return { pod: podKey(pod), node, action: "block", detail: out.message, pdbs };
        }
      }),
    ),
  );
  plan.push(...checked);
  plan.sort((a, b) => a.node.localeCompare(b.node) || a.pod.localeCompare(b.pod));

  // Budgets covering more evictions than they allow at once.
  const perPdb = new Map<string, { pdb: PdbInfo; pods: number }>();
  for (const p of plan) {
    if (p.action !== "evict" && p.action !== "block") continue;
    for (const pdb of p.pdbs ?? []) {
      const k = `${pdb.namespace}/${pdb.name}`;
      const e = perPdb.get(k) ?? { pdb, pods: 0 };
      e.pods++;
      perPdb.set(k, e);
    }
  }
  const serialisedBy = [...perPdb.values()].filter((e) => e.pods > e.pdb.disruptionsAllowed);
  return { selector, nodes: names, pods: plan, serialisedBy };
}

/** The plan as the engine's ActionPreview. */
export function drainPlanPreview(plan: DrainPlan): ActionPreview {
  const desc = describeSelector(plan.selector);
  if (plan.nodes.length === 0) {
    return { summary: `no nodes of ${desc}: nothing to drain`, items: [] };
  }
  const items: ActionPreviewItem[] = plan.nodes.map((n) => ({ kind: "cordon", target: n }));
  for (const p of plan.pods) {
    const pdbText = p.pdbs?.length ? `PDB ${p.pdbs.map(describePdb).join(", ")}` : undefined;
    const detail = [p.detail, p.action === "skip" ? undefined : pdbText].filter(Boolean).join("; ");
    items.push({ kind: p.action, target: `${p.pod} on ${p.node}`, ...(detail ? { detail } : {}) });
  }
  const count = (a: DrainPlanPod["action"]) => plan.pods.filter((p) => p.action === a).length;
  const blocked = count("block");
  const parts = [
    `cordon ${plan.nodes.length} node${plan.nodes.length === 1 ? "" : "s"} of ${desc}`,
    `evict ${count("evict")} pod${count("evict") === 1 ? "" : "s"}`,
    blocked ? `${blocked} would block` : undefined,
    count("skip") ? `${count("skip")} stay (DaemonSet/mirror/finished)` : undefined,
    ...plan.serialisedBy.map(
      (s) =>
        `PDB ${s.pdb.namespace}/${s.pdb.name} allows ${s.pdb.disruptionsAllowed} of its ${s.pods} pods here to go now: the rest wait for replacements to be Ready`,
    ),
  ].filter(Boolean);
  return { summary: parts.join(", "), items };
}
