// The runbook's side of bench/scale.ts, in a process of its own: the compiled gates and
// drain (dist/, `npm run build` first), nothing else. The bench's set-up, its reference
// watches and its TypeScript loader stay in the parent, so the RSS and CPU measured here are
// the product's, as `eks-runbook` would use them. Plain JavaScript: loading a .ts file would
// bring Node's TypeScript transform into the measured process.
//
// Driven over IPC by bench/scale.ts (fork, argv[2] = kubeconfig path):
//   {cmd: "probe", id, kind: "nodes"|"placement"|"drained", exp}  → {id, type: "report", ok, at} per verdict
//   {cmd: "stop", id, target}  (target: the probe's id)           → {id, type: "stopped"}
//   {cmd: "drain", id, nodes, parallelism}                        → {id, type: "drained", pdbRetries, healthMs}
//   {cmd: "preview", id, selector}                                → {id, type: "preview", seconds, counts, rows}
//   {cmd: "meter-start", id} / {cmd: "meter-stop", id}            → {id, type: "meter", cost}
//   {cmd: "heap-snapshot", id}                                    → {id, type: "heap-snapshot", file}
// `at` is epoch milliseconds with sub-millisecond precision (performance.timeOrigin based),
// comparable with the parent's clock on the same machine.

import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { kubeClientsFromFile } from "../dist/kube/clients.js";
import { drainNodes } from "../dist/ops/drain.js";
import { drainPlanPreview, planDrain } from "../dist/ops/drain-preview.js";
import { drainedProbe } from "../dist/probes/drained-probe.js";
import { nodesProbe } from "../dist/probes/nodes-probe.js";
import { placementProbe } from "../dist/probes/placement-probe.js";

const kube = kubeClientsFromFile(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const mb = (x) => Math.round(x / 2 ** 20);
/** @type {(m: object) => void} */
const send = (m) => process.send?.(m);

/** Peak RSS and heap of this process, sampled every 200 ms, with the CPU it used. */
class Meter {
  start() {
    this.cpu = process.cpuUsage();
    this.t = performance.now();
    this.startRss = process.memoryUsage().rss;
    this.maxRss = 0;
    this.maxHeap = 0;
    this.atMax = undefined;
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
  }
  sample() {
    const m = process.memoryUsage();
    if (m.rss > this.maxRss) {
      this.maxRss = m.rss;
      this.atMax = m;
    }
    this.maxHeap = Math.max(this.maxHeap, m.heapUsed);
  }
  stop() {
    clearInterval(this.timer);
    this.sample();
    const c = process.cpuUsage(this.cpu);
    const wall = performance.now() - this.t;
    // With --expose-gc: what is still live at the end (a leak) vs garbage not yet collected.
    globalThis.gc?.();
    const after = process.memoryUsage();
    const m = this.atMax;
    return {
      maxRssMb: mb(this.maxRss),
      startRssMb: mb(this.startRss),
      maxHeapMb: mb(this.maxHeap),
      breakdown: `at the peak: V8 heap ${mb(m.heapTotal)} MB reserved / ${mb(m.heapUsed)} MB used, external ${mb(m.external)} MB (array buffers ${mb(m.arrayBuffers)} MB), other (code, native, stacks) ${mb(m.rss - m.heapTotal - m.external)} MB${globalThis.gc ? `; after a full GC at the end: heap used ${mb(after.heapUsed)} MB, RSS ${mb(after.rss)} MB` : ""}`,
      cpuPercent: Math.round(((c.user + c.system) / 1000 / wall) * 100),
      seconds: Math.round(wall / 100) / 10,
    };
  }
}

const meter = new Meter();
const probes = new Map();
const drainAbort = new AbortController();

function probeOf(kind, exp) {
  switch (kind) {
    case "nodes":
      return nodesProbe(kube, exp);
    case "placement":
      return placementProbe(kube, exp);
    case "drained":
      return drainedProbe(kube, exp);
    default:
      throw new Error(`unknown probe ${kind}`);
  }
}

process.on("message", async (m) => {
  try {
    switch (m.cmd) {
      case "probe": {
        const ac = new AbortController();
        const done = probeOf(m.kind, m.exp).observe(ac.signal, (r) =>
          send({ id: m.id, type: "report", ok: r.ok, reason: r.reason, at: now() }),
        );
        probes.set(m.id, { ac, done });
        break;
      }
      case "stop": {
        const p = probes.get(m.target);
        p?.ac.abort();
        await p?.done;
        probes.delete(m.target);
        send({ id: m.id, type: "stopped" });
        break;
      }
      case "drain": {
        const report = await drainNodes(kube, m.nodes, drainAbort.signal, {
          nodeParallelism: m.parallelism,
          nodeTimeoutMs: 10 * 60_000,
        });
        send({
          id: m.id,
          type: "drained",
          pdbRetries: report.pdbRetries,
          healthMs: report.nodes.reduce((n, r) => n + r.healthMs, 0),
        });
        break;
      }
      case "preview": {
        // What `--dry-run` shows for the drain step: server-side dry-run evictions of every pod.
        const t0 = performance.now();
        const plan = await planDrain(kube, m.selector, drainAbort.signal);
        const preview = drainPlanPreview(plan);
        const counts = { evict: 0, block: 0, skip: 0 };
        for (const p of plan.pods) counts[p.action]++;
        send({
          id: m.id,
          type: "preview",
          seconds: (performance.now() - t0) / 1000,
          counts,
          rows: preview.items.length,
        });
        break;
      }
      case "meter-start":
        meter.start();
        send({ id: m.id, type: "meter" });
        break;
      case "meter-stop":
        send({ id: m.id, type: "meter", cost: meter.stop() });
        break;
      case "heap-snapshot": {
        globalThis.gc?.();
        const file = join(tmpdir(), `scale-runbook-${process.pid}-${Date.now()}.heapsnapshot`);
        send({ id: m.id, type: "heap-snapshot", file: writeHeapSnapshot(file) });
        break;
      }
      case "exit":
        drainAbort.abort();
        for (const p of probes.values()) p.ac.abort();
        await kube.close();
        process.exit(0);
        break;
      default:
        throw new Error(`unknown command ${m.cmd}`);
    }
  } catch (err) {
    send({ id: m.id, type: "error", message: String(err?.stack ?? err) });
  }
});
send({ type: "ready" });
