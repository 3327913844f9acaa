// Screen cost: what the Ink screen costs during a busy phase, measured in one process.
//
// A local nginx answers; the runbook's own load generator (worker threads) sends as fast
// as it can, while a synthetic busy engine feeds the events a large drain produces: the
// generator's one-second traffic events, gate verdicts (`--gates`/s), and drain events
// (`--drain-events`/s through the real DrainProgress summariser, so progress lines arrive
// as they do in a run). Phases alternate, same events each time: "off" sends them to no
// renderer, "on" also to the real screen (renderInk, frames written to a counting TTY
// stream instead of a terminal). Prints the screen's frames/s and the generator's
// throughput with the screen as a ratio of without (DESIGN.md: ≤ 10 renders/s, < 10% loss).
//
// Run (after `npm run build`; it imports dist/, as the CLI runs; one at a time):
//   flock /tmp/eks-heavy.lock node --experimental-strip-types --no-warnings \
//     bench/screen-cost.ts [--rounds 4] [--seconds 8] [--connections 10] [--gates 20] \
//     [--drain-events 400] [--columns 200] [--rows 50]

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import type { EngineEvent } from "../src/engine/events.js";
import type { DrainEvent } from "../src/ops/drain.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "8" },
    connections: { type: "string", default: "10" },
    gates: { type: "string", default: "20" },
    "drain-events": { type: "string", default: "400" },
    columns: { type: "string", default: "200" },
    rows: { type: "string", default: "50" },
  },
});
const int = (name: keyof typeof values, min: number) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min) {
    process.stderr.write(`error: --${name} must be an integer ≥ ${min}, got ${values[name]}\n`);
    process.exit(2);
  }
  return v;
};
const ROUNDS = int("rounds", 1);
const SECONDS = int("seconds", 2);
const CONNECTIONS = int("connections", 1);
const GATES_PER_S = int("gates", 0);
const DRAIN_PER_S = int("drain-events", 0);
const COLUMNS = int("columns", 20);
const ROWS = int("rows", 10);

delete process.env.CI; // Ink renders only a final frame under CI
const dist = new URL("../dist/", import.meta.url);
const { createLoadGenerator } = (await import(
  new URL("traffic/load-generator.js", dist).href
)) as typeof import("../src/traffic/load-generator.js");
const { withProductionReact } = (await import(
  new URL("ui/production-react.js", dist).href
)) as typeof import("../src/ui/production-react.js");
// As the CLI loads the screen (React's production build unless NODE_ENV says otherwise).
const { renderInk } = (await withProductionReact(
  () => import(new URL("ui/render-ink.js", dist).href),
)) as typeof import("../src/ui/render-ink.js");
const { DrainProgress } = (await import(
  new URL("ops/drain-progress.js", dist).href
)) as typeof import("../src/ops/drain-progress.js");

// ── nginx, as bench/load-nginx.sh starts it (one worker: the machine has few cores) ──────
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function startNginx(): Promise<{ url: string; proc: ChildProcess; prefix: string }> {
  const bin = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((b) => {
    try {
      execFileSync(b, ["-v"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
  if (!bin) {
    process.stderr.write("error: nginx is not installed: run `npm run setup`\n");
    process.exit(2);
  }
  const prefix = mkdtempSync(join(tmpdir(), "eks-runbook-screen-cost-"));
  const port = await freePort();
  writeFileSync(
    join(prefix, "nginx.conf"),
    `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`,
  );
  const proc = spawn(
    bin,
    ["-p", prefix, "-e", `${prefix}/error.log`, "-c", `${prefix}/nginx.conf`],
    {
      stdio: "ignore",
    },
  );
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, proc, prefix };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("nginx did not start");
}

// ── a terminal that counts instead of drawing ─────────────────────────────────────────
class CountingTty extends Writable {
  isTTY = true;
  columns = COLUMNS;
  rows = ROWS;
  bytes = 0;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
  getColorDepth(): number {
    return 8;
  }
  hasColors(): boolean {
    return true;
  }
}

// ── the busy engine: the same events with or without a screen ───────────────────────────
const at = () => new Date().toISOString();
const STEPS = [
  "preflight",
  "new-group",
  "new-nodes-ready",
  "shift-traffic",
  "cordon-old",
  "drain-old",
  "old-group-empty",
  "delete-old-group",
  "report",
].map((id, i) => ({ id, index: i + 1, title: id.replace(/-/g, " "), why: `why ${id}` }));
const DRAIN = "drain-old";

function busyEngine(emit: (e: EngineEvent) => void) {
  emit({
    type: "run",
    runId: "bench",
    stack: "bench",
    target: "local",
    dryRun: false,
    steps: STEPS.map((s, i) => ({ ...s, status: i < 5 ? "done" : "pending" })),
    at: at(),
  });
  emit({ type: "step", step: DRAIN, index: 6, status: "applying", at: at() });
  const progress = new DrainProgress((p) =>
    emit({ type: "progress", step: DRAIN, ...p, at: at() }),
  );
  const nodes = 300;
  const podsPerNode = 17;
  progress.on({ type: "cordoned", nodes: Array.from({ length: nodes }, (_, i) => `old-${i}`) });
  progress.on({
    type: "planned",
    pods: Array.from({ length: nodes * podsPerNode }, (_, i) => `fill/p-${i}`),
    nodes,
  });
  let seq = 0;
  const drainEvent = (): DrainEvent => {
    const n = seq++;
    const pod = Math.floor(n / 4);
    const node = `old-${Math.floor(pod / podsPerNode) % nodes}`;
    const name = `fill/p-${pod}`;
    switch (n % 4) {
      case 0:
        return { type: "evicting", node, pod: name };
      case 1:
        return pod % 5 === 0
          ? {
              type: "blocked",
              node,
              pod: name,
              message: "Cannot evict pod as it would violate the pod's disruption budget.",
              pdbs: [
                {
                  namespace: "fill",
                  name: `d-${pod % 100}`,
                  disruptionsAllowed: 0,
                  currentHealthy: 49,
                  desiredHealthy: 49,
                },
              ],
              attempt: 1,
              retryInMs: 250,
            }
          : { type: "evicted", node, pod: name };
      case 2:
        return { type: "evicted", node, pod: name };
      default:
        return pod % podsPerNode === podsPerNode - 1
          ? { type: "node-drained", node, durationMs: 700, evicted: podsPerNode }
          : { type: "gone", node, pod: name };
    }
  };
  let gateN = 0;
  let drainDue = 0;
  let gatesDue = 0;
  const tickMs = 50;
  const timer = setInterval(() => {
    drainDue += (DRAIN_PER_S * tickMs) / 1000;
    gatesDue += (GATES_PER_S * tickMs) / 1000;
    for (; drainDue >= 1; drainDue--) progress.on(drainEvent());
    for (; gatesDue >= 1; gatesDue--) {
      const g = gateN++;
      emit({
        type: "gate",
        step: DRAIN,
        gate: g % 2 ? "drained" : "placement",
        title: g % 2 ? "old group drained" : "pods on the new group",
        passed: false,
        settled: false,
        reason: `${Math.floor(g / 2) % 5000} of 5000 pods on the new group; ${g % 300} nodes left`,
        at: at(),
      });
    }
  }, tickMs);
  return () => {
    clearInterval(timer);
    progress.close();
  };
}

// ── one phase: the generator for SECONDS, the busy engine, with or without the screen ──
async function phase(url: string, screen: boolean) {
  const gen = createLoadGenerator({ connections: CONNECTIONS, durationMs: SECONDS * 1000 });
  const tty = new CountingTty();
  let frames = 0;
  const ink = screen
    ? renderInk(
        { decide: () => {}, abort: () => {} },
        {
          interactive: false,
          stdout: tty as unknown as NodeJS.WriteStream,
          write: () => {},
          onRender: () => frames++,
        },
      )
    : undefined;
  const listeners: ((e: EngineEvent) => void)[] = [];
  if (ink) listeners.push(ink.onEvent);
  let events = 0;
  const emit = (e: EngineEvent) => {
    events++;
    for (const l of listeners) l(e);
  };
  const stopEngine = busyEngine(emit);
  const unsubscribe = gen.subscribe((s) => {
    const total = gen.total();
    emit({
      ...s,
      type: "traffic",
      at: new Date(s.at).toISOString(),
      total: { requests: total.requests, ok: total.ok, failed: total.failed },
      step: { id: DRAIN, requests: total.requests, ok: total.ok, failed: total.failed },
    });
  });
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const frames0 = frames;
  await gen.start({ url }, AbortSignal.timeout(SECONDS * 1000 + 30_000));
  const summary = await gen.finished();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const framesDuring = frames - frames0;
  unsubscribe();
  stopEngine();
  await ink?.close();
  return {
    rps: summary.rps,
    failed: summary.requests.failed,
    framesPerS: framesDuring / wall,
    eventsPerS: events / wall,
    // Main thread plus the generator's worker: process.cpuUsage counts every thread.
    cpuPercent: ((cpu.user + cpu.system) / 1000 / (wall * 1000)) * 100,
    kbPerS: tty.bytes / 1024 / wall,
    /** The main thread's busy share (the screen runs there; the requests do not). */
    mainBusy: elu.utilization * 100,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const nginx = await startNginx();
try {
  console.log(
    `screen cost: ${ROUNDS} rounds × 2 phases × ${SECONDS}s, ${CONNECTIONS} connections, ` +
      `${GATES_PER_S} gate events/s, ${DRAIN_PER_S} drain events/s, screen ${COLUMNS}×${ROWS}`,
  );
  await phase(nginx.url, true); // warm-up (JIT, connections), not counted
  const off: Awaited<ReturnType<typeof phase>>[] = [];
  const on: typeof off = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so drift on a shared machine hits both alike.
    const order = r % 2 ? [true, false] : [false, true];
    for (const screen of order) {
      const p = await phase(nginx.url, screen);
      (screen ? on : off).push(p);
      console.log(
        `  round ${r + 1} screen ${screen ? "on " : "off"}: ${p.rps.toFixed(0)} req/s, ${p.failed} failed, ` +
          `${p.framesPerS.toFixed(1)} frames/s, ${p.eventsPerS.toFixed(0)} events/s, CPU ${p.cpuPercent.toFixed(0)}% (main thread busy ${p.mainBusy.toFixed(0)}%), ${p.kbPerS.toFixed(1)} KB/s to the terminal`,
      );
    }
  }
  const rpsOff = median(off.map((p) => p.rps));
  const rpsOn = median(on.map((p) => p.rps));
  const fps = Math.max(...on.map((p) => p.framesPerS));
  const loss = 1 - rpsOn / rpsOff;
  console.log(`\nthroughput without the screen: median ${rpsOff.toFixed(0)} req/s`);
  console.log(`throughput with the screen:    median ${rpsOn.toFixed(0)} req/s`);
  console.log(
    `ratio with/without ${(rpsOn / rpsOff).toFixed(3)} (loss ${(loss * 100).toFixed(1)}%, goal < 10%: ${loss < 0.1 ? "met" : "MISSED"})`,
  );
  console.log(
    `screen frames/s: max ${fps.toFixed(1)} over the rounds (median ${median(on.map((p) => p.framesPerS)).toFixed(1)}; goal ≤ 10: ${fps <= 10 ? "met" : "MISSED"})`,
  );
  console.log(
    `process CPU (main + generator threads): without ${median(off.map((p) => p.cpuPercent)).toFixed(0)}%, with ${median(on.map((p) => p.cpuPercent)).toFixed(0)}% of a core; main thread busy without ${median(off.map((p) => p.mainBusy)).toFixed(0)}%, with ${median(on.map((p) => p.mainBusy)).toFixed(0)}%`,
  );
} finally {
  nginx.proc.kill("SIGTERM");
  await new Promise((r) => nginx.proc.once("exit", r));
  rmSync(nginx.prefix, { recursive: true, force: true });
}
