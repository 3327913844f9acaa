import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { reportCommand } from "../../src/cli/report-command.js";
import { reportsDir } from "../../src/cli/state-dir.js";
import type { JournalRecord } from "../../src/engine/journal.js";
import { renderTerminal } from "../../src/report/report-terminal.js";
import { writeReport } from "../../src/report/report-writer.js";
import {
  iso,
  STALL,
  STEPS,
  type Story,
  syntheticSamples,
  T0,
} from "../helpers/synthetic-timeline.js";

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

// ── synthetic runs: a clean run, a stall, a spike of 5xx ─────────────────────────────

function syntheticJournal(story: Story): JournalRecord[] {
  const recs: JournalRecord[] = [
    { type: "run", at: iso(0), user: "alice", target: "local", stack: "dev", pid: 1 },
  ];
  for (const s of STEPS) {
    recs.push({ type: "transition", at: iso(s.from), step: s.id, status: "previewing" });
    recs.push({
      type: "decision",
      at: iso(s.from),
      step: s.id,
      decision: "confirm",
      user: "alice",
    });
    recs.push({ type: "transition", at: iso(s.from + 1), step: s.id, status: "applying" });
    recs.push({ type: "transition", at: iso(s.from + 2), step: s.id, status: "verifying" });
    const failedHere =
      (story === "stall" && s.id === "migrate-nginx") ||
      (story === "spike" && s.id === "migrate-nginx");
    recs.push({
      type: "gate",
      at: iso(s.to - 1),
      step: s.id,
      gate: "traffic",
      passed: !failedHere,
      reason: failedHere
        ? "8 of 6,900 requests failed since this step started"
        : "100.00% ok over 5s",
    });
    if (s.id === "drain-old-nodes") {
      // the report step: still applying while it writes its report
      recs.push({
        type: "transition",
        at: iso(s.to - 1),
        step: "verify-report",
        status: "previewing",
      });
      recs.push({
        type: "transition",
        at: iso(s.to - 1),
        step: "verify-report",
        status: "applying",
      });
    }
    recs.push({
      type: "transition",
      at: iso(s.to),
      step: s.id,
      status: failedHere ? "failed" : "done",
    });
  }
  if (story !== "clean")
    recs.push({
      type: "error",
      at: iso(45),
      step: "migrate-nginx",
      message: "traffic gate failed",
    });
  return recs;
}

async function syntheticReport(story: Story) {
  const dir = join(mkdtempSync(join(tmpdir(), `report-${story}-`)), "r");
  const steps = [
    ...STEPS.map((s) => ({ id: s.id, title: s.title })),
    { id: "verify-report", title: "Verify & report" },
  ];
  const s = await writeReport({
    stack: "dev",
    target: "local",
    steps,
    journal: syntheticJournal(story),
    timeline: {
      samples: syntheticSamples(story),
      marks: STEPS.map((st) => ({ label: st.id, at: T0 + st.from * 1000 })),
    },
    dir,
    reportStep: "verify-report",
    cluster: "eks-runbook-dev",
    region: "us-east-1",
    config: { gates: { ignoreFailureClasses: [] } },
    now: T0 + 61_000,
  });
  // REPORT_OUT=<dir>: keep the files, e.g. to look at report.html in a browser
  if (process.env.REPORT_OUT) cpSync(dir, join(process.env.REPORT_OUT, story), { recursive: true });
  return { s, dir };
}

describe("report on synthetic runs", () => {
  it("report.json validates against docs/report.schema.json (ajv), for every story", async () => {
    const schema = JSON.parse(readFileSync(join(process.cwd(), "docs/report.schema.json"), "utf8"));
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    const validate = ajv.compile(schema);
    for (const story of ["clean", "stall", "spike"] as const) {
      const { dir } = await syntheticReport(story);
      const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
      const ok = validate(json);
      expect(validate.errors ?? [], story).toEqual([]);
      expect(ok).toBe(true);
    }
    // and the schema has teeth: a wrong verdict or an unknown key is refused
    const { dir } = await syntheticReport("clean");
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(validate({ ...json, verdict: "fine" })).toBe(false);
    expect(validate({ ...json, surprise: 1 })).toBe(false);
  });

  it("a clean run: zero downtime, per-step numbers, metadata, and the last step is not 'applying'", async () => {
    const { s } = await syntheticReport("clean");
    expect(s.verdict).toBe("zero downtime");
    expect(s.window).toEqual({ start: iso(0), end: iso(61) });
    expect(s.operators).toEqual(["alice"]);
    expect(s.confirmations).toHaveLength(4);
    expect(s.metadata).toMatchObject({ cluster: "eks-runbook-dev", region: "us-east-1" });
    expect(s.metadata.configDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(s.metadata.versions.node).toBe(process.versions.node);
    const last = s.steps.at(-1)!;
    expect(last.status).toBe("done");
    expect(last.statusNote).toMatch(/decided by this report/);
    expect(last.endedAt).toBe(iso(61));
    const nginx = s.steps.find((st) => st.id === "migrate-nginx")!;
    expect(nginx.durationSeconds).toBe(23);
    expect(nginx.traffic).toMatchObject({ requests: 23 * 300, failed: 0, outageSeconds: 0 });
    expect(nginx.traffic!.p50Ms).toBeGreaterThan(1);
    expect(nginx.traffic!.p99Ms).toBe(12);
    expect(nginx.traffic!.maxMs).toBe(16);
    expect(s.peakRps).toBe(300); // the partial last second is not a rate
  });

  it("a stall: the verdict and the step show the seconds nothing completed", async () => {
    const { s, dir } = await syntheticReport("stall");
    expect(s.verdict).toBe("requests failed");
    expect(s.outageSeconds).toBe(6);
    expect(s.verdictDetail).toContain("6 s in which no request completed");
    const nginx = s.steps.find((st) => st.id === "migrate-nginx")!;
    expect(nginx.status).toBe("failed");
    expect(nginx.traffic).toMatchObject({ outageSeconds: 6, failed: 8, errors: { timeout: 8 } });
    expect(nginx.traffic!.maxMs).toBe(2001);
    expect(s.steps.at(-1)!.status).toBe("failed");
    // the chart spec written beside the report marks those seconds as outages
    const spec = readFileSync(join(dir, "chart.vl.json"), "utf8");
    expect(spec).toContain(`{"t":${T0 + STALL.from * 1000},"t2":${T0 + (STALL.from + 1) * 1000}}`);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    expect(md).toContain(
      "| 3 | Migrate NGINX to the new group | failed | 23.0 s | 5,108 | 8: timeout 8 (6 s no answer) |",
    );
  });

  it("a 5xx spike: failures by class in every rendering; gate verdicts as a table, no <br>", async () => {
    const { s, dir } = await syntheticReport("spike");
    expect(s.requests.errors).toEqual({ "http-503": 72, "keepalive-race": 18 });
    const md = readFileSync(join(dir, "report.md"), "utf8");
    expect(md).not.toContain("<br>");
    expect(md).toContain("| step | gate | verdict | reason |");
    expect(md).toContain("| 3 Migrate NGINX to the new group | traffic | failed |");
    expect(md).toContain("http-503 72, keepalive-race 18");
    const html = readFileSync(join(dir, "report.html"), "utf8");
    // self-contained: the chart inline, nothing fetched
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    expect(html).toContain("http-503 72, keepalive-race 18");
    expect(html).toContain("Migrate NGINX to the new group");
    expect(html).toContain("eks-runbook-dev");
    const csv = readFileSync(join(dir, "timeline.csv"), "utf8").split("\n");
    expect(csv[0]).toContain("error_http-503,error_keepalive-race");
  });

  it("the terminal rendering: a table, the verdict and the files, no Markdown or HTML", async () => {
    const { s, dir } = await syntheticReport("spike");
    const text = renderTerminal(s, dir);
    expect(text).toContain("Verdict: requests failed");
    expect(text).toMatch(/^#\s+step\s+status\s+duration/m);
    expect(text).toContain("Failed gates:");
    expect(text).toContain("report.html");
    expect(text).not.toMatch(/<br>|\*\*|\|/);
  });
});

describe("eks-runbook report", () => {
  it("prints a terminal summary, each format on request, and --open prints the HTML path", async () => {
    const home = mkdtempSync(join(tmpdir(), "report-home-"));
    const prev = process.env.EKS_RUNBOOK_HOME;
    process.env.EKS_RUNBOOK_HOME = home;
    try {
      const { dir } = await syntheticReport("clean");
      const runDir = join(reportsDir("dev"), "2026-11-21T10-01-01-000Z");
      mkdirSync(runDir, { recursive: true });
      cpSync(dir, runDir, { recursive: true });
      const run = async (opts: Record<string, unknown>, which?: string) => {
        let text = "";
        const code = await reportCommand(
          { stack: "dev", ...opts },
          {
            out: (t) => {
              text += t;
            },
            color: false,
            which: () => which,
          },
        );
        return { code, text };
      };
      const term = await run({});
      expect(term.code).toBe(0);
      expect(term.text).toContain("Verdict: zero downtime");
      expect(term.text).toContain(`Files in ${runDir}:`);
      expect(term.text).not.toContain("<br>");
      expect((await run({ format: "json" })).text).toBe(
        readFileSync(join(runDir, "report.json"), "utf8"),
      );
      expect((await run({ format: "md" })).text).toContain("# eks-runbook report");
      expect((await run({ format: "html" })).text).toMatch(/^<!doctype html>/);
      // no opener installed: the path is printed, nothing is spawned
      expect((await run({ open: true }, undefined)).text).toBe(`${join(runDir, "report.html")}\n`);
      await expect(run({ format: "pdf" })).rejects.toThrow(/--format "pdf"/);
    } finally {
      if (prev === undefined) delete process.env.EKS_RUNBOOK_HOME;
      else process.env.EKS_RUNBOOK_HOME = prev;
    }
  });
});
