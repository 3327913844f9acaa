// Verdict cost at scale, no cluster needed: how long one evaluation of the drained,
// placement and nodes gates takes over 1,000 nodes and 10,000 pods, how many progress
// lines a 5,000-pod drain produces, and the heap a 10,000-pod cache holds. These are the
// per-event costs that bench/scale.ts sees end to end; they say why a gate is fast or slow.
//
// Run (from the repo root):
//   npx node --experimental-transform-types --no-warnings --expose-gc bench/verdict-cost.ts \
//     [--nodes 1000] [--pods 10000]

import { registerHooks } from "node:module";
import { parseArgs } from "node:util";
import type { V1Node, V1Pod } from "@kubernetes/client-node";

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      if (/^(\.{1,2}\/|\/|file:)/.test(specifier) && specifier.endsWith(".js")) {
        return next(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw err;
    }
  },
});

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    pods: { type: "string", default: "10000" },
  },
});
const NODES = Number(values.nodes);
const PODS = Number(values.pods);

const { evaluateDrained } = await import("../src/probes/drained-probe.js");
const { evaluatePlacement, indexNodes } = await import("../src/probes/placement-probe.js");
const { evaluateNodes } = await import("../src/probes/nodes-probe.js");
const { parseKubeVersion } = await import("../src/kube/versions.js");
const { DrainProgress } = await import("../src/ops/drain-progress.js");
const { NODE_GROUP_LABEL, INSTANCE_TYPE_LABEL } = await import("../src/infra/workload-names.js");

const group = (i: number) => (i < NODES * 0.3 ? "old" : i < NODES * 0.9 ? "new" : "standard");
const nodes: V1Node[] = Array.from({ length: NODES }, (_, i) => ({
  metadata: {
    name: `${group(i)}-${i}`,
    labels: { [NODE_GROUP_LABEL]: group(i), [INSTANCE_TYPE_LABEL]: "c5.4xlarge" },
  },
  status: {
    conditions: [{ type: "Ready", status: "True" }],
    nodeInfo: { kubeletVersion: "v1.33.13" } as NonNullable<V1Node["status"]>["nodeInfo"],
  },
}));
const oldNodes = nodes.filter((n) => n.metadata?.labels?.[NODE_GROUP_LABEL] === "old");
const newNodes = nodes.filter((n) => n.metadata?.labels?.[NODE_GROUP_LABEL] === "new");

function makePods(): V1Pod[] {
  return Array.from({ length: PODS }, (_, i) => {
    const onOld = i < PODS / 2;
    const pool = onOld ? oldNodes : newNodes;
    return {
      metadata: {
        name: `fill-${String(i % 100).padStart(3, "0")}-${i.toString(36)}`,
        namespace: "fill",
        uid: `uid-${i}`,
        labels: { app: `fill-${i % 100}`, tier: onOld ? "old" : "new" },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: `rs-${i % 100}`,
            uid: "o",
            controller: true,
          },
        ],
      },
      spec: {
        containers: [{ name: "c", image: "registry.invalid/filler:1" }],
        nodeName: pool[i % pool.length]!.metadata!.name,
      },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    };
  });
}

function time(label: string, runs: number, f: () => unknown): void {
  f(); // warm up
  const xs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    f();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(58)} median ${xs[Math.floor(runs / 2)]!.toFixed(2)} ms  max ${xs.at(-1)!.toFixed(2)} ms`,
  );
}

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage().heapUsed;
const pods = makePods();
gc?.();
const heapMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
console.log(
  `${NODES} nodes, ${PODS} pods (half on the old group); heap held by the pod objects: ${heapMb.toFixed(1)} MB`,
);

const index = indexNodes(nodes);
const cp = parseKubeVersion("v1.33.13")!;
time(`drained verdict (all ${PODS} pods, ${oldNodes.length} old nodes)`, 21, () =>
  evaluateDrained(pods, nodes, { selector: { group: "old" } }),
);
const newTier = pods.filter((p) => p.metadata?.labels?.tier === "new");
time(`placement verdict (${newTier.length} pods, node index reused)`, 21, () =>
  evaluatePlacement(newTier, index, {
    namespace: "fill",
    podSelector: "tier=new",
    on: { group: "new" },
  }),
);
time(`placement verdict incl. rebuilding the node index`, 21, () =>
  evaluatePlacement(newTier, indexNodes(nodes), {
    namespace: "fill",
    podSelector: "tier=new",
    on: { group: "new" },
  }),
);
time(`nodes verdict (${newNodes.length} nodes of the group)`, 21, () =>
  evaluateNodes(newNodes, { selector: { group: "new" }, count: newNodes.length }, cp),
);

let lines = 0;
let clock = 0;
const progress = new DrainProgress(() => lines++, { now: () => clock });
const oldPods = pods
  .filter((p) => p.metadata?.labels?.tier === "old")
  .map((p) => `fill/${p.metadata?.name}`);
const t0 = performance.now();
progress.on({ type: "planned", pods: oldPods, nodes: oldNodes.length });
// The drain's events for every old pod, spread over a simulated 300 s.
for (const [i, pod] of oldPods.entries()) {
  clock = (i / oldPods.length) * 300_000;
  progress.on({ type: "evicting", node: "n", pod });
  progress.on({ type: "evicted", node: "n", pod });
  progress.on({ type: "gone", node: "n", pod });
}
progress.close();
console.log(
  `drain progress: ${oldPods.length * 3 + 1} events → ${lines} progress lines over a simulated 300 s (${(performance.now() - t0).toFixed(1)} ms of CPU)`,
);
