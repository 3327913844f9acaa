// Scale: the runbook's gates and drain on a large kwok cluster, side by side with
// `kubectl drain` on the same cluster, and the runbook's own memory and CPU meanwhile. The
// gates and the drain run compiled (dist/, `npm run build` first) in a process of their own
// (bench/scale-runbook.mjs), so its RSS and CPU are the runbook's, not the bench's.
//
// The cluster: `--standard` nodes carrying background filler, two identical old groups
// ("old-a", "old-b", `--old` nodes each) carrying `--old-pods` filler pods each (Deployments
// of `--replicas`, each with a PDB maxUnavailable 1, plus a DaemonSet), and `--new` nodes,
// cordoned until the drains. Ours drains old-a, kubectl drains old-b: the same load on the
// same cluster, without a reset in between (recreating thousands of pods would take as long
// as a drain). DESIGN.md goals: gate verdicts < 300 ms p95 after the condition holds; drain
// at least as fast as kubectl with PDBs honoured and health between nodes; < 300 MB RSS.
//
// Run (toolchain built, from the repo root; heavy: one at a time):
//   flock /tmp/eks-heavy.lock npx node --experimental-transform-types --no-warnings \
//     bench/scale.ts [--standard 100] [--old 300] [--new 300] [--old-pods 5000] \
//     [--background-pods 0] [--replicas 50] [--trials 20] [--skip-gates] [--skip-drains] \
//     [--skip-kubectl] [--heap-snapshot-end] [--runbook-node-flags "--max-semi-space-size=8"]
// Defaults are DESIGN.md's size (1,000 nodes, 10,000 filler pods). Time is dominated by
// kube-controller-manager creating pods (its client is limited to 20 requests/s by
// default): about (2 × old-pods + background-pods) / 20 s of set-up, and at least
// old-pods / 20 s per drain (the replacements). At the defaults, on 2 cores, about 80 min:
// set-up 9, gates 0.5, kubectl's dry-run preview 18, our drain 19, kubectl's drain 28.
// Smaller sizes for a bounded run, e.g. (about 5 min without kubectl)
//   --standard 10 --old 80 --new 80 --old-pods 800 --replicas 20 --trials 10 --skip-kubectl
// It starts its own sandbox ("bench-scale") and removes it at the end.

import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { registerHooks } from "node:module";
import { parseArgs } from "node:util";
import type { KubeConfig, KubernetesObject, V1Node, V1Pod } from "@kubernetes/client-node";

const { values } = parseArgs({
  options: {
    standard: { type: "string", default: "100" },
    old: { type: "string", default: "300" },
    new: { type: "string", default: "300" },
    "old-pods": { type: "string", default: "5000" },
    "background-pods": { type: "string", default: "0" },
    replicas: { type: "string", default: "50" },
    trials: { type: "string", default: "20" },
    parallelism: { type: "string", default: "1" },
    "skip-kubectl": { type: "boolean", default: false },
    "skip-gates": { type: "boolean", default: false },
    "skip-drains": { type: "boolean", default: false },
    /** Seconds into our drain at which to write a heap snapshot (to see what holds memory). */
    "heap-snapshot-after": { type: "string" },
    /** At the end, a heap snapshot of the runbook's process (after a full GC). */
    "heap-snapshot-end": { type: "boolean", default: false },
    /** V8/Node flags for the runbook's process, space-separated (e.g. "--max-semi-space-size=8"). */
    "runbook-node-flags": { type: "string", default: "" },
  },
});

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
const int = (name: keyof typeof values, min: number) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return v;
};
const STANDARD = int("standard", 1);
const OLD = int("old", 2);
const NEW = int("new", 1);
const OLD_PODS = int("old-pods", 1);
const BACKGROUND_PODS = int("background-pods", 0);
const REPLICAS = int("replicas", 2);
const TRIALS = int("trials", 1);
const PARALLELISM = int("parallelism", 1);

const { Watch } = await import("@kubernetes/client-node");
const { execa } = await import("execa");
const { kubeClientsFromFile } = await import("../src/kube/clients.js");
const { isPodReady } = await import("../src/kube/pods.js");
const { uncordonNodes } = await import("../src/ops/cordon.js");
const { mapBounded } = await import("../src/ops/limit.js");
const { createFakeNode } = await import("../src/sandbox/fake-node.js");
const { sandboxDown, sandboxUp } = await import("../src/sandbox/sandbox.js");
const { toolchain } = await import("../src/sandbox/toolchain.js");
const { NODE_GROUP_LABEL } = await import("../src/infra/workload-names.js");

const NAME = "bench-scale";
const NS = "fill";
const pad = (i: number) => String(i).padStart(4, "0");
const groupNodes = (g: string, n: number) => Array.from({ length: n }, (_, i) => `${g}-${pad(i)}`);
const nodesOf = {
  standard: groupNodes("standard", STANDARD),
  "old-a": groupNodes("old-a", OLD),
  "old-b": groupNodes("old-b", OLD),
  new: groupNodes("new", NEW),
};
const totalNodes = STANDARD + 2 * OLD + NEW;
const deploymentsPerTwin = Math.ceil(OLD_PODS / REPLICAS);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
const log = (line: string) => console.log(`[${elapsed()}] ${line}`);

// ── the runbook: its gates and drain in a child process (bench/scale-runbook.mjs) ────
interface Cost {
  maxRssMb: number;
  startRssMb: number;
  maxHeapMb: number;
  /** Where the peak RSS was: V8 heap reserved/used, external and buffers, the rest native. */
  breakdown: string;
  cpuPercent: number;
  seconds: number;
}
type FromRunbook = { id?: number; type: string } & Record<string, unknown>;

class RunbookProcess {
  readonly #child: ChildProcess;
  #next = 1;
  #exiting = false;
  readonly #handlers = new Map<number, (m: FromRunbook) => void>();
  readonly ready: Promise<void>;

  constructor(kubeconfig: string, nodeFlags: string[]) {
    const script = new URL("./scale-runbook.mjs", import.meta.url);
    if (!existsSync(new URL("../dist/ops/drain.js", import.meta.url))) {
      throw new Error(
        "dist/ is missing: run `npm run build` first (the bench measures the compiled runbook)",
      );
    }
    // Plain Node: none of this process's flags (its TypeScript transform) in the measured one.
    this.#child = fork(script, [kubeconfig], {
      execArgv: ["--expose-gc", ...nodeFlags],
      stdio: "inherit",
    });
    // A crashed child fails whatever waits on it instead of hanging the bench.
    this.#child.on("exit", (code, sig) => {
      if (this.#exiting) return;
      for (const h of this.#handlers.values())
        h({ type: "error", message: `exited (${code ?? sig})` });
    });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once("exit", (code) => reject(new Error(`runbook process exited (${code})`)));
      this.#child.on("message", (m: FromRunbook) => {
        if (m.type === "ready") resolve();
        else if (m.id !== undefined) this.#handlers.get(m.id)?.(m);
      });
    });
  }

  /** Sends a command; resolves with the first answer of one of `types`. */
  #ask(cmd: Record<string, unknown>, types: string[], onOther?: (m: FromRunbook) => void) {
    const id = this.#next++;
    return {
      id,
      answer: new Promise<FromRunbook>((resolve, reject) => {
        this.#handlers.set(id, (m) => {
          if (m.type === "error" || types.includes(m.type)) this.#handlers.delete(id);
          if (m.type === "error") reject(new Error(`runbook process: ${String(m.message)}`));
          else if (types.includes(m.type)) resolve(m);
          else onOther?.(m);
        });
        this.#child.send({ ...cmd, id });
      }),
    };
  }

  /** Keeps a gate running; hands out "next verdict satisfying …" promises with their instant. */
  probe(kind: "nodes" | "placement" | "drained", exp: unknown) {
    let latest: { ok: boolean; reason: string } | undefined;
    let waiter: { pred: (r: { ok: boolean }) => boolean; resolve: (t: number) => void } | undefined;
    const { id, answer } = this.#ask({ cmd: "probe", kind, exp }, [], (m) => {
      if (m.type !== "report") return;
      const r = { ok: m.ok === true, reason: String(m.reason) };
      latest = r;
      if (waiter?.pred(r)) {
        const w = waiter;
        waiter = undefined;
        // The child's epoch instant on this process's performance.now() scale.
        w.resolve((m.at as number) - performance.timeOrigin);
      }
    });
    // A probe's only answer is an error (the child failed it or exited): the bench stops.
    answer.catch((err: unknown) => {
      console.error(`${kind} gate: ${String(err)}`);
      process.exitCode = 1;
    });
    return {
      next: (pred: (r: { ok: boolean }) => boolean) =>
        new Promise<number>((resolve) => {
          if (latest && pred(latest)) resolve(performance.now());
          else waiter = { pred, resolve };
        }),
      /** The last verdict's reason (for a bench error that says where it stood). */
      get reason() {
        return latest?.reason ?? "no verdict yet";
      },
      stop: async () => {
        await this.#ask({ cmd: "stop", target: id }, ["stopped"]).answer;
        this.#handlers.delete(id);
      },
    };
  }

  async drain(nodes: string[], parallelism: number) {
    const m = await this.#ask({ cmd: "drain", nodes, parallelism }, ["drained"]).answer;
    return { pdbRetries: m.pdbRetries as number, healthMs: m.healthMs as number };
  }

  /** The drain step's dry-run preview of a group (planDrain + its rows), timed in the child. */
  async preview(group: string) {
    const m = await this.#ask({ cmd: "preview", selector: { group } }, ["preview"]).answer;
    return {
      seconds: m.seconds as number,
      counts: m.counts as { evict: number; block: number; skip: number },
      rows: m.rows as number,
    };
  }

  async meterStart(): Promise<void> {
    await this.#ask({ cmd: "meter-start" }, ["meter"]).answer;
  }

  async meterStop(): Promise<Cost> {
    return (await this.#ask({ cmd: "meter-stop" }, ["meter"]).answer).cost as Cost;
  }

  async heapSnapshot(): Promise<string> {
    return (await this.#ask({ cmd: "heap-snapshot" }, ["heap-snapshot"]).answer).file as string;
  }

  async exit(): Promise<void> {
    this.#exiting = true;
    const gone = new Promise((r) => this.#child.once("exit", r));
    this.#child.send({ cmd: "exit" });
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000).unref())]);
    this.#child.kill("SIGKILL");
  }
}

// ── the reference clock: its own plain list-and-watch, no code shared with the probes ──
type ListResult = { items: KubernetesObject[]; metadata?: { resourceVersion?: string } };

function referenceCount(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  counts: (o: KubernetesObject) => boolean,
  /** The same collection as `path` and `query`, listed (client-node's typed call). */
  list: () => Promise<ListResult>,
) {
  let objects = new Map<string, boolean>();
  let n = 0;
  let armed: { pred: (n: number) => boolean; resolve: (t: number) => void } | undefined;
  const check = () => {
    if (armed?.pred(n)) {
      const a = armed;
      armed = undefined;
      a.resolve(performance.now());
    }
  };
  const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  let controller: AbortController | undefined;
  let stopped = false;
  let rv: string | undefined;
  // A watch resumes from the last resourceVersion; when the server no longer has it (410
  // Gone: a long drain outlives the watch cache) the collection is listed again. Resuming
  // from a stale version in a loop once kept a 1,000-node run from ever finishing.
  const relist = async () => {
    const l = await list();
    const next = new Map<string, boolean>();
    let m = 0;
    for (const o of l.items) {
      const c = counts(o);
      next.set(keyOf(o), c);
      m += Number(c);
    }
    objects = next;
    n = m;
    rv = l.metadata?.resourceVersion;
    check();
  };
  const watchOnce = () =>
    new Promise<{ gone: boolean; events: number }>((resolve) => {
      const out = { gone: false, events: 0 };
      new Watch(kc)
        .watch(
          path,
          { ...query, resourceVersion: rv, allowWatchBookmarks: true },
          (type, obj: KubernetesObject & { code?: number }) => {
            if (type === "ERROR") {
              if (obj.code === 410) out.gone = true;
              return;
            }
            rv = obj.metadata?.resourceVersion ?? rv;
            if (type === "BOOKMARK") return;
            out.events++;
            const key = keyOf(obj);
            const before = objects.get(key) ?? false;
            const now = type !== "DELETED" && counts(obj);
            if (type === "DELETED") objects.delete(key);
            else objects.set(key, now);
            n += Number(now) - Number(before);
            check();
          },
          () => resolve(out),
        )
        .then(
          (c) => {
            controller = c;
            if (stopped) c.abort();
          },
          () => resolve({ gone: true, events: 0 }),
        );
    });
  void (async () => {
    while (!stopped) {
      try {
        if (!rv) await relist();
        const began = performance.now();
        const out = await watchOnce();
        if (out.gone) rv = undefined;
        if (out.events === 0 && performance.now() - began < 1_000)
          await new Promise((r) => setTimeout(r, 500));
      } catch {
        rv = undefined;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    get count() {
      return n;
    },
    /** Resolves with the instant the count first satisfies `pred` from now on. */
    when: (pred: (n: number) => boolean) =>
      new Promise<number>((resolve) => {
        armed = { pred, resolve };
        check();
      }),
    stop: () => {
      stopped = true;
      controller?.abort();
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

function latencyLine(label: string, xs: number[]): string {
  const f = (x: number) => `${x.toFixed(0)} ms`;
  const p95 = percentile(xs, 95);
  return `${label.padEnd(44)} n=${String(xs.length).padStart(2)}  p50 ${f(percentile(xs, 50)).padStart(7)}  p95 ${f(p95).padStart(7)}  max ${f(Math.max(...xs)).padStart(7)}  ${p95 < 300 ? "(goal p95 < 300 ms: met)" : "(goal p95 < 300 ms: MISSED)"}`;
}

const onNode = (prefix: string) => (o: KubernetesObject) => {
  const p = o as V1Pod;
  return (p.spec?.nodeName ?? "").startsWith(prefix) && p.metadata?.labels?.tier !== undefined;
};
const readyOn = (prefix: string, tier: string) => (o: KubernetesObject) => {
  const p = o as V1Pod;
  return (
    p.metadata?.labels?.tier === tier &&
    (p.spec?.nodeName ?? "").startsWith(prefix) &&
    !p.metadata?.deletionTimestamp &&
    isPodReady(p)
  );
};

console.log(
  `scale bench: ${totalNodes} nodes (standard ${STANDARD}, old-a ${OLD}, old-b ${OLD}, new ${NEW}), ` +
    `${2 * OLD_PODS + BACKGROUND_PODS} filler pods (${OLD_PODS} per old group in ${deploymentsPerTwin} Deployments of ≤${REPLICAS} with PDBs, ${BACKGROUND_PODS} background), DaemonSet on the old groups`,
);
log(`starting sandbox ${NAME} …`);
await sandboxDown({ name: NAME }); // what a crashed run of the bench left behind
const info = await sandboxUp({ name: NAME, agent: false, timeoutMs: 5 * 60_000 });
const kube = kubeClientsFromFile(info.kubeconfigPath);
const runbook = new RunbookProcess(
  info.kubeconfigPath,
  (values["runbook-node-flags"] ?? "").split(" ").filter(Boolean),
);
const kubectl = toolchain().bin.kubectl;
const signal = AbortSignal.timeout(2 * 60 * 60_000);
const results: string[] = [];
/** Printed at once too, so a run that fails later still leaves its figures. */
const result = (line: string) => {
  results.push(line);
  log(line);
};

try {
  await runbook.ready;
  // ── set-up ─────────────────────────────────────────────────────────────────────
  await kube.core.createNamespace({ body: { metadata: { name: NS } } }).catch(() => {});
  const all = Object.entries(nodesOf).flatMap(([g, names]) => names.map((n) => ({ g, n })));
  await mapBounded(all, 16, ({ g, n }) =>
    createFakeNode(kube.core, {
      name: n,
      instanceType: g === "new" ? "c5.4xlarge" : g === "standard" ? "t3.medium" : "t3.2xlarge",
      kubeletVersion: "v1.33.13",
      capacity: { cpu: "64", memory: "256Gi", pods: "250" },
      labels: { [NODE_GROUP_LABEL]: g },
      unschedulable: g === "new",
    }),
  );
  log(`${all.length} nodes created`);

  const deployment = (name: string, tier: string, replicas: number, groups: string[]) => ({
    metadata: { name, labels: { tier } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: "c", image: "registry.invalid/filler:1" }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: groups }] },
                ],
              },
            },
          },
        },
      },
    },
  });
  const specs: { name: string; tier: string; replicas: number; groups: string[] }[] = [];
  for (const twin of ["a", "b"]) {
    for (let d = 0; d < deploymentsPerTwin; d++) {
      const replicas = Math.min(REPLICAS, OLD_PODS - d * REPLICAS);
      specs.push({
        name: `${twin}-${pad(d)}`,
        tier: `old-${twin}`,
        replicas,
        groups: [`old-${twin}`, "new"],
      });
    }
  }
  for (let d = 0; d * REPLICAS < BACKGROUND_PODS; d++) {
    const replicas = Math.min(REPLICAS, BACKGROUND_PODS - d * REPLICAS);
    specs.push({ name: `bg-${pad(d)}`, tier: "background", replicas, groups: ["standard"] });
  }
  await mapBounded(specs, 8, async (s) => {
    await kube.apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment(s.name, s.tier, s.replicas, s.groups),
    });
    await kube.policy.createNamespacedPodDisruptionBudget({
      namespace: NS,
      body: {
        metadata: { name: s.name },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: s.name } } },
      },
    });
  });
  await kube.apps.createNamespacedDaemonSet({
    namespace: NS,
    body: {
      metadata: { name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: {
            containers: [{ name: "a", image: "registry.invalid/agent:1" }],
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        { key: NODE_GROUP_LABEL, operator: "In", values: ["old-a", "old-b"] },
                      ],
                    },
                  ],
                },
              },
            },
          },
        },
      },
    },
  });
  const readyFiller = referenceCount(
    kube.kc,
    `/api/v1/namespaces/${NS}/pods`,
    {},
    (o) => isPodReady(o as V1Pod) && !(o as V1Pod).metadata?.deletionTimestamp,
    () => kube.core.listNamespacedPod({ namespace: NS }),
  );
  const fillerTotal = 2 * OLD_PODS + BACKGROUND_PODS + 2 * OLD;
  let lastLog = 0;
  const progressTimer = setInterval(() => {
    if (readyFiller.count !== lastLog) log(`${readyFiller.count}/${fillerTotal} filler pods Ready`);
    lastLog = readyFiller.count;
  }, 15_000);
  await within(
    readyFiller.when((n) => n >= fillerTotal),
    60 * 60_000,
    "filler pods Ready",
  );
  clearInterval(progressTimer);
  readyFiller.stop();
  log(`${fillerTotal} filler pods Ready (set-up done)`);
  // Let the disruption controller count every budget's pods healthy (bounded).
  for (const deadline = Date.now() + 120_000; ; ) {
    const pdbs = (await kube.policy.listNamespacedPodDisruptionBudget({ namespace: NS })).items;
    if (pdbs.every((p) => (p.status?.currentHealthy ?? 0) >= (p.status?.expectedPods ?? 1))) break;
    if (Date.now() > deadline) throw new Error("PDB status never counted every pod healthy");
    await new Promise((r) => setTimeout(r, 500));
  }

  if (!values["skip-gates"]) {
    // ── gates at scale ─────────────────────────────────────────────────────────────
    await runbook.meterStart();
    // Nodes gate over the old-a group (OLD nodes among all): one node leaves and comes back;
    // the condition holds when the last of the group is Ready again.
    const nodeLat: number[] = [];
    const nodesRef = referenceCount(
      kube.kc,
      "/api/v1/nodes",
      { labelSelector: `${NODE_GROUP_LABEL}=old-b` },
      // Usable: Ready, and the node lifecycle controller has lifted its not-ready taint.
      (o) =>
        ((o as V1Node).status?.conditions ?? []).some(
          (c) => c.type === "Ready" && c.status === "True",
        ) &&
        !((o as V1Node).spec?.taints ?? []).some((t) =>
          ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"].includes(t.key),
        ),
      () => kube.core.listNode({ labelSelector: `${NODE_GROUP_LABEL}=old-b` }),
    );
    const nodesGate = runbook.probe("nodes", { selector: { group: "old-b" }, count: OLD + 1 });
    // The reference must have listed everything before it can time anything.
    await within(
      nodesRef.when((n) => n >= OLD),
      60_000,
      "reference sees the old-b nodes",
    );
    for (let t = 0; t < TRIALS; t++) {
      const extra = `old-b-x${t}`;
      await within(
        nodesGate.next((r) => !r.ok),
        30_000,
        "nodes gate failing",
      );
      await within(
        nodesRef.when((n) => n <= OLD),
        30_000,
        "reference saw the extra node go",
      );
      const held = nodesRef.when((n) => n >= OLD + 1);
      const passed = nodesGate.next((r) => r.ok);
      await createFakeNode(kube.core, {
        name: extra,
        instanceType: "t3.2xlarge",
        kubeletVersion: "v1.33.13",
        capacity: { cpu: "64", memory: "256Gi", pods: "250" },
        labels: { [NODE_GROUP_LABEL]: "old-b" },
        unschedulable: true,
      });
      const [tHeld, tPass] = await within(Promise.all([held, passed]), 60_000, "node Ready").catch(
        (err: unknown) => {
          throw new Error(
            `${String(err)}; reference counts ${nodesRef.count} usable nodes; the gate says: ${nodesGate.reason}`,
          );
        },
      );
      nodeLat.push(tPass - tHeld);
      await kube.core.deleteNode({ name: extra });
    }
    await nodesGate.stop();
    nodesRef.stop();

    // Placement gate over one old group's pods (OLD_PODS of them, all nodes watched): a
    // Deployment loses a replica and gets it back; the condition holds when it is Ready.
    const placeLat: number[] = [];
    const placeRef = referenceCount(
      kube.kc,
      `/api/v1/namespaces/${NS}/pods`,
      { labelSelector: "tier=old-b" },
      readyOn("old-b-", "old-b"),
      () => kube.core.listNamespacedPod({ namespace: NS, labelSelector: "tier=old-b" }),
    );
    const placeGate = runbook.probe("placement", {
      namespace: NS,
      podSelector: "tier=old-b",
      label: "old-b filler",
      on: { group: "old-b" },
      count: OLD_PODS,
    });
    const target = specs.find((s) => s.tier === "old-b")!;
    const scale = (replicas: number) =>
      kube.apps.patchNamespacedDeploymentScale({
        name: target.name,
        namespace: NS,
        body: [{ op: "replace", path: "/spec/replicas", value: replicas }],
      });
    await within(
      placeRef.when((n) => n >= OLD_PODS),
      60_000,
      "reference sees the old-b pods",
    );
    for (let t = 0; t < TRIALS; t++) {
      await within(
        placeGate.next((r) => r.ok),
        60_000,
        "placement gate passing",
      );
      await scale(target.replicas - 1);
      await within(
        placeGate.next((r) => !r.ok),
        60_000,
        "placement gate failing",
      );
      await within(
        placeRef.when((n) => n < OLD_PODS),
        60_000,
        "reference saw a pod go",
      );
      const held = placeRef.when((n) => n >= OLD_PODS);
      const passed = placeGate.next((r) => r.ok);
      await scale(target.replicas);
      const [tHeld, tPass] = await within(Promise.all([held, passed]), 60_000, "pod Ready");
      placeLat.push(tPass - tHeld);
    }
    await placeGate.stop();
    placeRef.stop();
    const gateCost = await runbook.meterStop();
    result(latencyLine(`nodes gate (${OLD + 1} nodes of ${totalNodes})`, nodeLat));
    result(latencyLine(`placement gate (${OLD_PODS} pods, all nodes)`, placeLat));
    result(
      `runbook process during gates: max RSS ${gateCost.maxRssMb} MB, max heap used ${gateCost.maxHeapMb} MB, CPU ${gateCost.cpuPercent}% of a core over ${gateCost.seconds}s ${gateCost.maxRssMb < 300 ? "(goal < 300 MB: met)" : "(goal < 300 MB: MISSED)"}`,
    );
    log("gates measured");
  }

  // The previews and drains (skip for a quick look at the gates alone).
  if (!values["skip-drains"]) {
    /** `kubectl drain` of a group as an operator runs it (DaemonSets stay, emptyDir data goes). */
    const kubectlDrain = (group: string, extra: string[]) =>
      execa(
        kubectl,
        [
          "--kubeconfig",
          info.kubeconfigPath,
          "drain",
          "-l",
          `${NODE_GROUP_LABEL}=${group}`,
          "--ignore-daemonsets",
          "--delete-emptydir-data",
          ...extra,
        ],
        { stdout: "ignore", stderr: "ignore" },
      );

    // ── the drain's dry-run preview: ours on old-a, `kubectl drain --dry-run=server` on old-b ──
    // Both ask the API server for a dry-run eviction of every pod (PDBs checked, nothing
    // changes); ours also reads the budgets and groups the rows for the screen.
    const preview = await runbook.preview("old-a");
    let kubectlPreviewSeconds: number | undefined;
    if (!values["skip-kubectl"]) {
      const t0 = performance.now();
      await kubectlDrain("old-b", ["--dry-run=server"]);
      kubectlPreviewSeconds = (performance.now() - t0) / 1000;
    }
    result(
      `drain preview of ${OLD} nodes (--dry-run): ours ${preview.seconds.toFixed(1)}s (${preview.counts.evict} evictions dry-run, ${preview.counts.skip} stay, ${preview.counts.block} block; ${preview.rows} rows on the screen)${
        kubectlPreviewSeconds === undefined
          ? ""
          : `; kubectl drain --dry-run=server ${kubectlPreviewSeconds.toFixed(1)}s; ratio kubectl/ours ${(kubectlPreviewSeconds / preview.seconds).toFixed(2)}×`
      }`,
    );
    log("drain previews measured");

    // ── drains: ours on old-a, kubectl on old-b ─────────────────────────────────────
    await uncordonNodes(kube, nodesOf.new, signal);

    /** Runs one drain with the drained and placement gates watching; returns its figures. */
    const measureDrain = async (group: "old-a" | "old-b", drain: () => Promise<void>) => {
      const tier = group;
      const leftRef = referenceCount(
        kube.kc,
        `/api/v1/namespaces/${NS}/pods`,
        { labelSelector: `tier=${tier}` },
        onNode(`${group}-`),
        () => kube.core.listNamespacedPod({ namespace: NS, labelSelector: `tier=${tier}` }),
      );
      const movedRef = referenceCount(
        kube.kc,
        `/api/v1/namespaces/${NS}/pods`,
        { labelSelector: `tier=${tier}` },
        readyOn("new-", tier),
        () => kube.core.listNamespacedPod({ namespace: NS, labelSelector: `tier=${tier}` }),
      );
      const drained = runbook.probe("drained", { selector: { group } });
      const placed = runbook.probe("placement", {
        namespace: NS,
        podSelector: `tier=${tier}`,
        label: `${tier} filler`,
        on: { group: "new" },
        count: OLD_PODS,
      });
      await within(
        drained.next((r) => !r.ok),
        60_000,
        "drained gate failing before the drain",
      );
      await within(
        leftRef.when((n) => n >= OLD_PODS),
        60_000,
        "reference sees the pods to drain",
      );
      await runbook.meterStart();
      const tLeft = leftRef.when((n) => n === 0);
      const tMoved = movedRef.when((n) => n >= OLD_PODS);
      const pDrained = drained.next((r) => r.ok);
      const pPlaced = placed.next((r) => r.ok);
      const t0 = performance.now();
      await drain();
      const t1 = performance.now();
      const [held1, pass1, held2, pass2] = await within(
        Promise.all([tLeft, pDrained, tMoved, pPlaced]),
        10 * 60_000,
        `${group} gates after the drain`,
      );
      const cost = await runbook.meterStop();
      await drained.stop();
      await placed.stop();
      leftRef.stop();
      movedRef.stop();
      return {
        seconds: (t1 - t0) / 1000,
        untilMovedSeconds: (Math.max(held2, t1) - t0) / 1000,
        drainedGateMs: pass1 - held1,
        placementGateMs: pass2 - held2,
        cost,
      };
    };

    let pdbRetries = 0;
    let healthWaitMs = 0;
    const snapshotAfter = values["heap-snapshot-after"];
    const ours = await measureDrain("old-a", async () => {
      const snap =
        snapshotAfter === undefined
          ? undefined
          : setTimeout(async () => {
              const file = await runbook.heapSnapshot();
              log(`heap snapshot ${Number(snapshotAfter)}s into our drain: ${file}`);
            }, Number(snapshotAfter) * 1000);
      const report = await runbook
        .drain(nodesOf["old-a"], PARALLELISM)
        .finally(() => clearTimeout(snap));
      pdbRetries = report.pdbRetries;
      healthWaitMs = report.healthMs;
    });
    log(`ours: ${ours.seconds.toFixed(1)}s`);
    let theirs: typeof ours | undefined;
    if (!values["skip-kubectl"]) {
      theirs = await measureDrain("old-b", async () => {
        await kubectlDrain("old-b", ["--timeout=3600s"]);
      });
      log(`kubectl: ${theirs.seconds.toFixed(1)}s`);
    }
    const s = (x: number) => `${x.toFixed(1)}s`;
    result(
      `drain ${OLD} nodes / ${OLD_PODS} pods, ours (${PARALLELISM} node${PARALLELISM === 1 ? "" : "s"} at a time, health between nodes): ${s(ours.seconds)} (${pdbRetries} PDB refusals retried, ${s(healthWaitMs / 1000)} waiting for health); all moved pods Ready after ${s(ours.untilMovedSeconds)}`,
    );
    if (theirs) {
      result(
        `drain ${OLD} nodes / ${OLD_PODS} pods, kubectl drain (same cluster, twin group): ${s(theirs.seconds)}; all moved pods Ready after ${s(theirs.untilMovedSeconds)}`,
      );
      result(
        `ratio kubectl/ours: ${(theirs.seconds / ours.seconds).toFixed(2)}× ${theirs.seconds >= ours.seconds ? "(goal: at least as fast: met)" : "(goal: at least as fast: MISSED)"}`,
      );
    }
    result(
      `drained gate after the last pod left: ours ${ours.drainedGateMs.toFixed(0)} ms${theirs ? `, during kubectl ${theirs.drainedGateMs.toFixed(0)} ms` : ""}; placement gate after the last moved pod Ready: ours ${ours.placementGateMs.toFixed(0)} ms${theirs ? `, during kubectl ${theirs.placementGateMs.toFixed(0)} ms` : ""}`,
    );
    result(
      `runbook process during our drain (drain + drained and placement gates): max RSS ${ours.cost.maxRssMb} MB (${ours.cost.startRssMb} MB when it started), max heap used ${ours.cost.maxHeapMb} MB, CPU ${ours.cost.cpuPercent}% of a core ${ours.cost.maxRssMb < 300 ? "(goal < 300 MB: met)" : "(goal < 300 MB: MISSED)"}; ${ours.cost.breakdown}`,
    );
    if (theirs) {
      result(
        `runbook process during kubectl's drain (gates only): max RSS ${theirs.cost.maxRssMb} MB (${theirs.cost.startRssMb} MB when it started), max heap used ${theirs.cost.maxHeapMb} MB, CPU ${theirs.cost.cpuPercent}% of a core; ${theirs.cost.breakdown}`,
      );
    }
  }
  // Last: writing a snapshot takes memory of its own, which would count in a later phase.
  if (values["heap-snapshot-end"]) log(`heap snapshot at the end: ${await runbook.heapSnapshot()}`);
  console.log(
    `\n== scale bench (${elapsed()} in all; runbook process: node ${["--expose-gc", values["runbook-node-flags"]].filter(Boolean).join(" ")} dist/)`,
  );
  for (const r of results) console.log(r);
} finally {
  await runbook.exit();
  await kube.close();
  await sandboxDown({ name: NAME });
}
