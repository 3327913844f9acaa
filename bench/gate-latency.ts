// Gate latency: from the moment a condition holds (the last node Ready / the last pod
// Ready, timestamped by a separate, plain client-node watcher) to the probe reporting pass.
// Goal (DESIGN.md): p95 < 300 ms.
//
// Run (toolchain built, from the repo root):
//   npx node --experimental-transform-types --no-warnings bench/gate-latency.ts [--trials 20]
// It starts its own sandbox ("bench-gate"), runs the trials and removes the sandbox.

import { registerHooks } from "node:module";
import { parseArgs } from "node:util";
import type { KubernetesObject, V1Node, V1Pod } from "@kubernetes/client-node";
import type { ProbeResult } from "../src/engine/ports.js";

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

const { values } = parseArgs({ options: { trials: { type: "string", default: "20" } } });
const trials = Number(values.trials);
if (!Number.isInteger(trials) || trials < 1) throw new Error("--trials must be a positive integer");

const { Watch } = await import("@kubernetes/client-node");
const { kubeClientsFromFile } = await import("../src/kube/clients.js");
const { nodesProbe } = await import("../src/probes/nodes-probe.js");
const { placementProbe } = await import("../src/probes/placement-probe.js");
const { createFakeNode } = await import("../src/sandbox/fake-node.js");
const { sandboxDown, sandboxUp } = await import("../src/sandbox/sandbox.js");
const { NODE_GROUP_LABEL } = await import("../src/infra/workload-names.js");

const NAME = "bench-gate";
const NS = "gate";
const NODES = 3;
const PODS = 5;

type Ready = (o: KubernetesObject) => boolean;
const nodeReady: Ready = (o) =>
  ((o as V1Node).status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
const podReady: Ready = (o) =>
  !(o as V1Pod).metadata?.deletionTimestamp &&
  ((o as V1Pod).status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

/**
 * The reference clock: its own watch stream, no code shared with the probes. `arm(n)`
 * returns a promise of the instant the n-th object is Ready.
 */
function referenceWatcher(
  kc: import("@kubernetes/client-node").KubeConfig,
  path: string,
  query: Record<string, string>,
  ready: Ready,
) {
  const objects = new Map<string, boolean>();
  let armed: { n: number; prefix: string; resolve: (t: number) => void } | undefined;
  const check = () => {
    if (!armed) return;
    let count = 0;
    for (const [key, r] of objects) if (r && key.split("/")[1]!.startsWith(armed.prefix)) count++;
    if (count >= armed.n) {
      const a = armed;
      armed = undefined;
      a.resolve(performance.now());
    }
  };
  let controller: AbortController | undefined;
  let stopped = false;
  const start = () => {
    if (stopped) return;
    void new Watch(kc)
      .watch(
        path,
        query,
        (type, obj: KubernetesObject) => {
          const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
          if (type === "DELETED") objects.delete(key);
          else if (type === "ADDED" || type === "MODIFIED") objects.set(key, ready(obj));
          check();
        },
        () => start(),
      )
      .then((c) => {
        controller = c;
      });
  };
  start();
  return {
    /** Resolves when `n` objects whose name starts with `prefix` are Ready. */
    arm: (n: number, prefix = "") =>
      new Promise<number>((resolve) => {
        armed = { n, prefix, resolve };
        check();
      }),
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

/** Keeps a probe running and hands out "next report satisfying …" promises with their instant. */
function runProbe(probe: import("../src/engine/ports.js").Probe) {
  const ac = new AbortController();
  let latest: ProbeResult | undefined;
  let waiter: { pred: (r: ProbeResult) => boolean; resolve: (t: number) => void } | undefined;
  const done = probe.observe(ac.signal, (r) => {
    const t = performance.now();
    latest = r;
    if (waiter?.pred(r)) {
      const w = waiter;
      waiter = undefined;
      w.resolve(t);
    }
  });
  return {
    next: (pred: (r: ProbeResult) => boolean) =>
      new Promise<number>((resolve) => {
        if (latest && pred(latest)) resolve(performance.now());
        else waiter = { pred, resolve };
      }),
    get latest() {
      return latest;
    },
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function summary(label: string, xs: number[]): string {
  const f = (x: number) => `${x.toFixed(1)} ms`;
  return `${label.padEnd(22)} n=${xs.length}  p50 ${f(percentile(xs, 50))}  p95 ${f(percentile(xs, 95))}  max ${f(Math.max(...xs))}  ${percentile(xs, 95) < 300 ? "(goal p95 < 300 ms: met)" : "(goal p95 < 300 ms: MISSED)"}`;
}

console.log(`starting sandbox ${NAME} …`);
const info = await sandboxUp({ name: NAME, agent: false });
const kube = kubeClientsFromFile(info.kubeconfigPath);
try {
  await kube.core.createNamespace({ body: { metadata: { name: NS } } }).catch(() => {});

  // ── last node Ready → nodes probe passes ─────────────────────────────────────────
  const nodeLatencies: number[] = [];
  const nodeRef = referenceWatcher(
    kube.kc,
    "/api/v1/nodes",
    { labelSelector: `${NODE_GROUP_LABEL}=gate` },
    nodeReady,
  );
  const nodes = runProbe(nodesProbe(kube, { selector: { group: "gate" }, count: NODES }));
  for (let t = 0; t < trials; t++) {
    await within(
      nodes.next((r) => r.reason.startsWith("0/")),
      30_000,
      "nodes probe at 0",
    );
    const held = nodeRef.arm(NODES, `gate-${t}-`);
    const passed = nodes.next((r) => r.ok);
    for (let i = 1; i <= NODES; i++) {
      await createFakeNode(kube.core, {
        name: `gate-${t}-${i}`,
        instanceType: "c5.4xlarge",
        kubeletVersion: "v1.33.13",
        capacity: { cpu: "16", memory: "64Gi", pods: "110" },
        labels: { [NODE_GROUP_LABEL]: "gate" },
      });
    }
    const [tHeld, tPass] = await within(Promise.all([held, passed]), 60_000, "nodes Ready");
    nodeLatencies.push(tPass - tHeld);
    // Remove this trial's nodes (the pod trials use their own).
    for (let i = 1; i <= NODES; i++) await kube.core.deleteNode({ name: `gate-${t}-${i}` });
  }
  await nodes.stop();
  nodeRef.stop();

  // ── last pod Ready → placement probe passes ──────────────────────────────────────
  for (let i = 1; i <= 2; i++) {
    await createFakeNode(kube.core, {
      name: `pods-${i}`,
      instanceType: "c5.4xlarge",
      kubeletVersion: "v1.33.13",
      capacity: { cpu: "16", memory: "64Gi", pods: "110" },
      labels: { [NODE_GROUP_LABEL]: "pods" },
    });
  }
  await kube.apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: "web" },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            terminationGracePeriodSeconds: 0,
            nodeSelector: { [NODE_GROUP_LABEL]: "pods" },
            containers: [{ name: "web", image: "registry.invalid/web:1" }],
          },
        },
      },
    },
  });
  const podLatencies: number[] = [];
  const podRef = referenceWatcher(
    kube.kc,
    `/api/v1/namespaces/${NS}/pods`,
    { labelSelector: "app=web" },
    podReady,
  );
  const pods = runProbe(
    placementProbe(kube, {
      namespace: NS,
      podSelector: "app=web",
      on: { group: "pods" },
      count: PODS,
    }),
  );
  const scale = (replicas: number) =>
    kube.apps.patchNamespacedDeploymentScale({
      name: "web",
      namespace: NS,
      body: [{ op: "replace", path: "/spec/replicas", value: replicas }],
    });
  for (let t = 0; t < trials; t++) {
    await within(
      pods.next((r) => r.reason.startsWith("no app=web pods")),
      60_000,
      "placement probe at 0",
    );
    const held = podRef.arm(PODS);
    const passed = pods.next((r) => r.ok);
    await scale(PODS);
    const [tHeld, tPass] = await within(Promise.all([held, passed]), 60_000, "pods Ready");
    podLatencies.push(tPass - tHeld);
    await scale(0);
  }
  await pods.stop();
  podRef.stop();

  console.log(`\ngate latency over ${trials} trials (condition held → probe reported pass):`);
  console.log(
    "(both watchers get the same event on separate streams; < 0 means the probe was first)",
  );
  console.log(summary(`last of ${NODES} nodes Ready`, nodeLatencies));
  console.log(summary(`last of ${PODS} pods Ready`, podLatencies));
} finally {
  await kube.close();
  await sandboxDown({ name: NAME });
}
