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
  const known = new Set<string>();
  let gone = 0;
  const say = (message: string) =>
    progress({ done: gone, total: Math.max(known.size, gone), message });
  const report = await drainNodes(t.kube, nodes, signal, {
    ...t.options,
    onEvent: (e) => {
      switch (e.type) {
        case "cordoned":
          say(`cordoned ${e.nodes.join(", ")}`);
          break;
        case "planned":
          for (const p of e.pods) known.add(p);
          say(`${e.pods.length} pods to evict`);
          break;
        case "evicting":
          known.add(e.pod);
          break;
        case "blocked": {
          const pdb = e.pdbs
            .map((p) => `${p.name} (disruptionsAllowed ${p.disruptionsAllowed})`)
            .join(", ");
          say(
            `${e.pod} refused${pdb ? ` by PDB ${pdb}` : `: ${e.message}`}; retry in ${(e.retryInMs / 1000).toFixed(1)}s`,
          );
          break;
        }
        case "evicted":
          say(`evicted ${e.pod}`);
          break;
        case "gone":
          gone++;
          say(`${e.pod} gone from ${e.node}`);
          break;
        case "node-drained":
          say(`${e.node} drained in ${(e.durationMs / 1000).toFixed(1)}s`);
          break;
      }
    },
  });
  return {
    summary: `drained ${nodes.length} node${nodes.length === 1 ? "" : "s"} of ${desc}: ${report.evicted} pods evicted in ${(report.durationMs / 1000).toFixed(1)}s (${report.pdbRetries} PDB retries)`,
    details: {
      nodes: report.nodes.map((n) => ({
        node: n.node,
        evicted: n.evicted,
        durationMs: n.durationMs,
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
