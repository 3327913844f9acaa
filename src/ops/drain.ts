import type { V1Pod } from "@kubernetes/client-node";
import { AbortedError, errorMessage, InputError } from "../engine/errors.js";
import { Backoff, type BackoffOptions, sleep } from "../kube/backoff.js";
import type { KubeClients } from "../kube/clients.js";
import { LiveList } from "../kube/live-list.js";
import { podEssentials } from "../kube/pod-essentials.js";
import { classifyForDrain, describePodState, isPodTerminating, podKey } from "../kube/pods.js";
import { cordonNodes } from "./cordon.js";
import { evictPod } from "./evict.js";
import { listNodePods } from "./group-nodes.js";
import { API_CONCURRENCY, concurrencyLimit, forEachBounded, mapBounded } from "./limit.js";
import { DrainBlockedError, type DrainBlocker, OperationError } from "./ops-error.js";
import { describePdb, type PdbInfo, PdbWatch } from "./pdb.js";
import { WorkloadHealth, type WorkloadRef, workloadKey } from "./workload-health.js";

/** A caller's verdict before the next node is drained (the runbook passes the traffic gate's). */
export type BetweenNodesCheck = (signal: AbortSignal) => Promise<{ ok: boolean; reason: string }>;

export interface DrainOptions {
  /** Nodes drained at once (default 1, as kubectl: a workload without a PDB loses at most one node's pods at a time). */
  nodeParallelism?: number;
  /** Eviction requests in flight at once, across nodes (default 16). */
  podParallelism?: number;
  /** Give up on a node after this long (default 5 min); also bounds the health wait after it. */
  nodeTimeoutMs?: number;
  /**
   * Give up on the whole drain after this long. Default: as long as every node may take
   * (node timeout for the drain plus node timeout for the health check, plus the pause,
   * per round of `nodeParallelism` nodes), so a big group is never cut short by a fixed cap.
   */
  timeoutMs?: number;
  /** Pause after a node is drained and healthy, before the next one (default 0). */
  pauseMs?: number;
  /**
   * Before the next node: wait until the Deployments/StatefulSets whose pods were evicted
   * have their ready replicas back at the desired count (default true).
   */
  waitForWorkloads?: boolean;
  /** Before the next node: the caller's health check must say ok (retried until the node timeout). */
  betweenNodes?: BetweenNodesCheck;
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
  | { type: "planned"; pods: string[]; nodes: number }
  | { type: "node-started"; node: string }
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
  | { type: "node-drained"; node: string; durationMs: number; evicted: number }
  /** Waiting for health before the next node: what is not healthy yet. */
  | { type: "health-waiting"; node: string; unhealthy: string[] }
  | { type: "healthy"; node: string; durationMs: number }
  | { type: "pausing"; node: string; ms: number };

export interface NodeDrainReport {
  node: string;
  evicted: string[];
  skipped: string[];
  pdbRetries: number;
  durationMs: number;
  /** Time spent waiting for health (and the pause) after the node. */
  healthMs: number;
}

export interface DrainReport {
  nodes: NodeDrainReport[];
  durationMs: number;
  evicted: number;
  pdbRetries: number;
}

type ResolvedDrainOptions = Omit<DrainOptions, "timeoutMs"> &
  Required<
    Pick<
      DrainOptions,
      | "nodeParallelism"
      | "podParallelism"
      | "nodeTimeoutMs"
      | "pauseMs"
      | "pdbBackoff"
      | "maxErrorRetries"
    >
  > & { timeoutMs: number | undefined };

const DEFAULTS = {
  nodeParallelism: 1,
  podParallelism: 16,
  nodeTimeoutMs: 5 * 60_000,
  pauseMs: 0,
  pdbBackoff: { initialMs: 250, maxMs: 5_000 },
  maxErrorRetries: 5,
} satisfies Partial<DrainOptions>;

export const DRAIN_HINT =
  "The nodes stay cordoned. Fix what is named above (a PodDisruptionBudget that allows no disruption usually means its pods are not Ready elsewhere), then retry the step; roll back to uncordon them.";

/** The whole drain's bound when none is given: every node may use its full timeouts. */
export function defaultDrainTimeoutMs(
  nodes: number,
  o: { nodeTimeoutMs: number; nodeParallelism: number; pauseMs: number },
): number {
  const rounds = Math.max(1, Math.ceil(nodes / o.nodeParallelism));
  return rounds * (2 * o.nodeTimeoutMs + o.pauseMs);
}

/**
 * Cordons the nodes, then evicts every evictable pod through the Eviction API (DaemonSet,
 * mirror and finished pods stay), `nodeParallelism` nodes at a time, retrying
 * disruption-budget refusals with back-off; between nodes it waits until the evicted
 * workloads are Ready again and the caller's check passes, then pauses. Watches, not polls,
 * tell it when a pod is gone and when a workload is healthy. Throws DrainBlockedError naming
 * the pods and budgets in the way, AbortedError when the signal aborts.
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
  const timeoutMs = opts.timeoutMs ?? defaultDrainTimeoutMs(nodes.length, opts);
  const overall = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  // Shared watches for the whole drain: budgets (to name them on refusals) and workloads
  // (health between nodes). They stop when the drain ends.
  const watches = new AbortController();
  const watchSignal = AbortSignal.any([overall, watches.signal]);
  const pdbs = new PdbWatch(kube);
  const health =
    opts.waitForWorkloads !== false && nodes.length > opts.nodeParallelism
      ? new WorkloadHealth(kube)
      : undefined;
  const running = [pdbs.run(watchSignal), health?.run(watchSignal)];

  try {
    // Only the keys of the pods to evict are kept: the drain itself re-lists each node when
    // it gets there, and holding every node's full pod objects for the whole drain (tens of
    // megabytes at 5,000 pods) would only serve this one event.
    let planned: string[];
    try {
      if (opts.cordon !== false && nodes.length > 0) {
        await cordonNodes(kube, nodes, overall);
        emit({ type: "cordoned", nodes: [...nodes] });
      }
      const perNode = await mapBounded(nodes, API_CONCURRENCY, async (n) =>
        (await listNodePods(kube, n, overall))
          .filter((p) => classifyForDrain(p, { force: opts.force }).kind !== "skip")
          .map(podKey),
      );
      planned = perNode.flat();
    } catch (err) {
      if (signal.aborted) throw new AbortedError("drain interrupted");
      throw err;
    }
    emit({ type: "planned", pods: planned.sort(), nodes: nodes.length });

    const evictions = concurrencyLimit(opts.podParallelism);
    const reports: NodeDrainReport[] = [];
    let failure: unknown;
    const stopAll = new AbortController();
    const runSignal = AbortSignal.any([overall, stopAll.signal]);
    let startedNodes = 0;
    await forEachBounded(
      nodes,
      opts.nodeParallelism,
      async (node) => {
        startedNodes++;
        try {
          const ctx: NodeContext = { kube, opts, evictions, emit, pdbs, health };
          const report = await drainOneNode(ctx, node, runSignal);
          reports.push(report);
          // Health and pause only between nodes: after the last one the step's gates judge.
          if (startedNodes < nodes.length && !runSignal.aborted) {
            report.healthMs = await healthBeforeNext(ctx, node, report, runSignal);
          }
        } catch (err) {
          failure ??= err;
          stopAll.abort();
        }
      },
      () => failure !== undefined || runSignal.aborted,
    );

    if (signal.aborted) throw new AbortedError("drain interrupted");
    if (failure instanceof OperationError && overall.aborted) {
      const blockers = failure instanceof DrainBlockedError ? failure.blockers : [];
      throw new DrainBlockedError(
        `drain did not finish within ${Math.round(timeoutMs / 1000)}s: ${failure.message}`,
        DRAIN_HINT,
        blockers,
        failure.details,
      );
    }
    if (failure) throw failure;
    if (overall.aborted) {
      throw new DrainBlockedError(
        `drain did not finish within ${Math.round(timeoutMs / 1000)}s`,
        DRAIN_HINT,
        [],
      );
    }
    reports.sort((a, b) => a.node.localeCompare(b.node));
    return {
      nodes: reports,
      durationMs: Math.round(performance.now() - started),
      evicted: reports.reduce((n, r) => n + r.evicted.length, 0),
      pdbRetries: reports.reduce((n, r) => n + r.pdbRetries, 0),
    };
  } finally {
    watches.abort();
    await Promise.all(running);
  }
}

function resolveOptions(options: DrainOptions): ResolvedDrainOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const opts: ResolvedDrainOptions = { ...DEFAULTS, timeoutMs: undefined, ...given };
  const positive = ["nodeParallelism", "podParallelism", "nodeTimeoutMs"] as const;
  for (const field of [...positive, "timeoutMs"] as const) {
    const v = opts[field];
    if (v === undefined && field === "timeoutMs") continue;
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new InputError(
        `drain option ${field} must be a positive integer, got ${v}`,
        `Set ${field} to 1 or more.`,
      );
    }
  }
  for (const field of ["maxErrorRetries", "pauseMs"] as const) {
    const v = opts[field];
    if (!Number.isInteger(v) || v < 0) {
      throw new InputError(
        `drain option ${field} must be 0 or more, got ${v}`,
        `Set ${field} to 0 or more.`,
      );
    }
  }
  return opts;
}

interface NodeContext {
  kube: KubeClients;
  opts: ResolvedDrainOptions;
  evictions: ReturnType<typeof concurrencyLimit>;
  emit: (e: DrainEvent) => void;
  pdbs: PdbWatch;
  health: WorkloadHealth | undefined;
}

interface Tracked {
  pod: V1Pod;
  lastRefusal?: string;
  pdbs: PdbInfo[];
  gone: boolean;
}

/** What the node's drain left for the health check: the owners of the evicted pods. */
const evictedOwners = new WeakMap<
  NodeDrainReport,
  { owners: WorkloadRef[]; marks: Map<string, string> }
>();

async function drainOneNode(
  ctx: NodeContext,
  node: string,
  outer: AbortSignal,
): Promise<NodeDrainReport> {
  const { kube, opts, evictions, emit } = ctx;
  const started = performance.now();
  emit({ type: "node-started", node });
  const finished = new AbortController();
  const nodeTimeout = AbortSignal.timeout(opts.nodeTimeoutMs);
  const nodeSignal = AbortSignal.any([outer, nodeTimeout, finished.signal]);
  // Eviction requests are not cut short when the node turns out drained: the API server
  // deletes a pod before it answers, so the watch may see it gone first, and the answer
  // still says who evicted it.
  const requestSignal = AbortSignal.any([outer, nodeTimeout]);
  const loops: Promise<void>[] = [];
  const report: NodeDrainReport = {
    node,
    evicted: [],
    skipped: [],
    pdbRetries: 0,
    durationMs: 0,
    healthMs: 0,
  };
  const skipped = new Set<string>();
  const tracked = new Map<string, Tracked>();
  const owners = new Map<string, WorkloadRef>();
  const marks = new Map<string, string>();
  let failure: OperationError | undefined;
  let drained = false;

  const fail = (e: OperationError) => {
    failure ??= e;
    finished.abort();
  };

  // The owner is looked up before the eviction, and its status marked again after each
  // accepted eviction, so the health check can tell a status that counted the last
  // eviction from one that did not yet (a status back at 4/4 after the first of two
  // evictions must not pass for the second).
  const noteOwner = async (pod: V1Pod): Promise<WorkloadRef | undefined> => {
    if (!ctx.health) return undefined;
    const w = await ctx.health.ownerOf(pod, requestSignal).catch(() => undefined);
    if (w && !owners.has(workloadKey(w))) owners.set(workloadKey(w), w);
    return w;
  };
  const markEvicted = (w: WorkloadRef | undefined) => {
    if (!w || !ctx.health) return;
    const current = ctx.health.mark([w]).get(workloadKey(w));
    if (current === undefined) marks.delete(workloadKey(w));
    else marks.set(workloadKey(w), current);
  };

  const evictUntilAccepted = async (t: Tracked) => {
    const key = podKey(t.pod);
    const backoff = new Backoff(opts.pdbBackoff);
    let errors = 0;
    const owner = await noteOwner(t.pod);
    emit({ type: "evicting", node, pod: key });
    while (!nodeSignal.aborted) {
      const out = await evictions(() =>
        evictPod(kube, t.pod, requestSignal, {
          gracePeriodSeconds: opts.gracePeriodSeconds,
          pdbsOf: (p, s) => ctx.pdbs.covering(p, s),
        }),
      );
      if (requestSignal.aborted) return;
      // Drained (or failed) meanwhile: only a success is still worth recording.
      if (out.kind !== "evicted" && nodeSignal.aborted) return;
      switch (out.kind) {
        case "evicted":
          markEvicted(owner);
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
          t.pdbs = out.pdbs;
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
              new DrainBlockedError(`cannot drain node ${node}: ${out.message}`, DRAIN_HINT, [
                { node, pod: key, message: out.message, pdbs: [] },
              ]),
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
    project: podEssentials,
  });

  // Evaluated on every change of the node's pods: start evicting newcomers, notice the
  // ones that left, finish when no evictable pod is left. Linear in the node's pods.
  const onChange = () => {
    if (drained || failure || !pods.synced) return;
    const present = new Set<string>();
    let remaining = 0;
    for (const pod of pods.values()) {
      const uid = pod.metadata?.uid ?? podKey(pod);
      present.add(uid);
      const c = classifyForDrain(pod, { force: opts.force });
      if (c.kind === "skip") {
        skipped.add(podKey(pod));
        continue;
      }
      if (c.kind === "block") {
        const message = `pod ${podKey(pod)} is ${c.why}`;
        fail(
          new DrainBlockedError(`cannot drain node ${node}: ${message}`, DRAIN_HINT, [
            { node, pod: podKey(pod), message: c.why, pdbs: [] },
          ]),
        );
        return;
      }
      remaining++;
      const known = tracked.get(uid);
      if (!known) {
        const t: Tracked = { pod, gone: false, pdbs: [] };
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
        known.pod = pod;
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
    report.skipped = [...skipped].sort();
    evictedOwners.set(report, { owners: [...owners.values()], marks });
    emit({
      type: "node-drained",
      node,
      durationMs: report.durationMs,
      evicted: report.evicted.length,
    });
    return report;
  }
  if (failure) throw failure;
  // Stopped from outside or by the node's own timeout: say what is left and why, the pods
  // a budget refused first.
  const left = [...tracked.values()]
    .filter((t) => !t.gone)
    .sort((a, b) => Number(b.lastRefusal !== undefined) - Number(a.lastRefusal !== undefined));
  const blockers: DrainBlocker[] = left.map((t) => ({
    node,
    pod: podKey(t.pod),
    message: t.lastRefusal ?? describePodState(t.pod),
    pdbs: t.pdbs.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      disruptionsAllowed: p.disruptionsAllowed,
    })),
  }));
  const lines = left.map((t) => {
    const why = t.lastRefusal ? `: ${t.lastRefusal}` : ` (${describePodState(t.pod)})`;
    return `${podKey(t.pod)}${why}`;
  });
  const shown = lines.length > 3 ? [...lines.slice(0, 3), `and ${lines.length - 3} more`] : lines;
  const apiNote = pods.error ? `; API: ${pods.error}` : "";
  const what = `${shown.join("; ") || "its pods were never listed"}${apiNote}`;
  if (outer.aborted) {
    throw new DrainBlockedError(`drain of node ${node} stopped: ${what}`, DRAIN_HINT, blockers, {
      node,
    });
  }
  throw new DrainBlockedError(
    `node ${node} not drained within ${Math.round(opts.nodeTimeoutMs / 1000)}s: ${what}`,
    DRAIN_HINT,
    blockers,
    { node, left: left.length },
  );
}

/**
 * After a node: the evicted workloads Ready again, then the caller's check (retried with
 * back-off), then the pause; all bounded by the node timeout. Returns the time it took.
 */
async function healthBeforeNext(
  ctx: NodeContext,
  node: string,
  report: NodeDrainReport,
  signal: AbortSignal,
): Promise<number> {
  const started = performance.now();
  const bound = AbortSignal.any([signal, AbortSignal.timeout(ctx.opts.nodeTimeoutMs)]);
  const seconds = Math.round(ctx.opts.nodeTimeoutMs / 1000);
  const evicted = evictedOwners.get(report);
  if (ctx.health && evicted && evicted.owners.length > 0) {
    let lastKey = "";
    const unhealthy = await ctx.health.waitHealthy(evicted.owners, evicted.marks, bound, (u) => {
      const key = u.join("|");
      if (key === lastKey) return;
      lastKey = key;
      ctx.emit({ type: "health-waiting", node, unhealthy: u });
    });
    if (signal.aborted) return 0;
    if (unhealthy.length > 0) {
      throw new DrainBlockedError(
        `after node ${node}, workloads not Ready again within ${seconds}s: ${unhealthy.slice(0, 3).join(", ")}${unhealthy.length > 3 ? ` and ${unhealthy.length - 3} more` : ""}`,
        "The nodes stay cordoned. The evicted pods' replacements did not become Ready (capacity on the new group? image? probes?); fix that, then retry the step, or roll back to uncordon.",
        [],
        { node, unhealthy },
      );
    }
  }
  if (ctx.opts.betweenNodes) {
    const backoff = new Backoff({ initialMs: 500, maxMs: 5_000 });
    let verdict = { ok: false, reason: "not checked" };
    while (!bound.aborted) {
      verdict = await ctx.opts.betweenNodes(bound).catch((err: unknown) => ({
        ok: false,
        reason: `health check failed: ${errorMessage(err)}`,
      }));
      if (verdict.ok) break;
      ctx.emit({ type: "health-waiting", node, unhealthy: [verdict.reason] });
      await sleep(backoff.next(), bound);
    }
    if (signal.aborted) return 0;
    if (!verdict.ok) {
      throw new DrainBlockedError(
        `after node ${node}, the health check did not pass within ${seconds}s: ${verdict.reason}`,
        "The nodes stay cordoned. Find out why the check fails (the traffic pane says which requests fail), then retry the step, or roll back to uncordon.",
        [],
        { node },
      );
    }
  }
  ctx.emit({ type: "healthy", node, durationMs: Math.round(performance.now() - started) });
  if (ctx.opts.pauseMs > 0) {
    ctx.emit({ type: "pausing", node, ms: ctx.opts.pauseMs });
    await sleep(ctx.opts.pauseMs, signal);
  }
  return Math.round(performance.now() - started);
}
