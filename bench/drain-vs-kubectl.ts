// Drain time: our drain (src/ops/drain.ts) against `kubectl drain --ignore-daemonsets
// --delete-emptydir-data` (the toolchain's kubectl) on the same sandbox, draining the same
// three nodes of the same workload, recreated identically before every run. Runs alternate
// (ours, kubectl, ours, …) so drift affects both. Goal (DESIGN.md): no slower than kubectl.
//
// Run (toolchain built, from the repo root):
//   npx node --experimental-transform-types --no-warnings bench/drain-vs-kubectl.ts [--runs 3] [--pods 30]
// It starts its own sandbox ("bench-drain") and removes it at the end.

import { registerHooks } from "node:module";
import { parseArgs } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";

// Source files import each other as "./x.js"; let Node find the .ts file next to it.
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
    runs: { type: "string", default: "3" },
    pods: { type: "string", default: "30" },
  },
});
const RUNS = Number(values.runs);
const PODS = Number(values.pods);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error("--runs must be a positive integer");
if (!Number.isInteger(PODS) || PODS < 1) throw new Error("--pods must be a positive integer");

const { execa } = await import("execa");
const { kubeClientsFromFile } = await import("../src/kube/clients.js");
const { isPodReady } = await import("../src/kube/pods.js");
const { cordonNodes, uncordonNodes } = await import("../src/ops/cordon.js");
const { drainNodes } = await import("../src/ops/drain.js");
const { createFakeNode } = await import("../src/sandbox/fake-node.js");
const { sandboxDown, sandboxUp } = await import("../src/sandbox/sandbox.js");
const { toolchain } = await import("../src/sandbox/toolchain.js");
const { NODE_GROUP_LABEL } = await import("../src/infra/workload-names.js");

const NAME = "bench-drain";
const NS = "drain";
const OLD = ["old-1", "old-2", "old-3"];
const NEW = ["new-1", "new-2", "new-3"];

console.log(`starting sandbox ${NAME} …`);
const info = await sandboxUp({ name: NAME, agent: false });
const kube = kubeClientsFromFile(info.kubeconfigPath);
const kubectl = toolchain().bin.kubectl;
const signal = AbortSignal.timeout(60 * 60_000);

/** Waits (watch, not sleep) until the namespace's pods satisfy `until`. */
async function podsUntil(
  until: (pods: V1Pod[]) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const { LiveList } = await import("../src/kube/live-list.js");
  const list = new LiveList<V1Pod>(kube.kc, {
    path: `/api/v1/namespaces/${NS}/pods`,
    itemType: "V1Pod",
  });
  const ac = new AbortController();
  const timeout = AbortSignal.timeout(timeoutMs);
  let met = false;
  await list.run(AbortSignal.any([ac.signal, timeout]), () => {
    if (list.synced && until(list.items())) {
      met = true;
      ac.abort();
    }
  });
  if (!met) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
}

const webPods = (pods: V1Pod[]) => pods.filter((p) => p.metadata?.labels?.app === "web");

async function setupWorkload(pdb: boolean): Promise<void> {
  // Same starting point every run: no web pods, old nodes schedulable, new nodes cordoned,
  // then the Deployment (and PDB) created and every pod Ready on the old nodes.
  await kube.apps.deleteNamespacedDeployment({ name: "web", namespace: NS }).catch(() => {});
  await kube.policy
    .deleteNamespacedPodDisruptionBudget({ name: "web", namespace: NS })
    .catch(() => {});
  await podsUntil((pods) => webPods(pods).length === 0, "old web pods gone");
  await uncordonNodes(kube, OLD, signal);
  await cordonNodes(kube, NEW, signal);
  await kube.apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: "web" },
      spec: {
        replicas: PODS,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: "web", image: "registry.invalid/web:1" }],
            volumes: [{ name: "scratch", emptyDir: {} }],
          },
        },
      },
    },
  });
  if (pdb) {
    await kube.policy.createNamespacedPodDisruptionBudget({
      namespace: NS,
      body: {
        metadata: { name: "web" },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } },
      },
    });
  }
  await podsUntil((pods) => {
    const web = webPods(pods);
    return (
      web.length === PODS && web.every((p) => isPodReady(p) && OLD.includes(p.spec?.nodeName ?? ""))
    );
  }, "web pods Ready on the old nodes");
  if (pdb) {
    // Let the disruption controller publish the budget before anyone evicts (bounded).
    for (const deadline = Date.now() + 30_000; ; ) {
      const b = await kube.policy.readNamespacedPodDisruptionBudget({ name: "web", namespace: NS });
      if ((b.status?.currentHealthy ?? 0) === PODS) break;
      if (Date.now() > deadline) throw new Error("PDB status never counted every pod healthy");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await uncordonNodes(kube, NEW, signal);
}

async function ours(nodeParallelism: number): Promise<number> {
  const t0 = performance.now();
  await drainNodes(kube, OLD, signal, { nodeParallelism });
  return performance.now() - t0;
}

async function theirs(): Promise<number> {
  const t0 = performance.now();
  await execa(kubectl, [
    "--kubeconfig",
    info.kubeconfigPath,
    "drain",
    ...OLD,
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--timeout=600s",
  ]);
  return performance.now() - t0;
}

async function check(label: string): Promise<void> {
  const pods = (await kube.core.listNamespacedPod({ namespace: NS, labelSelector: "app=web" }))
    .items;
  const left = pods.filter((p) => OLD.includes(p.spec?.nodeName ?? ""));
  if (left.length > 0) throw new Error(`${label}: ${left.length} web pods still on old nodes`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

try {
  await kube.core.createNamespace({ body: { metadata: { name: NS } } }).catch(() => {});
  for (const [i, n] of [...OLD, ...NEW].entries()) {
    await createFakeNode(kube.core, {
      name: n,
      instanceType: i < OLD.length ? "t3.2xlarge" : "c5.4xlarge",
      kubeletVersion: "v1.33.13",
      capacity: { cpu: "64", memory: "256Gi", pods: "250" },
      labels: { [NODE_GROUP_LABEL]: i < OLD.length ? "old" : "new" },
    });
  }
  // A DaemonSet, so --ignore-daemonsets (and our skip) has something to ignore.
  await kube.apps.createNamespacedDaemonSet({
    namespace: NS,
    body: {
      metadata: { name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { containers: [{ name: "a", image: "registry.invalid/agent:1" }] },
        },
      },
    },
  });

  for (const pdb of [false, true]) {
    const label = pdb ? `${PODS} pods, PDB maxUnavailable=1` : `${PODS} pods, no PDB`;
    const times = { ours: [] as number[], kubectl: [] as number[], oursParallel: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      await setupWorkload(pdb);
      times.ours.push(await ours(1));
      await check("ours");
      await setupWorkload(pdb);
      times.kubectl.push(await theirs());
      await check("kubectl");
      await setupWorkload(pdb);
      times.oursParallel.push(await ours(3));
      await check("ours, 3 nodes at once");
      console.log(
        `[${label}] run ${r + 1}: ours ${s(times.ours.at(-1)!)}  kubectl ${s(times.kubectl.at(-1)!)}  ours×3 nodes ${s(times.oursParallel.at(-1)!)}`,
      );
    }
    const m = {
      ours: median(times.ours),
      kubectl: median(times.kubectl),
      par: median(times.oursParallel),
    };
    console.log(`\n== drain 3 nodes, ${label} (median of ${RUNS})`);
    console.log(`ours (one node at a time, as kubectl)  ${s(m.ours)}`);
    console.log(`kubectl drain                          ${s(m.kubectl)}`);
    console.log(`ours (3 nodes at once)                 ${s(m.par)}`);
    console.log(
      `ratio kubectl/ours: ${(m.kubectl / m.ours).toFixed(2)}× (${m.kubectl >= m.ours ? "goal met: no slower" : "goal MISSED"}); kubectl/ours×3: ${(m.kubectl / m.par).toFixed(2)}×\n`,
    );
  }
} finally {
  await kube.close();
  await sandboxDown({ name: NAME });
}
