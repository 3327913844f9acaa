import { createServer, type Server, type Socket } from "node:net";
import { CommanderError } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCommand } from "../../src/cli/load-command.js";
import { ExitCode, InputError } from "../../src/engine/errors.js";
import { createLoadGenerator } from "../../src/traffic/load-generator.js";
import { freePort, type NginxServer, startNginx } from "../helpers/nginx.js";

// The load generator against a real nginx that injects 5xx on a share of requests and
// closes connections without answering (`return 444`): every request the generator counts
// must be one nginx logged, by status, exactly.

let nginx: NginxServer;

const MIXED = `
  split_clients "\${request_id}" $inject {
    10%  s503;
    5%   s500;
    5%   reset;
    *    ok;
  }`;

beforeAll(async () => {
  nginx = await startNginx({
    http: MIXED,
    server: `
      location = /ok { default_type text/plain; return 200 "ok\\n"; }
      location = /reset { return 444; }
      location = /mixed {
        if ($inject = s503) { return 503; }
        if ($inject = s500) { return 500; }
        if ($inject = reset) { return 444; }
        default_type text/plain;
        return 200 "ok\\n";
      }`,
  });
});

afterAll(async () => {
  await nginx?.stop();
});

/** Runs `eks-runbook load …` in-process; returns its stdout lines and exit code. */
async function runLoad(args: string[], signal?: AbortSignal, onLine?: (line: string) => void) {
  const lines: string[] = [];
  let exitCode: number | undefined;
  await loadCommand({
    out: (l) => {
      lines.push(l);
      onLine?.(l);
    },
    setExitCode: (c) => {
      exitCode = c;
    },
    ...(signal ? { signal } : {}),
  }).parseAsync(args, { from: "user" });
  return { lines, exitCode };
}

/** Counts with nginx's log: waits until nginx logged them all (it logs after answering). */
async function nginxCountsAfter(total: number) {
  return nginx.waitForLogged(total);
}

const CLASS_ORDER = ["http-500", "http-503", "refused", "reset", "keepalive-race"];
const order = (k: string) => CLASS_ORDER.indexOf(k);

const sumErrors = (objs: { errors: Record<string, number> }[]) => {
  const out: Record<string, number> = {};
  for (const o of objs) for (const [k, n] of Object.entries(o.errors)) out[k] = (out[k] ?? 0) + n;
  return out;
};

describe("eks-runbook load against nginx", () => {
  it("counts every request exactly: ok, 503, 500 and resets match nginx's log", async () => {
    // Given nginx answering /mixed with 10% 503, 5% 500, 5% closed without response
    const before = await nginx.statusCounts();
    // When 20,000 requests are sent on 20 connections split over 3 worker threads, --json
    const { lines, exitCode } = await runLoad([
      `${nginx.url}/mixed`,
      "--host",
      "apps.example.com",
      "--connections",
      "20",
      "--threads",
      "3",
      "--requests",
      "20000",
      "--json",
    ]);
    // Then every line is JSON, one traffic event per second and the summary last
    const events = lines.map((l) => JSON.parse(l));
    const summary = events.at(-1);
    // DESIGN.md's keys first, in order; the additions after them
    expect(Object.keys(summary).slice(0, 5)).toEqual([
      "type",
      "durationSeconds",
      "rps",
      "requests",
      "latencyMs",
    ]);
    expect(Object.keys(summary).slice(5)).toEqual([
      "successPercent",
      "notSent",
      "statusCodes",
      "errors",
      "histogram",
    ]);
    expect(summary.type).toBe("summary");
    expect(Object.keys(summary.requests)).toEqual(["total", "ok", "failed"]);
    expect(Object.keys(summary.latencyMs).slice(0, 2)).toEqual(["p50", "p99"]);
    expect(summary.requests.total).toBe(20_000);
    const traffic = events.slice(0, -1);
    expect(traffic.every((e) => e.type === "traffic")).toBe(true);
    expect(traffic.reduce((a, e) => a + e.requests, 0)).toBe(20_000);
    expect(traffic.reduce((a, e) => a + e.ok, 0)).toBe(summary.requests.ok);

    // And the counts are exactly nginx's, status by status
    const after = await nginxCountsAfter(Object.values(before).reduce((a, b) => a + b, 0) + 20_000);
    const seen = (code: string) => (after[code] ?? 0) - (before[code] ?? 0);
    const errors = sumErrors(traffic);
    expect(summary.requests.ok).toBe(seen("200"));
    expect(errors["http-503"]).toBe(seen("503"));
    expect(errors["http-500"]).toBe(seen("500"));
    // a close without answer (444) is a reset on a fresh connection and a keep-alive race on
    // a reused one (nginx keeps connections open after 200 and 503)
    expect((errors.reset ?? 0) + (errors["keepalive-race"] ?? 0)).toBe(seen("444"));
    expect(errors["keepalive-race"]).toBeGreaterThan(0);
    expect(
      Object.keys(errors)
        .filter((k) => k !== "reset" && k !== "keepalive-race")
        .sort(),
    ).toEqual(["http-500", "http-503"]);
    // And the summary carries the same breakdown, and the status codes nginx logged
    expect(summary.errors).toEqual(
      Object.fromEntries(Object.entries(errors).sort(([a], [b]) => order(a) - order(b))),
    );
    expect(summary.statusCodes).toEqual({
      "200": seen("200"),
      "500": seen("500"),
      "503": seen("503"),
    });
    expect(summary.successPercent).toBeCloseTo((100 * seen("200")) / 20_000, 3);
    expect(summary.requests.failed).toBe(seen("503") + seen("500") + seen("444"));
    // the injection really happened (about 20% fail)
    expect(summary.requests.failed).toBeGreaterThan(2_000);
    // And a run with failures exits 1
    expect(exitCode).toBe(ExitCode.failed);
  });

  it("exits 0 with plain per-second lines and a summary when every request succeeds", async () => {
    const { lines, exitCode } = await runLoad([
      `${nginx.url}/ok`,
      "--connections",
      "4",
      "--requests",
      "3000",
    ]);
    expect(exitCode).toBe(ExitCode.ok);
    // (a run shorter than a second has only its partial line: a count, not a rate)
    expect(
      lines.some((l) =>
        /^\s*[\d.]+s\s+[\d,]+ (req\/s|in [\d.]+s) {2}ok [\d,]+ {2}failed 0/.test(l),
      ),
    ).toBe(true);
    expect(lines.find((l) => l.startsWith("requests"))).toMatch(/^requests {2}3,000 {2}\(/);
    expect(lines).toContain("failed    0");
    // hey/oha-style sections: success, latency distribution, status codes, histogram
    expect(lines).toContain("success   100.00%");
    expect(lines).toContain("Latency distribution:");
    expect(lines.some((l) => /^ {2}p99\.9 +[\d.]+ ms$/.test(l))).toBe(true);
    expect(lines).toContain("  [200] 3,000 responses");
    expect(lines).toContain("Response time histogram:");
  });

  it("reports resets when nginx closes every connection without answering", async () => {
    const before = (await nginx.statusCounts())["444"] ?? 0;
    const { lines, exitCode } = await runLoad([
      `${nginx.url}/reset`,
      "--connections",
      "5",
      "--requests",
      "200",
      "--json",
    ]);
    const summary = JSON.parse(lines.at(-1)!);
    expect(summary.requests).toEqual({ total: 200, ok: 0, failed: 200 });
    const errors = sumErrors(lines.slice(0, -1).map((l) => JSON.parse(l)));
    expect(errors).toEqual({ reset: 200 });
    const after = await nginx.waitForLogged(0);
    expect((after["444"] ?? 0) - before).toBe(200);
    expect(exitCode).toBe(ExitCode.failed);
  });

  it("stops on interrupt, drains, still prints the summary and exits 130", async () => {
    const before = Object.values(await nginx.statusCounts()).reduce((a, b) => a + b, 0);
    const ctrlC = new AbortController();
    // When the run is interrupted after its first per-second line
    const { lines, exitCode } = await runLoad(
      [`${nginx.url}/ok`, "--connections", "8", "--duration", "60s", "--json"],
      ctrlC.signal,
      () => ctrlC.abort(),
    );
    const summary = JSON.parse(lines.at(-1)!);
    expect(summary.type).toBe("summary");
    expect(summary.durationSeconds).toBeLessThan(30);
    expect(exitCode).toBe(ExitCode.interrupted);
    // And nothing sent went uncounted: nginx logged exactly the summary's total
    const after = await nginx.waitForLogged(before + summary.requests.total);
    const logged = Object.values(after).reduce((a, b) => a + b, 0) - before;
    expect(logged).toBe(summary.requests.total);
  });

  it("rejects an unknown flag with a CommanderError (the entry maps it to exit 2)", async () => {
    const err = await runLoad([`${nginx.url}/ok`, "--bogus"]).catch((e) => e);
    expect(err).toBeInstanceOf(CommanderError);
    expect(err.code).toBe("commander.unknownOption");
  });

  it("refuses an unreachable host before sending anything (InputError, exit 2)", async () => {
    const port = await freePort();
    const err = await runLoad([`http://127.0.0.1:${port}/`, "--requests", "5"]).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(ExitCode.badInput);
    expect(err.message).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  });
});

describe("transport errors by kind", () => {
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // A server that accepts connections and never answers.
    silent = createServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const addr = silent.address();
    silentPort = typeof addr === "object" && addr ? addr.port : 0;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  it("counts requests with no answer within --timeout as timeouts", async () => {
    const started = Date.now();
    const { lines, exitCode } = await runLoad([
      `http://127.0.0.1:${silentPort}/`,
      "--connections",
      "5",
      "--requests",
      "10",
      "--timeout",
      "300ms",
      "--json",
    ]);
    const summary = JSON.parse(lines.at(-1)!);
    expect(summary.requests).toEqual({ total: 10, ok: 0, failed: 10 });
    expect(sumErrors(lines.slice(0, -1).map((l) => JSON.parse(l)))).toEqual({ timeout: 10 });
    // two rounds of 5 connections, each waiting out the 300 ms timeout (not undici's ~1 s
    // timer resolution: the sweep enforces it within a 100 ms tick)
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(summary.durationSeconds).toBeLessThan(1.5);
    expect(exitCode).toBe(ExitCode.failed);
  });

  it("counts refused connections as connect errors without spinning", async () => {
    const port = await freePort();
    const gen = createLoadGenerator({ connections: 5, maxRequests: 15, timeoutMs: 1000 });
    await gen.start({ url: `http://127.0.0.1:${port}/` }, new AbortController().signal);
    const summary = await gen.finished();
    expect(summary.requests).toEqual({ total: 15, ok: 0, failed: 15 });
    expect(summary.errors).toEqual({ refused: 15 });
    // a lane that could not connect waits for the next tick (100 ms) before retrying
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(0.15);
    expect(gen.totalCounts().errors).toEqual({ refused: 15 });
  });
});

describe("createLoadGenerator as a TrafficSource", () => {
  it("marks, windows and totals agree with nginx; stop() drains and posts the last bucket", async () => {
    const before = Object.values(await nginx.statusCounts()).reduce((a, b) => a + b, 0);
    // two worker threads: their seconds must merge into one contiguous timeline
    const gen = createLoadGenerator({ connections: 4, threads: 2, rate: 1000, timeoutMs: 2000 });
    const samples: { at: number; requests: number; durationMs: number }[] = [];
    gen.subscribe((s) => samples.push(s));
    gen.mark("before-start");
    await gen.start({ url: `${nginx.url}/ok` }, new AbortController().signal);
    expect(gen.running).toBe(true);
    // When two full seconds have been reported, mark, and wait for one more
    await until(() => samples.length >= 2);
    gen.mark("step-2");
    await until(() => samples.length >= 4);
    await gen.stop();
    expect(gen.running).toBe(false);

    // Then the timeline is contiguous, ends with a partial bucket, and sums to the total
    const t = gen.timeline();
    expect(t.samples.length).toBe(samples.length);
    for (let i = 1; i < t.samples.length; i++) {
      expect(t.samples[i]!.at - t.samples[i - 1]!.at).toBe(1000);
    }
    expect(t.samples.at(-1)!.durationMs).toBeLessThan(1000);
    const total = gen.total();
    expect(total.requests).toBe(t.samples.reduce((a, s) => a + s.requests, 0));
    expect(total.successRate).toBe(1);
    expect((await gen.finished()).requests.total).toBe(total.requests);
    // And the rate limit held: never above 1000/s plus the bucket's 100 ms burst
    for (const s of t.samples.slice(0, -1)) expect(s.requests).toBeLessThanOrEqual(1100);
    // since/window/total are consistent
    expect(gen.since("before-start")).toEqual(total);
    const since2 = gen.since("step-2");
    expect(since2.requests).toBeGreaterThan(0);
    expect(since2.requests).toBeLessThan(total.requests);
    expect(gen.window(1).requests).toBe(t.samples.at(-1)!.requests);
    expect(gen.window(10_000)).toEqual(total);
    expect(t.marks.map((m) => m.label)).toEqual(["before-start", "step-2"]);

    // And nginx logged exactly as many requests
    const after = await nginx.waitForLogged(before + total.requests);
    expect(Object.values(after).reduce((a, b) => a + b, 0) - before).toBe(total.requests);
  });

  it("can be started again after a stop; the timeline continues", async () => {
    const gen = createLoadGenerator({ connections: 2, maxRequests: 100 });
    const signal = new AbortController().signal;
    await gen.start({ url: `${nginx.url}/ok` }, signal);
    await gen.finished();
    await gen.stop();
    await gen.start({ url: `${nginx.url}/ok` }, signal);
    await gen.finished();
    await gen.stop();
    expect(gen.total().requests).toBe(200);
  });

  it("stops when the start signal aborts", async () => {
    const ac = new AbortController();
    const gen = createLoadGenerator({ connections: 2 });
    await gen.start({ url: `${nginx.url}/ok` }, ac.signal);
    ac.abort();
    const summary = await gen.finished();
    expect(gen.running).toBe(false);
    expect(summary.requests.total).toBe(gen.total().requests);
  });
});

async function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
