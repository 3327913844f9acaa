import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { describe, expect, it } from "vitest";
import { podEssentials } from "../../src/kube/pod-essentials.js";
import {
  classifyForDrain,
  controllerOf,
  describePodState,
  isPodFinished,
  isPodReady,
  isPodTerminating,
  podKey,
} from "../../src/kube/pods.js";
import { pdbsSelecting } from "../../src/ops/pdb.js";
import { evaluatePlacement, indexNodes } from "../../src/probes/placement-probe.js";
import { node } from "./probe-fixtures.js";

// A pod as the API sends it (JSON), the size of a small production pod: every reader of the
// cached pods must give the same answer on the projection as on the whole object.
// biome-ignore lint/suspicious/noExplicitAny: raw API JSON, patched freely per variant below
type RawJson = Record<string, any>;
function rawPod(name: string, patch: (p: RawJson) => void = () => {}) {
  const pod: RawJson = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "shop",
      uid: `uid-${name}`,
      resourceVersion: "4711",
      labels: { app: "web", "pod-template-hash": "7d9" },
      annotations: { "kubectl.kubernetes.io/restartedAt": "2026-12-01T00:00:00Z" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9", uid: "rs", controller: true },
      ],
      managedFields: [{ manager: "kube-controller-manager", operation: "Update" }],
    },
    spec: {
      nodeName: "old-1",
      containers: [
        {
          name: "web",
          image: "example/web:1.2.3",
          env: Array.from({ length: 20 }, (_, i) => ({ name: `VAR_${i}`, value: "x".repeat(40) })),
          resources: { requests: { cpu: "250m", memory: "256Mi" } },
        },
      ],
      volumes: [
        { name: "config", configMap: { name: "web" } },
        { name: "scratch", emptyDir: { sizeLimit: "1Gi" } },
      ],
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }],
    },
    status: {
      phase: "Running",
      podIP: "10.0.1.7",
      conditions: [
        { type: "Initialized", status: "True", lastTransitionTime: "2026-12-06T07:00:00Z" },
        { type: "Ready", status: "True", lastTransitionTime: "2026-12-06T07:00:05Z" },
        { type: "ContainersReady", status: "True", lastTransitionTime: "2026-12-06T07:00:05Z" },
        { type: "PodScheduled", status: "True", lastTransitionTime: "2026-12-06T06:59:58Z" },
      ],
      containerStatuses: [
        { name: "web", ready: true, restartCount: 0, image: "example/web:1.2.3" },
      ],
    },
  };
  patch(pod);
  return pod;
}

const variants = {
  running: rawPod("a"),
  notReady: rawPod("b", (p) => {
    p.status.conditions[1].status = "False";
  }),
  terminating: rawPod("c", (p) => {
    p.metadata.deletionTimestamp = "2026-12-06T08:00:00Z";
  }),
  unschedulable: rawPod("d", (p) => {
    p.spec.nodeName = undefined;
    p.status = {
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }],
    };
  }),
  succeeded: rawPod("e", (p) => {
    p.status.phase = "Succeeded";
  }),
  mirror: rawPod("f", (p) => {
    p.metadata.annotations["kubernetes.io/config.mirror"] = "abc";
    p.metadata.ownerReferences = [{ kind: "Node", name: "old-1", uid: "n", controller: true }];
  }),
  daemonSet: rawPod("g", (p) => {
    p.metadata.ownerReferences[0].kind = "DaemonSet";
  }),
  bare: rawPod("h", (p) => {
    p.metadata.ownerReferences = undefined;
    p.spec.volumes = [{ name: "config", configMap: { name: "web" } }];
  }),
};

const asPod = (raw: unknown) => ObjectSerializer.deserialize(raw, "V1Pod", "") as V1Pod;
const readers = (pod: V1Pod) => ({
  key: podKey(pod),
  ready: isPodReady(pod),
  terminating: isPodTerminating(pod),
  finished: isPodFinished(pod),
  controller: controllerOf(pod)?.kind,
  drain: classifyForDrain(pod),
  drainForced: classifyForDrain(pod, { force: true }),
  state: describePodState(pod),
  pdbs: pdbsSelecting([pdb], pod).map((p) => p.name),
});
const pdb: V1PodDisruptionBudget = {
  metadata: { name: "web", namespace: "shop" },
  spec: { selector: { matchLabels: { app: "web" } } },
};

describe("podEssentials", () => {
  for (const [name, raw] of Object.entries(variants)) {
    it(`answers every pod reader as the whole object does: ${name}`, () => {
      const whole = asPod(structuredClone(raw));
      const projected = asPod(podEssentials(structuredClone(raw)));
      expect(readers(projected)).toEqual(readers(whole));
    });
  }

  it("answers the placement gate as the whole objects do", () => {
    const nodes = indexNodes([node("old-1", { group: "old" })]);
    const exp = { namespace: "shop", podSelector: "app=web", on: { group: "old" }, count: 3 };
    const raws = Object.values(variants);
    const whole = evaluatePlacement(
      raws.map((r) => asPod(structuredClone(r))),
      nodes,
      exp,
    );
    const projected = evaluatePlacement(
      raws.map((r) => asPod(podEssentials(structuredClone(r)))),
      nodes,
      exp,
    );
    expect(projected).toEqual(whole);
  });

  it("keeps a small share of the pod", () => {
    const raw = variants.running;
    const size = (x: unknown) => JSON.stringify(x).length;
    expect(size(podEssentials(structuredClone(raw)))).toBeLessThan(size(raw) / 3);
  });
});
