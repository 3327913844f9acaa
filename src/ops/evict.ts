import type { V1Pod } from "@kubernetes/client-node";
import { callOptions, type KubeClients } from "../kube/clients.js";
import { describeKubeError, isTransportError, statusCodeOf, statusOf } from "../kube/errors.js";
import { podKey } from "../kube/pods.js";
import { type PdbInfo, pdbsCovering } from "./pdb.js";

export type EvictOutcome =
  | { kind: "evicted" }
  /** The pod (this uid) no longer exists. */
  | { kind: "gone" }
  /** Refused by a disruption budget (429); retry later. */
  | { kind: "blocked"; message: string; pdbs: PdbInfo[] }
  | { kind: "failed"; message: string; retryable: boolean };

/**
 * One policy/v1 Eviction of one pod. The uid precondition makes sure a pod recreated
 * under the same name (StatefulSets) is never evicted by mistake. With dryRun the API
 * server runs every check (PDBs included) and changes nothing.
 */
export async function evictPod(
  kube: KubeClients,
  pod: V1Pod,
  signal: AbortSignal,
  opts: {
    dryRun?: boolean;
    gracePeriodSeconds?: number;
    /** Names the budgets behind a refusal (default: list the namespace's budgets now). */
    pdbsOf?: (pod: V1Pod, signal: AbortSignal) => Promise<PdbInfo[]>;
  } = {},
): Promise<EvictOutcome> {
  const name = pod.metadata?.name ?? "";
  const namespace = pod.metadata?.namespace ?? "default";
  const uid = pod.metadata?.uid;
  try {
    await kube.core.createNamespacedPodEviction(
      {
        name,
        namespace,
        dryRun: opts.dryRun ? "All" : undefined,
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name, namespace },
          deleteOptions: {
            ...(uid ? { preconditions: { uid } } : {}),
            ...(opts.gracePeriodSeconds !== undefined
              ? { gracePeriodSeconds: opts.gracePeriodSeconds }
              : {}),
          },
        },
      },
      callOptions(signal),
    );
    return { kind: "evicted" };
  } catch (err) {
    const code = statusCodeOf(err);
    if (code === 404) return { kind: "gone" };
    if (code === 409) {
      const message = statusOf(err)?.message ?? "conflict";
      // The uid precondition failed: the pod we meant is gone (a new one took its name).
      if (/precondition/i.test(message)) return { kind: "gone" };
      // Otherwise a write conflict on the budget between concurrent evictions: try again.
      return { kind: "failed", message: `evicting ${podKey(pod)}: ${message}`, retryable: true };
    }
    if (code === 429) {
      const message = statusOf(err)?.message ?? "refused by a disruption budget";
      const lookup = opts.pdbsOf ?? ((p: V1Pod, s: AbortSignal) => pdbsCovering(kube, p, s));
      const pdbs = await lookup(pod, signal).catch(() => []);
      return { kind: "blocked", message, pdbs };
    }
    const message = `evicting ${podKey(pod)}: ${describeKubeError(err)}`;
    const retryable =
      isTransportError(err) ||
      (err instanceof Error && err.name === "TimeoutError") ||
      (code !== undefined && code >= 500 && !/more than one PodDisruptionBudget/i.test(message));
    return { kind: "failed", message, retryable };
  }
}
