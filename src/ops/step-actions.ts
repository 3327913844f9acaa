import type { ActionOutcome, ActionPreview, ActionProgress } from "../engine/ports.js";
import type { StepAction } from "../engine/step.js";
import type { MigrationSpec } from "../infra/spec.js";
import type { KubeClients } from "../kube/clients.js";
import { describeSelector, type NodeGroupSelector } from "../kube/node-selector.js";
import { nodeName } from "../kube/nodes.js";
import { uncordonNodes } from "./cordon.js";
import { checkNodesForDeletion, deleteGroupNodes, deletePreview } from "./delete-nodes.js";
import { type DrainOptions, drainNodes } from "./drain.js";
import { drainPlanPreview, planDrain } from "./drain-preview.js";
import { DrainProgress } from "./drain-progress.js";
import { listGroupNodes } from "./group-nodes.js";

// The ops as runbook step actions. The engine's context type is not known here, so each
// factory takes a function that picks the clients and the group out of (ctx, spec).

export interface GroupTarget {
  kube: KubeClients;
  selector: NodeGroupSelector;
}

export interface DrainTarget extends GroupTarget {
  options?: Omit<DrainOptions, "onEvent">;
}

/** Drain: preview = server-side dry-run evictions; run = cordon + evict + wait; undo = uncordon. */
export function drainStepAction<C>(
  target: (ctx: C, spec: MigrationSpec) => DrainTarget,
): StepAction<C, MigrationSpec> {
  return {
    preview: (ctx, spec, signal) => previewDrain(target(ctx, spec), signal),
    run: (ctx, spec, signal, progress) => runDrain(target(ctx, spec), signal, progress),
    undo: (ctx, spec, signal) => uncordonGroup(target(ctx, spec), signal),
  };
}

/** What a drain would do (server-side dry-run evictions), changing nothing. */
export async function previewDrain(t: DrainTarget, signal: AbortSignal): Promise<ActionPreview> {
  return drainPlanPreview(await planDrain(t.kube, t.selector, signal, { force: t.options?.force }));
}

/** Undoes the cordon of a drain. */
export async function uncordonGroup(t: GroupTarget, signal: AbortSignal): Promise<ActionOutcome> {
  const nodes = (await listGroupNodes(t.kube, t.selector, signal)).map(nodeName);
  const { changed } = await uncordonNodes(t.kube, nodes, signal);
  return {
    summary: `uncordoned ${changed.length} node${changed.length === 1 ? "" : "s"} of ${describeSelector(t.selector)}`,
    details: { nodes: changed },
  };
}

/** Runs the drain of a group, turning drain events into the engine's progress lines. */
export async function runDrain(
  t: DrainTarget,
  signal: AbortSignal,
  progress: (p: ActionProgress) => void,
): Promise<ActionOutcome> {
  const desc = describeSelector(t.selector);
  const nodes = (await listGroupNodes(t.kube, t.selector, signal)).map(nodeName);
  if (nodes.length === 0) {
    return { summary: `no nodes of ${desc}: nothing to drain`, details: { nodes: [] } };
  }
  const summary = new DrainProgress(progress);
  let report: Awaited<ReturnType<typeof drainNodes>>;
  try {
    report = await drainNodes(t.kube, nodes, signal, {
      ...t.options,
      onEvent: (e) => summary.on(e),
    });
  } finally {
    summary.close();
  }
  return {
    summary: `drained ${nodes.length} node${nodes.length === 1 ? "" : "s"} of ${desc}: ${report.evicted} pods evicted in ${(report.durationMs / 1000).toFixed(1)}s (${report.pdbRetries} PDB retries)`,
    details: {
      // Per node counts, not pod names: at 300 nodes × 5,000 pods the journal stays small.
      nodes: report.nodes.map((n) => ({
        node: n.node,
        evicted: n.evicted.length,
        durationMs: n.durationMs,
        healthMs: n.healthMs,
      })),
      evicted: report.evicted,
      pdbRetries: report.pdbRetries,
      durationMs: report.durationMs,
    },
  };
}

/** Delete nodes: the preview names each node (and blocks undrained ones). */
export async function previewDeleteNodes(
  t: GroupTarget,
  signal: AbortSignal,
): Promise<ActionPreview> {
  return deletePreview(t.selector, await checkNodesForDeletion(t.kube, t.selector, signal));
}

/** Deletes the group's Node objects (refusing nodes that still carry evictable pods). */
export async function deleteNodesOfGroup(
  t: GroupTarget,
  signal: AbortSignal,
): Promise<ActionOutcome> {
  const { deleted } = await deleteGroupNodes(t.kube, t.selector, signal);
  const desc = describeSelector(t.selector);
  return {
    summary: deleted.length
      ? `deleted ${deleted.length} node${deleted.length === 1 ? "" : "s"} of ${desc}`
      : `no nodes of ${desc} left to delete`,
    details: { nodes: deleted },
  };
}
