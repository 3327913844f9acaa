import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { sandboxDown, sandboxStatus } from "../../src/sandbox/sandbox.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { CliProcess } from "../helpers/cli-process.js";
import { uniqueName } from "../helpers/sandbox.js";

// The whole rehearsal through the real binary with --json, as CI would drive it: a dry run
// that changes nothing, then a run interrupted by Ctrl-C during an apply, resumed and
// SIGKILLed during step 4, resumed and SIGKILLed during step 5, and resumed to the end,
// which must finish every step with every gate passed and 0 failed requests.

const STEPS = [
  "provision",
  "start-traffic",
  "create-new-group",
  "migrate-nginx",
  "drain-old-nodes",
  "delete-old-nodes",
  "scale-old-to-zero",
  "remove-old-group",
  "verify-report",
];

const sandbox = uniqueName("e2e");
const home = mkdtempSync(join(tmpdir(), "ekr-e2e-"));
const env = { EKS_RUNBOOK_HOME: home, EKS_RUNBOOK_SANDBOX: sandbox, CI: "true" };
const run = (...extra: string[]) =>
  new CliProcess(["--target", "local", "--stack", "dev", "--json", ...extra], env);

async function clusterFacts() {
  const info = await sandboxStatus({ name: sandbox });
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const asg = new AutoScalingClient({
    region: "us-east-1",
    endpoint: info.motoEndpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  const groups = (await asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
  asg.destroy();
  return {
    nodes: (await core.listNode()).items.map((n) => n.metadata?.name),
    namespaces: (await core.listNamespace()).items.map((n) => n.metadata?.name),
    asgs: groups.map((g) => g.AutoScalingGroupName),
  };
}

// The published schema (docs/events.schema.json) validates every line of every run.
const validateEvent = new Ajv({ strict: false }).compile(
  JSON.parse(readFileSync(join(repoRoot, "docs", "events.schema.json"), "utf8")),
);
let runIdSeen: string | undefined;
/** When the first resumed run (traffic flowing since step 2) was SIGKILLed. */
let firstKillAt = 0;
function expectSchema(events: EngineEvent[]) {
  const ids = new Set<string>();
  for (const e of events) {
    expect(validateEvent(e), `${JSON.stringify(e)}\n${JSON.stringify(validateEvent.errors)}`).toBe(
      true,
    );
    const stamped = e as EngineEvent & { schemaVersion?: number; runId?: string };
    expect(stamped).toMatchObject({ schemaVersion: 1, at: expect.any(String) });
    ids.add(String(stamped.runId));
  }
  // One run id per invocation, on every line, and it is the run event's own.
  expect(ids.size).toBe(1);
  const run = events.find((e) => e.type === "run");
  if (run) expect(ids.has(run.runId)).toBe(true);
  runIdSeen = [...ids][0];
}

/** Every event has the fields DESIGN.md promises users' CI. */
function expectDesignShape(e: EngineEvent) {
  switch (e.type) {
    case "step":
      expect(e).toEqual(
        expect.objectContaining({
          step: expect.any(String),
          index: expect.any(Number),
          status: expect.any(String),
          at: expect.any(String),
        }),
      );
      return;
    case "preview":
      expect(e.changes).toEqual({
        create: expect.any(Number),
        update: expect.any(Number),
        replace: expect.any(Number),
        delete: expect.any(Number),
      });
      expect(Array.isArray(e.resources)).toBe(true);
      return;
    case "gate":
      expect(e).toEqual(
        expect.objectContaining({
          step: expect.any(String),
          gate: expect.any(String),
          passed: expect.any(Boolean),
          reason: expect.any(String),
        }),
      );
      return;
    case "traffic":
      expect(e).toEqual(
        expect.objectContaining({
          at: expect.any(String),
          requests: expect.any(Number),
          ok: expect.any(Number),
          failed: expect.any(Number),
          p50Ms: expect.any(Number),
          p99Ms: expect.any(Number),
        }),
      );
      return;
    case "summary":
      expect(e).toEqual(
        expect.objectContaining({
          result: expect.any(String),
          stepsDone: expect.any(Number),
          requests: {
            total: expect.any(Number),
            ok: expect.any(Number),
            failed: expect.any(Number),
          },
        }),
      );
      return;
    default:
      return;
  }
}

/** After a SIGKILL the lock's owner is gone: the same command takes it over and says so. */
function expectLockTakenOver(p: { events: EngineEvent[] }): void {
  expect(
    p.events.some(
      (e) =>
        e.type === "diagnostic" &&
        e.severity === "warning" &&
        /took over the run lock of pid \d+ .*is not running/.test(e.message),
    ),
  ).toBe(true);
}

describe("local rehearsal through the real binary (--json)", () => {
  it("an error before the run starts is an error event on stdout", () => {
    const r = runCli(["--json", "--yes", "--stack", "1 bad"], { env });
    expect(r.code).toBe(2);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as EngineEvent);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: "error", exitCode: 2, hint: expect.any(String) });
    expectSchema(lines);
  });

  beforeAll(() => {
    const r = runCli(["sandbox", "doctor"]);
    if (r.code !== 0) throw new Error(`toolchain incomplete: run \`npm run setup\`\n${r.stdout}`);
  });
  afterAll(async () => {
    await sandboxDown({ name: sandbox });
  });

  it("--dry-run previews every step and changes nothing", async () => {
    const p = run("--dry-run");
    const { code } = await p.exited;
    expect(code, p.stderr.join("\n")).toBe(0);
    const previews = p.events.filter((e) => e.type === "preview");
    expect(previews.map((e) => (e as { step: string }).step)).toEqual(STEPS);
    const provision = previews[0] as Extract<EngineEvent, { type: "preview" }>;
    expect(provision.changes.create).toBeGreaterThan(10);
    const drain = previews[4] as Extract<EngineEvent, { type: "preview" }>;
    expect(drain.action?.summary).toBeTruthy();
    expect(p.events.at(-1)).toMatchObject({ type: "summary", result: "dry-run" });
    for (const e of p.events) expectDesignShape(e);
    expectSchema(p.events);
    // Nothing was created: no journal, no nodes, no workload, no Auto Scaling groups.
    expect(existsSync(join(home, "dev", "journal.jsonl"))).toBe(false);
    const facts = await clusterFacts();
    expect(facts.nodes).toEqual([]);
    expect(facts.namespaces).not.toContain("apps");
    expect(facts.asgs).toEqual([]);
  });

  it("Ctrl-C during an apply stops with exit 130 and a resumable journal", async () => {
    const p = run("--yes");
    await p.step("provision", "applying");
    p.signal("SIGINT");
    const { code } = await p.exited;
    expect(code).toBe(130);
    expect(p.events.at(-1)).toMatchObject({ type: "summary", result: "aborted" });
    expectSchema(p.events);
    const status = runCli(["status", "--stack", "dev", "--json"], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({ next: "provision" });
  });

  it("resumes, and survives SIGKILL during step 4", async () => {
    const p = run("--yes");
    const runEvent = await p.waitFor((e) => e.type === "run", "run");
    expect(runEvent).toMatchObject({ resumeFrom: { step: "provision", index: 1 } });
    await p.step("migrate-nginx", "applying");
    firstKillAt = Date.now();
    p.killGroup();
    expect((await p.exited).signal).toBe("SIGKILL");
  });

  it("resumes at step 4 without repeating steps 1-3, and survives SIGKILL during step 5", async () => {
    // The SIGKILLed run could not release its lock: the same command takes it over (its
    // pid is gone on this host), with a warning naming the dead owner.
    const p = run("--yes");
    expect(await p.waitFor((e) => e.type === "run", "run")).toMatchObject({
      resumeFrom: { step: "migrate-nginx", index: 4 },
    });
    expectLockTakenOver(p);
    await p.step("drain-old-nodes", "applying");
    p.killGroup();
    await p.exited;
    const repeated = p.events.filter((e) => e.type === "step" && STEPS.indexOf(e.step) < 3);
    expect(repeated).toEqual([]);
  });

  it("resumes at step 5 and completes: every step done, every gate passed, 0 failed requests", async () => {
    const p = run("--yes");
    expect(await p.waitFor((e) => e.type === "run", "run")).toMatchObject({
      resumeFrom: { step: "drain-old-nodes", index: 5 },
    });
    expectLockTakenOver(p);
    const { code } = await p.exited;
    expect(
      code,
      `${p.stderr.slice(-20).join("\n")}\n${JSON.stringify(p.events.filter((e) => e.type === "step").slice(-3))}`,
    ).toBe(0);
    for (const e of p.events) expectDesignShape(e);
    expectSchema(p.events);
    expect(runIdSeen).toBeTruthy();
    expect(p.nonJson).toEqual([]);
    const summary = p.events.at(-1) as Extract<EngineEvent, { type: "summary" }>;
    expect(summary).toMatchObject({
      type: "summary",
      result: "completed",
      stepsDone: 9,
      overrides: 0,
    });
    // The numbers the load-balancer fidelity work reports (docs/load-balancer-fidelity.md).
    console.log("[rehearsal] summary:", JSON.stringify(summary));
    expect(summary.requests.total).toBeGreaterThan(1000);
    expect(summary.requests.failed).toBe(0);
    const done = p.events
      .filter((e) => e.type === "step" && e.status === "done")
      .map((e) => (e as { step: string }).step);
    expect(done).toEqual(STEPS.slice(4));
    expect(p.events.filter((e) => e.type === "step" && e.status === "failed")).toEqual([]);
    // The journal of all four runs says every step is done.
    const status = JSON.parse(runCli(["status", "--stack", "dev", "--json"], { env }).stdout);
    expect(status.steps.map((s: { status: string }) => s.status)).toEqual(STEPS.map(() => "done"));
    // The report: Markdown verdict, CSV timeline, chart as SVG and PNG.
    const report = summary.report!;
    expect(readFileSync(report, "utf8")).toContain("**Verdict: zero downtime**");
    const dir = join(report, "..");
    for (const f of ["report.json", "timeline.csv", "timeline.json", "chart.svg", "chart.png"])
      expect(existsSync(join(dir, f)), f).toBe(true);
    // The report covers the whole change window: the traffic of the runs killed before this
    // one (kept in the stack's state directory) as well as this run's.
    const timeline = JSON.parse(readFileSync(join(dir, "timeline.json"), "utf8")) as {
      samples: { at: string; requests: number }[];
    };
    const beforeKill = timeline.samples.filter((s) => Date.parse(s.at) < firstKillAt - 1000);
    expect(beforeKill.length).toBeGreaterThan(0);
    expect(beforeKill.reduce((a, s) => a + s.requests, 0)).toBeGreaterThan(0);
    const reportJson = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as {
      requests: { total: number; failed: number };
    };
    expect(reportJson.requests.total).toBeGreaterThan(summary.requests.total);
    expect(reportJson.requests.failed).toBe(0);
    const facts = await clusterFacts();
    expect(facts.asgs.some((n) => n?.includes("old"))).toBe(false);
    expect(runCli(["report", "--stack", "dev"], { env }).stdout).toContain("zero downtime");
  });
});
