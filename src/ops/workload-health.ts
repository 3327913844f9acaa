import type { V1Deployment, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { sleep } from "../kube/backoff.js";
import { callOptions, type KubeClients } from "../kube/clients.js";
import { LiveList } from "../kube/live-list.js";
import { controllerOf } from "../kube/pods.js";

// Health between nodes: the workloads whose pods a node's drain evicted have their ready
// replicas back at the desired count before the next node is drained, so a workload
// without a (strict) PodDisruptionBudget never loses two nodes' worth of pods at once.
// Deployments and StatefulSets are watched cluster-wide (one watch each, not one per
// workload or per node) and evaluated from the cache.

export interface WorkloadRef {
  kind: "Deployment" | "StatefulSet";
  namespace: string;
  name: string;
}

export const workloadKey = (w: WorkloadRef) => `${w.kind}/${w.namespace}/${w.name}`;

interface Readiness {
  ready: number;
  desired: number;
  /** The controller has seen the latest spec. */
  observed: boolean;
  resourceVersion: string;
}

/** A workload's readiness from its status, or undefined when it no longer exists. */
export function readinessOf(obj: V1Deployment | V1StatefulSet): Readiness {
  return {
    ready: obj.status?.readyReplicas ?? 0,
    desired: obj.spec?.replicas ?? 1,
    observed: (obj.status?.observedGeneration ?? 0) >= (obj.metadata?.generation ?? 0),
    resourceVersion: obj.metadata?.resourceVersion ?? "",
  };
}

/**
 * Whether one workload is healthy again. `mark` is its resourceVersion when its pods were
 * evicted: its status must have moved since (the controller has counted the evictions), or
 * `settled` is true (enough time passed for a status that never changed to be trusted).
 */
export function workloadHealthy(
  r: Readiness | undefined,
  mark: string | undefined,
  settled: boolean,
): boolean {
  if (!r) return true; // deleted meanwhile: nothing left to wait for
  if (!r.observed || r.ready < r.desired) return false;
  // No mark (the watch had not synced when the pod was evicted): only time can tell.
  return settled || (mark !== undefined && r.resourceVersion !== mark);
}

/** How long a workload's unchanged status is distrusted after its pods were evicted. */
export const STATUS_SETTLE_MS = 2_000;

export class WorkloadHealth {
  readonly #kube: KubeClients;
  readonly #deployments: LiveList<V1Deployment>;
  readonly #statefulSets: LiveList<V1StatefulSet>;
  readonly #listeners = new Set<() => void>();
  /** ReplicaSet "ns/name" → its Deployment's name (or null: no Deployment owns it). */
  readonly #rsOwner = new Map<string, Promise<string | null>>();

  constructor(kube: KubeClients) {
    this.#kube = kube;
    this.#deployments = new LiveList(kube.kc, {
      path: "/apis/apps/v1/deployments",
      itemType: "V1Deployment",
    });
    this.#statefulSets = new LiveList(kube.kc, {
      path: "/apis/apps/v1/statefulsets",
      itemType: "V1StatefulSet",
    });
  }

  /** Watches until the signal aborts. */
  run(signal: AbortSignal): Promise<void> {
    const changed = () => {
      for (const l of this.#listeners) l();
    };
    return Promise.all([
      this.#deployments.run(signal, changed),
      this.#statefulSets.run(signal, changed),
    ]).then(() => undefined);
  }

  /** The Deployment or StatefulSet that owns the pod (through its ReplicaSet), if any. */
  async ownerOf(pod: V1Pod, signal: AbortSignal): Promise<WorkloadRef | undefined> {
    const c = controllerOf(pod);
    const namespace = pod.metadata?.namespace ?? "default";
    if (!c) return undefined;
    if (c.kind === "StatefulSet") return { kind: "StatefulSet", namespace, name: c.name };
    if (c.kind !== "ReplicaSet") return undefined;
    const key = `${namespace}/${c.name}`;
    let owner = this.#rsOwner.get(key);
    if (!owner) {
      owner = this.#kube.apps
        .readNamespacedReplicaSet({ name: c.name, namespace }, callOptions(signal))
        .then((rs) => {
          const d = controllerOf(rs as V1Pod);
          return d?.kind === "Deployment" ? d.name : null;
        })
        .catch(() => {
          // A ReplicaSet we cannot read: fall back to the Deployment naming convention
          // (ReplicaSet = "<deployment>-<pod-template-hash>").
          const hash = pod.metadata?.labels?.["pod-template-hash"];
          return hash && c.name.endsWith(`-${hash}`) ? c.name.slice(0, -hash.length - 1) : null;
        });
      this.#rsOwner.set(key, owner);
    }
    const name = await owner;
    return name ? { kind: "Deployment", namespace, name } : undefined;
  }

  #readiness(w: WorkloadRef): Readiness | undefined {
    const list = w.kind === "Deployment" ? this.#deployments : this.#statefulSets;
    const obj = list.get(`${w.namespace}/${w.name}`);
    return obj ? readinessOf(obj) : undefined;
  }

  /** The current resourceVersion of each workload (to mark them when their pods go). */
  mark(ws: Iterable<WorkloadRef>): Map<string, string> {
    const out = new Map<string, string>();
    for (const w of ws) {
      const r = this.#readiness(w);
      if (r) out.set(workloadKey(w), r.resourceVersion);
    }
    return out;
  }

  /** Not-yet-healthy workloads, "apps/web 3/4 ready", sorted. */
  unhealthy(ws: Iterable<WorkloadRef>, marks: Map<string, string>, settled: boolean): string[] {
    const out: string[] = [];
    for (const w of ws) {
      const r = this.#readiness(w);
      if (!workloadHealthy(r, marks.get(workloadKey(w)), settled)) {
        const counts = r ? `${r.ready}/${r.desired} ready` : "not seen yet";
        out.push(
          `${w.kind === "Deployment" ? "deployment" : "statefulset"} ${w.namespace}/${w.name} ${counts}`,
        );
      }
    }
    return out.sort();
  }

  /**
   * Resolves once every workload is healthy again (see workloadHealthy), or the signal
   * aborts; returns what is still unhealthy (empty when healthy). Watches, not polls: it
   * re-evaluates on every change of a Deployment or StatefulSet.
   */
  async waitHealthy(
    ws: readonly WorkloadRef[],
    marks: Map<string, string>,
    signal: AbortSignal,
    onWaiting?: (unhealthy: string[]) => void,
  ): Promise<string[]> {
    if (ws.length === 0) return [];
    const started = Date.now();
    let settled = false;
    let last: string[] = [];
    const done = new AbortController();
    const check = () => {
      if (!this.#deployments.synced || !this.#statefulSets.synced) {
        last = ["workload watches not synced yet"];
        return;
      }
      last = this.unhealthy(ws, marks, settled);
      if (last.length === 0) done.abort();
      else onWaiting?.(last);
    };
    this.#listeners.add(check);
    try {
      check();
      const both = AbortSignal.any([signal, done.signal]);
      await sleep(Math.max(0, STATUS_SETTLE_MS - (Date.now() - started)), both);
      settled = true;
      check();
      if (!done.signal.aborted)
        await new Promise<void>((r) => {
          if (both.aborted) r();
          else both.addEventListener("abort", () => r(), { once: true });
        });
      return done.signal.aborted ? [] : last;
    } finally {
      this.#listeners.delete(check);
    }
  }
}
