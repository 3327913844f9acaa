import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, initialSpec } from "../../src/migrations/eks-nodegroups/config.js";
import { createRunReport } from "../../src/migrations/eks-nodegroups/report.js";
import { createLoadGenerator } from "../../src/traffic/load-generator.js";
import { TimelineLog } from "../../src/traffic/timeline-log.js";
import { nodeBin, repoRoot } from "../helpers/cli.js";
import { type NginxServer, startNginx } from "../helpers/nginx.js";

// A run whose process is killed while traffic flows, then resumed in another process: the
// report written at the end covers the seconds before the crash (from the timeline kept in
// the state directory), while the resumed run's gates count only its own traffic.

const here = fileURLToPath(new URL(".", import.meta.url));
let nginx: NginxServer;
let dir: string;

beforeAll(async () => {
  nginx = await startNginx({
    server: `location = /ok { default_type text/plain; return 200 "ok\\n"; }`,
  });
  dir = mkdtempSync(join(tmpdir(), "eks-runbook-timeline-"));
});

afterAll(async () => {
  await nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the traffic timeline across a crash and a resume", () => {
  it("the resumed run's report covers the seconds before the crash", async () => {
    const state = join(dir, "stack");
    const logPath = join(state, "traffic-timeline.jsonl");
    // A timeline line older than the journal (left by another change whose journal was
    // moved away): not part of this change window
    mkdirSync(state, { recursive: true, mode: 0o700 });
    const stale = { t: "s", at: Date.now() - 3_600_000, durationMs: 1000, requests: 7, ok: 7 };
    writeFileSync(
      logPath,
      `${JSON.stringify({ ...stale, failed: 0, errors: {}, p50Ms: 1, p99Ms: 1 })}\n`,
      { mode: 0o600 },
    );
    const journalAt = new Date().toISOString();
    writeFileSync(
      join(state, "journal.jsonl"),
      `${JSON.stringify({ type: "run", at: journalAt, user: "t", target: "local", stack: "dev", pid: 1 })}\n`,
      { mode: 0o600 },
    );
    // Given a run killed (SIGKILL) with traffic flowing, after two steps began
    const child = spawnSync(
      nodeBin,
      [
        "--experimental-transform-types",
        "--no-warnings",
        "--import",
        join(here, "infra-ts-hooks.mjs"),
        join(here, "timeline-resume-child.ts"),
        JSON.stringify({ url: `${nginx.url}/ok`, logPath }),
      ],
      { cwd: repoRoot, encoding: "utf8", timeout: 60_000 },
    );
    expect(child.signal, child.stderr).toBe("SIGKILL");
    const crashedAt = Date.now();
    // The file is the operator's alone, in a private directory
    expect(statSync(logPath).mode & 0o777).toBe(0o600);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const before = readFileSync(logPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const beforeSamples = before.filter((r) => r.t === "s" && r.at !== stale.at);
    expect(beforeSamples.length).toBeGreaterThanOrEqual(3);
    const sentBefore = beforeSamples.reduce((a, s) => a + s.requests, 0);
    expect(sentBefore).toBeGreaterThan(0);
    // …and a line torn by the crash
    appendFileSync(logPath, '{"t":"s","at":17');

    // When the run resumes in a new process: same state directory, new load generator
    const warnings: string[] = [];
    const log = new TimelineLog(logPath, { warn: (w) => warnings.push(w) });
    const gen = createLoadGenerator({ connections: 2, rate: 200, log });
    gen.mark("drain-old-nodes");
    await gen.start({ url: `${nginx.url}/ok` }, new AbortController().signal);
    await sleep(2_200);
    gen.mark("write-report");
    let written = "";
    const report = createRunReport({
      stack: "dev",
      target: "local",
      steps: [
        { id: "start-traffic", title: "Start traffic" },
        { id: "drain-old-nodes", title: "Drain the old nodes" },
        { id: "write-report", title: "Write the report" },
      ],
      journalPath: join(state, "journal.jsonl"),
      reportsDir: join(state, "reports"),
      traffic: gen,
      onWritten: (p) => {
        written = p;
      },
    });
    await gen.stop();
    const resumedTotal = gen.total().requests;
    const out = await report.write(initialSpec(DEFAULT_CONFIG), new AbortController().signal);
    log.close();

    // Then the torn line was skipped with a warning, not a failure
    expect(warnings.join("")).toMatch(/incomplete last line/);
    // And the gates' view is this process's traffic only
    const liveSum = gen
      .timeline()
      .samples.filter((s) => s.at >= crashedAt - 1000)
      .reduce((a, s) => a + s.requests, 0);
    expect(resumedTotal).toBeGreaterThan(0);
    expect(resumedTotal).toBeLessThanOrEqual(liveSum);
    // And the report's timeline starts before the crash and runs past the resume
    const reportDir = join(written, "..");
    expect(out.path).toBe(written);
    const timeline = JSON.parse(readFileSync(join(reportDir, "timeline.json"), "utf8")) as {
      samples: { at: string; requests: number }[];
      marks: { label: string; at: string }[];
    };
    const times = timeline.samples.map((s) => Date.parse(s.at));
    // nothing from before the journal's first record
    expect(Math.min(...times)).toBeGreaterThan(Date.parse(journalAt) - 1000);
    expect(Math.min(...times)).toBeLessThanOrEqual(beforeSamples[0].at);
    expect(times.filter((t) => t < crashedAt - 1000).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...times)).toBeGreaterThan(crashedAt);
    const reportedBefore = timeline.samples
      .filter((s) => Date.parse(s.at) <= beforeSamples.at(-1).at)
      .reduce((a, s) => a + s.requests, 0);
    expect(reportedBefore).toBe(sentBefore);
    // And the step marks of both processes are there, in time order
    expect(timeline.marks.map((m) => m.label)).toEqual([
      "start-traffic",
      "drain-old-nodes",
      "drain-old-nodes",
      "write-report",
    ]);
    // And the report's totals add up both processes' requests
    const json = JSON.parse(readFileSync(join(reportDir, "report.json"), "utf8")) as {
      requests: { total: number };
    };
    expect(json.requests.total).toBe(sentBefore + resumedTotal);
  });
});
