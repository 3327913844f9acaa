// What the gates and the drain read of a pod, cut from the raw JSON before it is cached.
// A production pod carries its whole spec (containers, env, volumes, affinity, …) and
// status (container statuses, IPs): kilobytes each, of which the probes and the drain read
// a few fields. Caching 10,000 full pods is what drove the runbook's memory at scale.
// Keep this in step with the readers (src/kube/pods.ts, src/ops/pdb.ts, the placement
// probe): test/unit/pod-essentials.test.ts asks each of them the same question about a
// whole pod and its projection.

import { MIRROR_POD_ANNOTATION } from "./pods.js";

interface RawPod {
  metadata?: Record<string, unknown> & { annotations?: Record<string, string> };
  spec?: { nodeName?: string; volumes?: { name?: string; emptyDir?: unknown }[] };
  status?: { phase?: string; conditions?: { type?: string; status?: string; reason?: string }[] };
}

const METADATA_KEPT = [
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "labels",
  "deletionTimestamp",
  "ownerReferences",
] as const;

/** isPodReady reads Ready; describePodState reads PodScheduled's reason. */
const READ_CONDITIONS = new Set(["Ready", "PodScheduled"]);

/** The pod reduced to the fields in src/kube/pods.ts, the placement probe and the PDB match. */
export function podEssentials(raw: unknown): unknown {
  const pod = raw as RawPod | null;
  if (!pod || typeof pod !== "object") return raw;
  const meta = pod.metadata ?? {};
  const metadata: Record<string, unknown> = {};
  for (const k of METADATA_KEPT) if (meta[k] !== undefined) metadata[k] = meta[k];
  const mirror = meta.annotations?.[MIRROR_POD_ANNOTATION];
  if (mirror !== undefined) metadata.annotations = { [MIRROR_POD_ANNOTATION]: mirror };
  const emptyDirs = (pod.spec?.volumes ?? []).filter((v) => v.emptyDir !== undefined);
  return {
    metadata,
    spec: {
      nodeName: pod.spec?.nodeName,
      ...(emptyDirs.length
        ? { volumes: emptyDirs.map((v) => ({ name: v.name, emptyDir: {} })) }
        : {}),
    },
    // Only the conditions a reader asks about, without their timestamps (at 10,000 pods the
    // four conditions with two dates each were a tenth of the cache).
    status: {
      phase: pod.status?.phase,
      conditions: pod.status?.conditions
        ?.filter((c) => c.type !== undefined && READ_CONDITIONS.has(c.type))
        .map((c) => ({
          type: c.type,
          status: c.status,
          ...(c.reason ? { reason: c.reason } : {}),
        })),
    },
  };
}
