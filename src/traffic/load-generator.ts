import { Worker } from "node:worker_threads";
import type { TrafficSource, TrafficTarget } from "../engine/ports.js";
import type { Percentiles } from "./latency-histogram.js";
import type { FromWorker, LoadWorkerConfig, LoadWorkerData, ToWorker } from "./load-protocol.js";
import { type LoadSummary, SampleMerger } from "./sample-merger.js";
import type { TimelineLog } from "./timeline-log.js";
import { type LoadSample, type TrafficCounts, toStats } from "./traffic-stats.js";
import { DEFAULT_MAX_MARKS, DEFAULT_MAX_SAMPLES, TrafficTimeline } from "./traffic-timeline.js";

export type { LoadSummary } from "./sample-merger.js";

// The load generator as the engine and the `load` command see it: a TrafficSource whose
// requests are sent by worker threads (so rendering never slows them; several threads to use
// several cores) and whose timeline lives here, fed by one merged sample per second.

export interface LoadGeneratorOptions {
  /** Keep-alive connections over all threads (default 10). */
  connections?: number;
  /** Worker threads sharing the connections (default 1; at most `connections`). */
  threads?: number;
  /** Target requests/s over all connections; 0 or absent: as fast as possible. */
  rate?: number;
  /** Per-request timeout (default 2000 ms). */
  timeoutMs?: number;
  /** Stop by itself after exactly this many requests (at most 2^31 - 1). */
  maxRequests?: number;
  /** Stop sending by itself after this long, then drain. */
  durationMs?: number;
  /** Timeline bound (one sample per second; default 86,400 = 24 h). */
  maxSamples?: number;
  /** Request method (default GET). */
  method?: string;
  /** Extra request headers, [name, value] pairs in order. */
  headers?: [string, string][];
  /** Body sent with every request. */
  body?: string;
  /** HTTPS: do not verify the server's certificate. */
  insecure?: boolean;
  /**
   * Where the timeline is kept across processes (a run's state directory): what earlier
   * processes recorded is read once and comes first in timeline(), every sample and mark
   * of this one is appended. Gates never see the earlier seconds: windows, marks and
   * totals count this process's traffic only.
   */
  log?: TimelineLog;
}

export interface LoadGenerator extends TrafficSource {
  /** Ends with the run's summary: after stop(), the start signal, or the budget is spent. */
  finished(): Promise<LoadSummary>;
  /** Latency over the current run so far (updated once per second). */
  latency(): Percentiles;
  /** Like window/since/total, with the breakdown of errors by status code and kind. */
  windowCounts(seconds: number): TrafficCounts;
  sinceCounts(mark: string): TrafficCounts;
  totalCounts(): TrafficCounts;
  timeline(): { samples: LoadSample[]; marks: { label: string; at: number }[] };
  /** Samples carry their bucket length (the last one of a run is shorter). */
  subscribe(listener: (s: LoadSample) => void): () => void;
}

/** Time the workers get beyond the per-request timeout to drain before they are killed. */
const DRAIN_GRACE_MS = 5_000;
const MAX_REQUESTS = 2 ** 31 - 1;
/** How long a worker that reported "done" may take to exit before it is terminated. */
const EXIT_GRACE_MS = 2_000;

/**
 * Running the TypeScript sources (tests), the worker is a .ts file: Node strips its types,
 * but the `.js` specifiers NodeNext requires must be mapped to the `.ts` files that exist.
 */
const SOURCE_BOOTSTRAP = `
const { registerHooks } = require("node:module");
const { workerData } = require("node:worker_threads");
registerHooks({
  resolve(specifier, context, next) {
    try { return next(specifier, context); } catch (err) {
      if (specifier.startsWith(".") && specifier.endsWith(".js")) {
        return next(specifier.slice(0, -3) + ".ts", context);
      }
      throw err;
    }
  },
});
import(workerData.entry);
`;

function spawnWorker(data: LoadWorkerData): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSource ? "./load-worker.ts" : "./load-worker.js", import.meta.url);
  return fromSource
    ? new Worker(SOURCE_BOOTSTRAP, { eval: true, workerData: { ...data, entry: entry.href } })
    : new Worker(entry, { workerData: data });
}

/** One config per worker: connections split as evenly as possible, the rate in proportion. */
export function workerConfigs(target: TrafficTarget, o: LoadGeneratorOptions): LoadWorkerConfig[] {
  const url = new URL(target.url);
  const rawPath = target.path ?? `${url.pathname}${url.search}`;
  const connections = Math.max(1, Math.floor(o.connections ?? 10));
  const threads = Math.min(connections, Math.max(1, Math.floor(o.threads ?? 1)));
  if (o.maxRequests !== undefined && !(o.maxRequests >= 1 && o.maxRequests <= MAX_REQUESTS)) {
    throw new RangeError(`maxRequests must be from 1 to ${MAX_REQUESTS}, got ${o.maxRequests}`);
  }
  return Array.from({ length: threads }, (_, i) => {
    const share = Math.floor(connections / threads) + (i < connections % threads ? 1 : 0);
    return {
      origin: url.origin,
      path: rawPath.startsWith("/") ? rawPath : `/${rawPath}`,
      ...(target.host ? { host: target.host } : {}),
      ...(o.method ? { method: o.method } : {}),
      ...(o.headers?.length ? { headers: o.headers } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.insecure ? { insecure: true } : {}),
      connections: share,
      ...(o.rate ? { rate: (o.rate * share) / connections } : {}),
      timeoutMs: o.timeoutMs ?? 2000,
      ...(o.maxRequests !== undefined ? { maxRequests: o.maxRequests } : {}),
      ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
    };
  });
}

interface Run {
  workers: Worker[];
  finished: Promise<LoadSummary>;
  exited: Promise<void>;
  timeoutMs: number;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by whoever awaits it; never unhandled
  return { promise, resolve, reject };
}

export function createLoadGenerator(options: LoadGeneratorOptions = {}): LoadGenerator {
  const store = new TrafficTimeline(
    options.maxSamples !== undefined ? { maxSamples: options.maxSamples } : {},
  );
  let run: Run | undefined;
  let running = false;
  let merger: SampleMerger | undefined;
  const log = options.log;
  const earlier = log?.read() ?? { samples: [], marks: [] };
  const maxSamples = Math.max(1, options.maxSamples ?? DEFAULT_MAX_SAMPLES);
  let logFailed = false;
  /** Persisting is for the report: a full disk must not stop the traffic or the gates. */
  const persist = (write: (l: TimelineLog) => void) => {
    if (!log || logFailed) return;
    try {
      write(log);
    } catch (err) {
      logFailed = true;
      process.stderr.write(
        `warning: the traffic timeline could not be saved to ${log.path} (${err instanceof Error ? err.message : String(err)}); a resumed run's report will miss these seconds\n`,
      );
    }
  };
  // Nothing is written before the first start: a dry run marks its steps but sends no
  // traffic, and must leave no timeline behind. Marks made until then are kept for it.
  let persisting = false;
  const pendingMarks: { label: string; at: number }[] = [];
  const record = (s: LoadSample) => {
    store.add(s);
    persist((l) => l.appendSample(s));
  };

  async function start(target: TrafficTarget, signal: AbortSignal): Promise<void> {
    if (running) throw new Error("the load generator is already running; stop it first");
    signal.throwIfAborted();
    const configs = workerConfigs(target, options);
    if (!persisting) {
      persisting = true;
      for (const pm of pendingMarks.splice(0)) persist((l) => l.appendMark(pm.label, pm.at));
    }
    const issued = options.maxRequests !== undefined ? new SharedArrayBuffer(4) : undefined;
    const workers = configs.map((config) => spawnWorker({ config, ...(issued ? { issued } : {}) }));
    running = true;
    const m = new SampleMerger(workers.length, Date.now(), record);
    merger = m;

    const ready = deferred<void>();
    const finished = deferred<LoadSummary>();
    let readyCount = 0;
    const doneWorkers = new Set<number>();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      running = false;
      ready.reject(err);
      finished.reject(err);
      for (const w of workers) void w.terminate();
    };

    workers.forEach((worker, i) => {
      worker.on("message", (msg: FromWorker) => {
        switch (msg.type) {
          case "ready":
            if (++readyCount === workers.length) ready.resolve();
            break;
          case "bucket":
            m.add(i, msg.bucket);
            break;
          case "done":
            doneWorkers.add(i);
            m.workerDone(i, msg.totals);
            if (m.allDone) void endRun();
            break;
          case "fatal":
            fail(new Error(`load worker failed: ${msg.message}`));
            break;
        }
      });
      worker.on("error", fail);
      // A worker that exits before its "done" (crash, terminate) ends the run as failed.
      worker.once("exit", (code) => {
        if (!doneWorkers.has(i)) {
          fail(new Error(`load worker exited (code ${code}) before finishing its run`));
        }
      });
    });
    const exited = Promise.all(
      workers.map((w) => new Promise<void>((res) => w.once("exit", () => res()))),
    ).then(() => undefined);
    // The run ends when its threads are gone, not just done: the next run's threads must not
    // start while these still tear down (that overlap has crashed Node: nodejs/node#56312).
    // A done worker exits by itself at once; one that lingers is terminated.
    const endRun = async () => {
      const lingering = setTimeout(() => {
        for (const w of workers) void w.terminate();
      }, EXIT_GRACE_MS);
      await exited;
      clearTimeout(lingering);
      running = false;
      finished.resolve(m.summary());
    };
    run = { workers, finished: finished.promise, exited, timeoutMs: configs[0]!.timeoutMs };
    const onAbort = () => void stop();
    signal.addEventListener("abort", onAbort, { once: true });
    void finished.promise
      .finally(() => signal.removeEventListener("abort", onAbort))
      .catch(() => undefined);

    await ready.promise;
    // Every worker counts seconds from the same instant, so their buckets line up. (Workers
    // told to stop while starting up ignore "go".)
    m.epoch0 = Date.now();
    for (const w of workers) w.postMessage({ type: "go", epoch0: m.epoch0 } satisfies ToWorker);
  }

  async function stop(): Promise<void> {
    const r = run;
    if (!r) return;
    if (running) for (const w of r.workers) w.postMessage({ type: "stop" } satisfies ToWorker);
    const killAfter = setTimeout(() => {
      for (const w of r.workers) void w.terminate();
    }, r.timeoutMs + DRAIN_GRACE_MS);
    try {
      await r.finished.catch(() => undefined);
      await r.exited;
    } finally {
      clearTimeout(killAfter);
    }
  }

  async function finished(): Promise<LoadSummary> {
    if (!run) throw new Error("the load generator has not been started");
    return run.finished;
  }

  return {
    get running() {
      return running;
    },
    start,
    stop,
    finished,
    mark: (label) => {
      const at = Date.now();
      store.mark(label, at);
      if (persisting) persist((l) => l.appendMark(label, at));
      else if (log && pendingMarks.length < DEFAULT_MAX_MARKS) pendingMarks.push({ label, at });
    },
    subscribe: (listener) => store.subscribe(listener),
    window: (seconds) => toStats(store.windowCounts(seconds)),
    since: (mark) => toStats(store.sinceCounts(mark)),
    total: () => toStats(store.totalCounts()),
    windowCounts: (seconds) => store.windowCounts(seconds),
    sinceCounts: (mark) => store.sinceCounts(mark),
    totalCounts: () => store.totalCounts(),
    latency: () => merger?.latency() ?? { p50: 0, p99: 0, max: 0 },
    timeline: () => {
      const now = store.timeline();
      if (earlier.samples.length === 0 && earlier.marks.length === 0) return now;
      const first = now.samples[0]?.at ?? Number.POSITIVE_INFINITY;
      const samples = [...earlier.samples.filter((s) => s.at < first), ...now.samples];
      return {
        samples: samples.slice(Math.max(0, samples.length - maxSamples)),
        marks: [...earlier.marks, ...now.marks],
      };
    },
  };
}
