import type { V1OwnerReference, V1Pod } from "@kubernetes/client-node";

// Facts about pods that the placement probe, the drain and its probe must agree on.

export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function isPodTerminating(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp != null;
}

/** Succeeded or Failed: the containers are gone, the object is only history. */
export function isPodFinished(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

export function controllerOf(pod: V1Pod): V1OwnerReference | undefined {
  return pod.metadata?.ownerReferences?.find((o) => o.controller === true);
}

/** Static pods appear in the API as mirror pods; evicting them does nothing. */
export function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
}

/** DaemonSet pods would be recreated on the same node at once (they tolerate cordons). */
export function isDaemonSetPod(pod: V1Pod): boolean {
  return controllerOf(pod)?.kind === "DaemonSet";
}

export function usesEmptyDir(pod: V1Pod): boolean {
  return pod.spec?.volumes?.some((v) => v.emptyDir !== undefined) ?? false;
}

export type DrainClass =
  | { kind: "skip"; why: "DaemonSet" | "mirror pod" | "finished" }
  | { kind: "evict"; warnings: string[] }
  | { kind: "block"; why: string };

/**
 * What a drain does with a pod, the same rules `kubectl drain --ignore-daemonsets
 * --delete-emptydir-data` applies, except that finished pods are left alone (their node
 * is about to go, and they hold no workload). Pods without a controller would not come
 * back after eviction, so they block unless `force` is set.
 */
export function classifyForDrain(pod: V1Pod, opts: { force?: boolean } = {}): DrainClass {
  if (isMirrorPod(pod)) return { kind: "skip", why: "mirror pod" };
  if (isDaemonSetPod(pod)) return { kind: "skip", why: "DaemonSet" };
  if (isPodFinished(pod)) return { kind: "skip", why: "finished" };
  const warnings: string[] = [];
  if (usesEmptyDir(pod)) warnings.push("emptyDir data is lost");
  if (!controllerOf(pod)) {
    if (!opts.force)
      return { kind: "block", why: "not managed by a controller: it would not come back" };
    warnings.push("not managed by a controller: it will not come back");
  }
  return { kind: "evict", warnings };
}

/** Ready-made short description: "apps/nginx-7d9 (Running, Ready)". */
export function describePodState(pod: V1Pod): string {
  if (isPodTerminating(pod)) return "Terminating";
  const phase = pod.status?.phase ?? "Unknown";
  if (phase === "Pending") {
    const unschedulable = pod.status?.conditions?.find(
      (c) => c.type === "PodScheduled" && c.status === "False",
    );
    if (unschedulable) return `Pending (${unschedulable.reason ?? "not scheduled"})`;
    return pod.spec?.nodeName ? "Pending" : "Pending (not scheduled)";
  }
  if (phase === "Running" && !isPodReady(pod)) return "Running, not Ready";
  return phase;
}
