import type { V1Pod } from "@kubernetes/client-node";
import { AbortedError, errorMessage, InputError } from "../engine/errors.js";
import { Backoff, type BackoffOptions, sleep } from "../kube/backoff.js";
import type { KubeClients } from "../kube/clients.js";
import { LiveList } from "../kube/live-list.js";
import { classifyForDrain, describePodState, isPodTerminating, podKey } from "../kube/pods.js";
import { cordonNodes } from "./cordon.js";
import { evictPod } from "./evict.js";
import { listNodePods } from "./group-nodes.js";
import { OperationError } from "./ops-error.js";
import { describePdb, type PdbInfo } from "./pdb.js";
import { forEachBounded, Semaphore } from "./semaphore.js";

export interface DrainOptions {
  /** Nodes drained at once (default 1, as kubectl: a workload without a PDB loses at most one node's pods at a time). */
  nodeParallelism?: number;
  /** Eviction requests in flight at once, across nodes (default 16). */
  podParallelism?: number;
  /** Give up on a node after this long (default 5 min). */
  nodeTimeoutMs?: number;
  /** Give up on the whole drain after this long (default 15 min). */
  timeoutMs?: number;
  /** Back-off between evictions a disruption budget refused (default 250 ms doubling to 5 s). */
  pdbBackoff?: BackoffOptions;
  /** Consecutive transport/5xx errors tolerated per pod (default 5). */
  maxErrorRetries?: number;
  /** Also evict pods no controller would recreate. */
  force?: boolean;
  /** Overrides each pod's termination grace period. */
  gracePeriodSeconds?: number;
  /** Cordon every target node before evicting anything (default true). */
  cordon?: boolean;
  onEvent?: (e: DrainEvent) => void;
}

export type DrainEvent =
  | { type: "cordoned"; nodes: string[] }
  /** Evictable pods found on the target nodes before the first eviction. */
  | { type: "planned"; pods: string[] }
  | { type: "evicting"; node: string; pod: string }
  | {
      type: "blocked";
      node: string;
      pod: string;
      message: string;
      pdbs: PdbInfo[];
      attempt: number;
      retryInMs: number;
    }
  /** A transient API error (conflict, 5xx, transport); retried, bounded by maxErrorRetries. */
  | {
      type: "retrying";
      node: string;
      pod: string;
      message: string;
      attempt: number;
      retryInMs: number;
    }
  | { type: "evicted"; node: string; pod: string }
  /** The pod has left the node (deleted after its grace period). */
  | { type: "gone"; node: string; pod: string }
  | { type: "node-drained"; node: string; durationMs: number; evicted: number };

export interface NodeDrainReport {
  node: string;
  evicted: string[];
  skipped: string[];
  pdbRetries: number;
  durationMs: number;
}

export interface DrainReport {
  nodes: NodeDrainReport[];
  durationMs: number;
  evicted: number;
  pdbRetries: number;
}

type ResolvedDrainOptions = DrainOptions &
  Required<
    Pick<
      DrainOptions,
      | "nodeParallelism"
      | "podParallelism"
      | "nodeTimeoutMs"
      | "timeoutMs"
      | "pdbBackoff"
      | "maxErrorRetries"
    >
  >;

const DEFAULTS = {
  nodeParallelism: 1,
  podParallelism: 16,
  nodeTimeoutMs: 5 * 60_000,
  timeoutMs: 15 * 60_000,
  pdbBackoff: { initialMs: 250, maxMs: 5_000 },
  maxErrorRetries: 5,
} satisfies Partial<DrainOptions>;

const DRAIN_HINT =
  "The nodes stay cordoned. Fix what is named above (a PodDisruptionBudget that allows no disruption usually means its pods are not Ready elsewhere), then retry the step; roll back to uncordon them.";

/**
 * Cordons the nodes, then evicts every evictable pod through the Eviction API (DaemonSet,
 * mirror and finished pods stay), retrying disruption-budget refusals with back-off, and
 * returns once the evicted pods are gone from the nodes. Watches, not polls, tell it when
 * a pod is gone. Throws OperationError naming what is left and why, AbortedError when the
 * signal aborts.
 */
export async function drainNodes(
  kube: KubeClients,
  nodes: readonly string[],
  signal: AbortSignal,
  options: DrainOptions = {},
): Promise<DrainReport> {
  const opts = resolveOptions(options);
  const emit = (e: DrainEvent) => {
    try {
      options.onEvent?.(e);
    } catch {
      // A listener's bug must not break the drain.
    }
  };
  const started = performance.now();
  const overall = AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]);

  let initial: V1Pod[][];
  try {
    if (opts.cordon !== false && nodes.length > 0) {
      await cordonNodes(kube, nodes, overall);
      emit({ type: "cordoned", nodes: [...nodes] });
    }
    initial = await Promise.all(nodes.map((n) => listNodePods(kube, n, overall)));
  } catch (err) {
    if (signal.aborted) throw new AbortedError("drain interrupted");
    throw err;
  }
  emit({
    type: "planned",
    pods: initial
      .flat()
      .filter((p) => classifyForDrain(p, { force: opts.force }).kind !== "skip")
      .map(podKey)
      .sort(),
  });

  const evictions = new Semaphore(opts.podParallelism);
  const reports: NodeDrainReport[] = [];
  let failure: unknown;
  const stopAll = new AbortController();
  const runSignal = AbortSignal.any([overall, stopAll.signal]);
  await forEachBounded(
    nodes,
    opts.nodeParallelism,
    async (node) => {
      try {
        reports.push(await drainOneNode(kube, node, runSignal, opts, evictions, emit));
      } catch (err) {
        failure ??= err;
        stopAll.abort();
      }
    },
    () => failure !== undefined || runSignal.aborted,
  );

  if (signal.aborted) throw new AbortedError("drain interrupted");
  if (failure instanceof OperationError && overall.aborted && !signal.aborted) {
    throw new OperationError(
      `drain did not finish within ${Math.round(opts.timeoutMs / 1000)}s: ${failure.message}`,
      DRAIN_HINT,
      failure.details,
    );
  }
  if (failure) throw failure;
  if (overall.aborted) {
    throw new OperationError(
      `drain did not finish within ${Math.round(opts.timeoutMs / 1000)}s`,
      DRAIN_HINT,
    );
  }
  reports.sort((a, b) => a.node.localeCompare(b.node));
  return {
    nodes: reports,
    durationMs: Math.round(performance.now() - started),
    evicted: reports.reduce((n, r) => n + r.evicted.length, 0),
    pdbRetries: reports.reduce((n, r) => n + r.pdbRetries, 0),
  };
}

function resolveOptions(options: DrainOptions): ResolvedDrainOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const opts: ResolvedDrainOptions = { ...DEFAULTS, ...given };
  for (const field of [
    "nodeParallelism",
    "podParallelism",
    "nodeTimeoutMs",
    "timeoutMs",
  ] as const) {
    const v = opts[field];
    if (!Number.isInteger(v) || v < 1) {
      throw new InputError(
        `drain option ${field} must be a positive integer, got ${v}`,
        `Set ${field} to 1 or more.`,
      );
    }
  }
  if (!Number.isInteger(opts.maxErrorRetries) || opts.maxErrorRetries < 0) {
    throw new InputError(
      `drain option maxErrorRetries must be 0 or more, got ${opts.maxErrorRetries}`,
      "Set maxErrorRetries to 0 or more.",
    );
  }
  return opts;
}

interface Tracked {
  pod: V1Pod;
  lastRefusal?: string;
  gone: boolean;
}

async function drainOneNode(
  kube: KubeClients,
  node: string,
  outer: AbortSignal,
  opts: ResolvedDrainOptions,
  evictions: Semaphore,
  emit: (e: DrainEvent) => void,
): Promise<NodeDrainReport> {
  const started = performance.now();
  const finished = new AbortController();
  const nodeTimeout = AbortSignal.timeout(opts.nodeTimeoutMs);
  const nodeSignal = AbortSignal.any([outer, nodeTimeout, finished.signal]);
  // Eviction requests are not cut short when the node turns out drained: the API server
  // deletes a pod before it answers, so the watch may see it gone first, and the answer
  // still says who evicted it.
  const requestSignal = AbortSignal.any([outer, nodeTimeout]);
  const loops: Promise<void>[] = [];
  const report: NodeDrainReport = { node, evicted: [], skipped: [], pdbRetries: 0, durationMs: 0 };
  const tracked = new Map<string, Tracked>();
  let failure: OperationError | undefined;
  let drained = false;

  const fail = (e: OperationError) => {
    failure ??= e;
    finished.abort();
  };

  const evictUntilAccepted = async (t: Tracked) => {
    const key = podKey(t.pod);
    const backoff = new Backoff(opts.pdbBackoff);
    let errors = 0;
    emit({ type: "evicting", node, pod: key });
    while (!nodeSignal.aborted) {
      const out = await evictions.run(() =>
        evictPod(kube, t.pod, requestSignal, { gracePeriodSeconds: opts.gracePeriodSeconds }),
      );
      if (requestSignal.aborted) return;
      // Drained (or failed) meanwhile: only a success is still worth recording.
      if (out.kind !== "evicted" && nodeSignal.aborted) return;
      switch (out.kind) {
        case "evicted":
          report.evicted.push(key);
          emit({ type: "evicted", node, pod: key });
          return;
        case "gone":
          return;
        case "blocked": {
          report.pdbRetries++;
          const delay = backoff.next();
          const pdbText = out.pdbs.length ? `; PDB ${out.pdbs.map(describePdb).join(", ")}` : "";
          t.lastRefusal = `${out.message}${pdbText}`;
          emit({
            type: "blocked",
            node,
            pod: key,
            message: out.message,
            pdbs: out.pdbs,
            attempt: backoff.attempt,
            retryInMs: delay,
          });
          await sleep(delay, nodeSignal);
          break;
        }
        case "failed":
          if (!out.retryable || ++errors > opts.maxErrorRetries) {
            fail(
              new OperationError(`cannot drain node ${node}: ${out.message}`, DRAIN_HINT, {
                node,
                pod: key,
              }),
            );
            return;
          }
          t.lastRefusal = out.message;
          {
            const delay = backoff.next();
            emit({
              type: "retrying",
              node,
              pod: key,
              message: out.message,
              attempt: errors,
              retryInMs: delay,
            });
            await sleep(delay, nodeSignal);
          }
          break;
      }
    }
  };

  const pods = new LiveList<V1Pod>(kube.kc, {
    path: "/api/v1/pods",
    itemType: "V1Pod",
    fieldSelector: `spec.nodeName=${node}`,
  });

  // Evaluated on every change of the node's pods: start evicting newcomers, notice the
  // ones that left, finish when no evictable pod is left.
  const onChange = () => {
    if (drained || failure || !pods.synced) return;
    const present = new Set<string>();
    let remaining = 0;
    for (const pod of pods.items()) {
      const uid = pod.metadata?.uid ?? podKey(pod);
      present.add(uid);
      const c = classifyForDrain(pod, { force: opts.force });
      if (c.kind === "skip") {
        if (!report.skipped.includes(podKey(pod))) report.skipped.push(podKey(pod));
        continue;
      }
      if (c.kind === "block") {
        fail(
          new OperationError(
            `cannot drain node ${node}: pod ${podKey(pod)} is ${c.why}`,
            DRAIN_HINT,
            {
              node,
              pod: podKey(pod),
            },
          ),
        );
        return;
      }
      remaining++;
      if (!tracked.has(uid)) {
        const t: Tracked = { pod, gone: false };
        tracked.set(uid, t);
        // A pod already terminating needs no eviction, only waiting.
        if (!isPodTerminating(pod)) {
          loops.push(
            evictUntilAccepted(t).catch((err: unknown) =>
              fail(
                new OperationError(`cannot drain node ${node}: ${errorMessage(err)}`, DRAIN_HINT),
              ),
            ),
          );
        }
      } else {
        tracked.get(uid)!.pod = pod;
      }
    }
    for (const [uid, t] of tracked) {
      if (!t.gone && !present.has(uid)) {
        t.gone = true;
        emit({ type: "gone", node, pod: podKey(t.pod) });
      }
    }
    if (remaining === 0) {
      drained = true;
      finished.abort();
    }
  };

  await pods.run(nodeSignal, onChange);
  await Promise.all(loops);

  if (drained) {
    report.durationMs = Math.round(performance.now() - started);
    report.evicted.sort();
    report.skipped.sort();
    emit({
      type: "node-drained",
      node,
      durationMs: report.durationMs,
      evicted: report.evicted.length,
    });
    return report;
  }
  if (failure) throw failure;
  // Stopped from outside or by the node's own timeout: say what is left and why.
  const left = [...tracked.values()]
    .filter((t) => !t.gone)
    .map((t) => {
      const why = t.lastRefusal ? `: ${t.lastRefusal}` : ` (${describePodState(t.pod)})`;
      return `${podKey(t.pod)}${why}`;
    });
  const apiNote = pods.error ? `; API: ${pods.error}` : "";
  const what = `${left.join("; ") || "its pods were never listed"}${apiNote}`;
  if (outer.aborted) {
    throw new OperationError(`drain of node ${node} stopped: ${what}`, DRAIN_HINT, { node });
  }
  throw new OperationError(
    `node ${node} not drained within ${Math.round(opts.nodeTimeoutMs / 1000)}s: ${what}`,
    DRAIN_HINT,
    { node, left: left.length },
  );
}
