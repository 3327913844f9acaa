import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { ActionPreview, ActionPreviewItem } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import { describeSelector, type NodeGroupSelector } from "../kube/node-selector.js";
import { nodeName } from "../kube/nodes.js";
import { classifyForDrain, podKey } from "../kube/pods.js";
import { evictPod } from "./evict.js";
import { listGroupNodes, listNodePods } from "./group-nodes.js";
import { API_CONCURRENCY, concurrencyLimit, mapBounded } from "./limit.js";
import { describePdb, listPdbs, type PdbInfo, pdbsSelecting } from "./pdb.js";

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
  const podsByNode = await mapBounded(names, API_CONCURRENCY, (n) => listNodePods(kube, n, signal));
  const limit = concurrencyLimit(opts.parallelism ?? API_CONCURRENCY);
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
      limit(async (): Promise<DrainPlanPod> => {
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

/** Above this many pods the preview lists groups, not one row per pod (blockers stay named). */
export const PREVIEW_POD_ROWS = 200;
/** Blocked pods named one by one in a summarised preview; the rest are counted. */
const BLOCKED_ROWS = 50;

/** The plan as the engine's ActionPreview: one row per pod for small groups, grouped at scale. */
export function drainPlanPreview(plan: DrainPlan): ActionPreview {
  const desc = describeSelector(plan.selector);
  if (plan.nodes.length === 0) {
    return { summary: `no nodes of ${desc}: nothing to drain`, items: [] };
  }
  const counts = { evict: 0, block: 0, skip: 0 };
  for (const p of plan.pods) counts[p.action]++;
  const items =
    plan.pods.length <= PREVIEW_POD_ROWS ? podRows(plan) : groupedRows(plan, counts.block);
  const parts = [
    `cordon ${plan.nodes.length} node${plan.nodes.length === 1 ? "" : "s"} of ${desc}`,
    `evict ${counts.evict} pod${counts.evict === 1 ? "" : "s"}`,
    counts.block ? `${counts.block} would block` : undefined,
    counts.skip ? `${counts.skip} stay (DaemonSet/mirror/finished)` : undefined,
    ...plan.serialisedBy.map(
      (s) =>
        `PDB ${s.pdb.namespace}/${s.pdb.name} allows ${s.pdb.disruptionsAllowed} of its ${s.pods} pods here to go now: the rest wait for replacements to be Ready`,
    ),
  ].filter(Boolean);
  return { summary: parts.join(", "), items };
}

function pdbText(p: DrainPlanPod): string | undefined {
  return p.pdbs?.length ? `PDB ${p.pdbs.map(describePdb).join(", ")}` : undefined;
}

function podRows(plan: DrainPlan): ActionPreviewItem[] {
  const items: ActionPreviewItem[] = plan.nodes.map((n) => ({ kind: "cordon", target: n }));
  for (const p of plan.pods) {
    const detail = [p.detail, p.action === "skip" ? undefined : pdbText(p)]
      .filter(Boolean)
      .join("; ");
    items.push({ kind: p.action, target: `${p.pod} on ${p.node}`, ...(detail ? { detail } : {}) });
  }
  return items;
}

/** Blockers first (named), then evictions and skips counted per namespace and budget. */
function groupedRows(plan: DrainPlan, blocked: number): ActionPreviewItem[] {
  const items: ActionPreviewItem[] = [];
  let named = 0;
  for (const p of plan.pods) {
    if (p.action !== "block" || named >= BLOCKED_ROWS) continue;
    named++;
    const detail = [p.detail, pdbText(p)].filter(Boolean).join("; ");
    items.push({ kind: "block", target: `${p.pod} on ${p.node}`, ...(detail ? { detail } : {}) });
  }
  if (blocked > named) {
    items.push({
      kind: "block",
      target: `${blocked - named} more pods`,
      detail: "would block too",
    });
  }
  const shown =
    plan.nodes.length > 6 ? [...plan.nodes.slice(0, 3), "…", ...plan.nodes.slice(-2)] : plan.nodes;
  items.push({ kind: "cordon", target: `${plan.nodes.length} nodes: ${shown.join(", ")}` });
  const groups = new Map<
    string,
    { kind: "evict" | "skip"; n: number; nodes: Set<string>; detail?: string }
  >();
  for (const p of plan.pods) {
    if (p.action === "block") continue;
    const ns = p.pod.split("/")[0] ?? "";
    const budgets = p.action === "evict" ? pdbText(p) : p.detail;
    const key = `${p.action}|${ns}|${budgets ?? ""}`;
    let g = groups.get(key);
    if (!g) {
      g = { kind: p.action, n: 0, nodes: new Set(), ...(budgets ? { detail: budgets } : {}) };
      groups.set(key, g);
    }
    g.n++;
    g.nodes.add(p.node);
  }
  for (const [key, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const ns = key.split("|")[1];
    items.push({
      kind: g.kind,
      target: `${g.n} pod${g.n === 1 ? "" : "s"} in namespace ${ns} on ${g.nodes.size} node${g.nodes.size === 1 ? "" : "s"}`,
      ...(g.detail ? { detail: g.detail } : {}),
    });
  }
  return items;
}
