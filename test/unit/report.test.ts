import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JournalRecord } from "../../src/engine/journal.js";
import { writeReport } from "../../src/report/report-writer.js";

const t = (s: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, s)).toISOString();

describe("report", () => {
  it("writes timeline, summary with verdict, and a chart as SVG and PNG", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "report-")), "r");
    const base = Date.parse(t(0));
    const samples = Array.from({ length: 30 }, (_, i) => ({
      at: base + i * 1000,
      requests: 300,
      ok: i === 20 ? 298 : 300,
      failed: i === 20 ? 2 : 0,
      errors: (i === 20 ? { "502": 1, reset: 1 } : {}) as Record<string, number>,
      p50Ms: 1.2,
      p99Ms: 4.5,
    }));
    const journal: JournalRecord[] = [
      { type: "transition", at: t(0), step: "a", status: "previewing" },
      { type: "decision", at: t(1), step: "a", decision: "confirm", user: "ops" },
      { type: "transition", at: t(2), step: "a", status: "verifying" },
      {
        type: "gate",
        at: t(9),
        step: "a",
        gate: "traffic",
        passed: true,
        reason: "100% of 3000 ok",
      },
      { type: "transition", at: t(10), step: "a", status: "done" },
      {
        type: "override",
        at: t(25),
        step: "b",
        gates: [{ gate: "traffic", reason: "99.3% ok" }],
        user: "ops",
      },
    ];
    const s = await writeReport({
      stack: "dev",
      target: "local",
      steps: [
        { id: "a", title: "Step A" },
        { id: "b", title: "Step B" },
      ],
      journal,
      timeline: {
        samples,
        marks: [
          { label: "a", at: base },
          { label: "b", at: base + 15_000 },
        ],
      },
      dir,
    });
    expect(s.requests).toEqual({
      total: 9000,
      ok: 8998,
      failed: 2,
      errors: { "502": 1, reset: 1 },
    });
    expect(s.verdict).toBe("requests failed");
    expect(s.steps[0]).toMatchObject({
      status: "done",
      durationSeconds: 10,
      confirmedBy: [`confirm by ops at ${t(1)}`],
    });
    const md = readFileSync(join(dir, "report.md"), "utf8");
    expect(md).toContain("**Verdict: requests failed** — 9,000 requests, 8,998 ok, 2 failed");
    expect(md).toContain("step b by ops");
    const csv = readFileSync(join(dir, "timeline.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe(
      "at,epoch_ms,duration_ms,requests,ok,failed,p50_ms,p99_ms,error_502,error_reset,marks",
    );
    expect(csv).toHaveLength(31);
    expect(csv[1]).toMatch(/,300,300,0,1\.2,4\.5,0,0,a$/);
    expect(csv[16]).toMatch(/,300,300,0,1\.2,4\.5,0,0,b$/);
    expect(csv[21]).toMatch(/,300,298,2,1\.2,4\.5,1,1,$/);
    const svg = readFileSync(join(dir, "chart.svg"), "utf8");
    expect(svg).toContain("success rate");
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    const png = readFileSync(join(dir, "chart.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(10_000);
    expect(existsSync(join(dir, "timeline.json"))).toBe(true);
    // The operator's alone, whatever the umask: 0700 directory, 0600 files.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  });
});
