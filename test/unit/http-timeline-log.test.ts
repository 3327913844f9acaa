import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TimelineLog } from "../../src/traffic/timeline-log.js";
import type { LoadSample } from "../../src/traffic/traffic-stats.js";

// The timeline file on its own: bounded by compaction, tolerant of a torn last line,
// private, and read back exactly.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmpLog(opts: ConstructorParameters<typeof TimelineLog>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), "timeline-log-"));
  dirs.push(dir);
  const path = join(dir, "state", "traffic-timeline.jsonl");
  return { path, log: new TimelineLog(path, { warn: () => undefined, ...opts }) };
}

const sample = (i: number): LoadSample => ({
  at: 1_000_000 + i * 1000,
  durationMs: 1000,
  requests: 10 + i,
  ok: 9 + i,
  failed: 1,
  errors: { "http-503": 1 },
  p50Ms: 1.5,
  p99Ms: 4,
  maxMs: 7,
});

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n").length;

describe("TimelineLog", () => {
  it("reads back what was appended, in a 0600 file in a 0700 directory", () => {
    const { path, log } = tmpLog();
    log.appendMark("start-traffic", 999_500);
    for (let i = 0; i < 3; i++) log.appendSample(sample(i));
    log.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    const back = new TimelineLog(path).read();
    expect(back.samples).toEqual([sample(0), sample(1), sample(2)]);
    expect(back.marks).toEqual([{ label: "start-traffic", at: 999_500 }]);
  });

  it("stays bounded: past twice the samples kept, the file is rewritten with the newest", () => {
    const { path, log } = tmpLog({ maxSamples: 5, maxMarks: 2 });
    for (let i = 0; i < 23; i++) {
      log.appendSample(sample(i));
      if (i % 4 === 0) log.appendMark(`step-${i}`, sample(i).at);
      expect(lines(path)).toBeLessThanOrEqual(2 * 5 + 2 + 1);
    }
    log.close();
    const back = new TimelineLog(path, { maxSamples: 5, maxMarks: 2 }).read();
    expect(back.samples.map((s) => s.at)).toEqual([18, 19, 20, 21, 22].map((i) => sample(i).at));
    expect(back.marks.map((m) => m.label)).toEqual(["step-16", "step-20"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("skips a torn last line with a warning and cuts it before the next append", () => {
    const warnings: string[] = [];
    const { path, log } = tmpLog({ warn: (w) => warnings.push(w) });
    log.appendSample(sample(0));
    log.close();
    appendFileSync(path, '{"t":"s","at":100');
    const again = new TimelineLog(path, { warn: (w) => warnings.push(w) });
    expect(again.read().samples).toEqual([sample(0)]);
    expect(warnings.join("")).toMatch(/incomplete last line/);
    again.appendSample(sample(1));
    again.close();
    warnings.length = 0;
    expect(new TimelineLog(path, { warn: (w) => warnings.push(w) }).read().samples).toEqual([
      sample(0),
      sample(1),
    ]);
    expect(warnings).toEqual([]);
  });

  it("skips a damaged line (evidence: one lost second must not hide the others)", () => {
    const warnings: string[] = [];
    const { path, log } = tmpLog();
    log.appendSample(sample(0));
    log.close();
    appendFileSync(path, '{"t":"s","at":"yesterday"}\n');
    appendFileSync(path, `${JSON.stringify({ t: "s", ...sample(1) })}\n`);
    const back = new TimelineLog(path, { warn: (w) => warnings.push(w) }).read();
    expect(back.samples).toEqual([sample(0), sample(1)]);
    expect(warnings.join("")).toMatch(/1 damaged line/);
  });

  it("an absent file is an empty timeline", () => {
    const { log } = tmpLog();
    expect(log.read()).toEqual({ samples: [], marks: [] });
  });
});
