import { createHash } from "node:crypto";
import type { JournalRecord } from "../engine/journal.js";
import type { TrafficSample } from "../engine/ports.js";
import { orderFailureClasses } from "../traffic/error-kind.js";
import { isOutageSecond } from "./chart-spec.js";

// What a change record needs, computed once from the journal and the traffic timeline; the
// Markdown, HTML, terminal and JSON renderings all read this model (report.json is it,
// documented by docs/report.schema.json). Pure: the clock is an input.

export const REPORT_SCHEMA_VERSION = 2;

export interface ReportInput {
  stack: string;
  target: string;
  steps: { id: string; title: string }[];
  journal: JournalRecord[];
  timeline: {
    samples: (TrafficSample & { durationMs?: number })[];
    marks: { label: string; at: number }[];
  };
  dir: string;
  /** The step writing this report: it is still running, so its status is the verdict's. */
  reportStep?: string;
  cluster?: string;
  region?: string;
  /** Versions worth recording (Kubernetes, tools); eks-runbook's and Node's are added. */
  versions?: Record<string, string>;
  /** The validated configuration; only its digest goes in the report. */
  config?: unknown;
  /** Failure classes the traffic gates ignored (gates.ignoreFailureClasses). */
  ignoreFailureClasses?: readonly string[];
  /** Clock (epoch ms) for generatedAt; tests pass their own. */
  now?: number;
}

export interface StepTraffic {
  requests: number;
  ok: number;
  failed: number;
  /** Failures by class (http-<code>, refused, reset, keepalive-race, timeout, tls, …). */
  errors: Record<string, number>;
  notSent: number;
  /** Seconds of the step in which no request completed while traffic ran. */
  outageSeconds: number;
  /** Request-weighted median of the per-second p50s; null when nothing answered. */
  p50Ms: number | null;
  /** The worst second's p99; null when nothing answered. */
  p99Ms: number | null;
  /** The slowest answer; null when nothing answered. */
  maxMs: number | null;
}

export interface GateRow {
  gate: string;
  passed: boolean;
  reason: string;
  at: string;
}

export interface StepRow {
  index: number;
  id: string;
  title: string;
  status: string;
  /** Why the status is what it is, when it is not simply the journal's last transition. */
  statusNote?: string;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  /** Legacy one-line form of the confirmations: "confirm by ops at …". */
  confirmedBy: string[];
  gates: GateRow[];
  /** Traffic during the step; absent when no traffic ran in it. */
  traffic?: StepTraffic;
}

export interface ReportSummary {
  schemaVersion: number;
  stack: string;
  target: string;
  generatedAt: string;
  verdict: "zero downtime" | "requests failed" | "traffic stalled" | "no traffic measured";
  /** The verdict in one sentence, with the counts. */
  verdictDetail: string;
  window: { start: string; end: string };
  operators: string[];
  confirmations: { step: string; decision: string; user: string; at: string }[];
  metadata: {
    cluster?: string;
    region?: string;
    versions: Record<string, string>;
    configDigest?: string;
    specDigest?: string;
  };
  policy: { ignoreFailureClasses: string[]; userVisibleFailed: number };
  requests: { total: number; ok: number; failed: number; errors: Record<string, number> };
  notSent: number;
  outageSeconds: number;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  durationSeconds: number;
  peakRps: number;
  meanRps: number;
  steps: StepRow[];
  overrides: {
    step: string;
    gates: { gate: string; reason: string }[];
    user: string;
    at: string;
  }[];
  errors: { at: string; step?: string; message: string }[];
  files: Record<string, string>;
}

type Rec<T extends JournalRecord["type"]> = Extract<JournalRecord, { type: T }>;
const ofType =
  <T extends JournalRecord["type"]>(type: T) =>
  (r: JournalRecord): r is Rec<T> =>
    r.type === type;

const sha256 = (v: unknown) =>
  `sha256:${createHash("sha256").update(JSON.stringify(v)).digest("hex")}`;

const FINAL = new Set(["done", "failed", "rolled-back"]);

type Sample = ReportInput["timeline"]["samples"][number];

/** Counts and latency over some seconds of the timeline. */
export function trafficOf(samples: readonly Sample[]): StepTraffic {
  const errors: Record<string, number> = {};
  let requests = 0;
  let ok = 0;
  let failed = 0;
  let notSent = 0;
  let outageSeconds = 0;
  let p99: number | null = null;
  let max: number | null = null;
  const p50s: { ms: number; n: number }[] = [];
  for (const s of samples) {
    requests += s.requests;
    ok += s.ok;
    failed += s.failed;
    notSent += s.dropped ?? 0;
    if (isOutageSecond(s)) outageSeconds++;
    for (const [k, n] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + n;
    const answered = s.maxMs !== undefined || s.ok > 0 || s.p50Ms > 0;
    if (!answered) continue;
    p50s.push({ ms: s.p50Ms, n: Math.max(1, s.requests) });
    p99 = Math.max(p99 ?? 0, s.p99Ms);
    max = Math.max(max ?? 0, s.maxMs ?? s.p99Ms);
  }
  p50s.sort((a, b) => a.ms - b.ms);
  const half = p50s.reduce((a, b) => a + b.n, 0) / 2;
  let acc = 0;
  let p50: number | null = null;
  for (const x of p50s) {
    acc += x.n;
    if (acc >= half) {
      p50 = x.ms;
      break;
    }
  }
  const ordered: Record<string, number> = {};
  for (const k of orderFailureClasses(Object.keys(errors))) ordered[k] = errors[k]!;
  return {
    requests,
    ok,
    failed,
    errors: ordered,
    notSent,
    outageSeconds,
    p50Ms: p50,
    p99Ms: p99,
    maxMs: max,
  };
}

export function summarise(input: ReportInput): Omit<ReportSummary, "files"> {
  const now = input.now ?? Date.now();
  const generatedAt = new Date(now).toISOString();
  const { samples } = input.timeline;
  const journal = input.journal;
  const ignore = [...(input.ignoreFailureClasses ?? [])];
  const all = trafficOf(samples);
  const ignored = Math.min(
    all.failed,
    ignore.reduce((a, c) => a + (all.errors[c] ?? 0), 0),
  );
  const userVisibleFailed = all.failed - ignored;
  const verdict: ReportSummary["verdict"] =
    all.requests === 0
      ? "no traffic measured"
      : userVisibleFailed > 0
        ? "requests failed"
        : all.outageSeconds > 0
          ? "traffic stalled"
          : "zero downtime";
  const n = (x: number) => x.toLocaleString("en-US");
  const verdictDetail =
    verdict === "no traffic measured"
      ? "No request was measured: nothing proves the migration was invisible to users."
      : `${n(all.requests)} requests, ${n(all.ok)} ok, ${n(all.failed)} failed` +
        (ignored > 0 ? ` (${n(ignored)} in classes the gates ignore: ${ignore.join(", ")})` : "") +
        (all.outageSeconds > 0 ? `; ${n(all.outageSeconds)} s in which no request completed` : "") +
        (all.notSent > 0 ? `; ${n(all.notSent)} not sent (no free connection)` : "") +
        ".";

  const decisions = journal.filter(ofType("decision"));
  const steps: StepRow[] = input.steps.map((st, i) => {
    const recs = journal.filter((r) => "step" in r && r.step === st.id);
    const transitions = recs.filter(ofType("transition"));
    const start = transitions.find((t) => t.status === "previewing")?.at ?? transitions[0]?.at;
    const end = transitions.findLast((t) => FINAL.has(t.status));
    const lastVerifying = transitions.findLastIndex((t) => t.status === "verifying");
    const lastGateAt = lastVerifying >= 0 ? transitions[lastVerifying]!.at : "";
    let status = transitions.at(-1)?.status ?? "pending";
    let endedAt = end && (!start || end.at >= start) ? end.at : undefined;
    let statusNote: string | undefined;
    if (st.id === input.reportStep && !FINAL.has(status)) {
      // This step is writing the report: its outcome is the verdict its gate will check.
      status = verdict === "zero downtime" ? "done" : "failed";
      endedAt = generatedAt;
      statusNote = "decided by this report: the step's gate judges the same counts";
    }
    const startMs = start ? Date.parse(start) : undefined;
    const endMs = endedAt ? Date.parse(endedAt) : undefined;
    // A second belongs to the step when it started within the step's span.
    const inStep =
      startMs !== undefined
        ? samples.filter(
            (s) => s.at + (s.durationMs ?? 1000) > startMs && (endMs === undefined || s.at < endMs),
          )
        : [];
    return {
      index: i + 1,
      id: st.id,
      title: st.title,
      status,
      ...(statusNote ? { statusNote } : {}),
      ...(start ? { startedAt: start } : {}),
      ...(endedAt ? { endedAt } : {}),
      ...(startMs !== undefined && endMs !== undefined
        ? { durationSeconds: (endMs - startMs) / 1000 }
        : {}),
      confirmedBy: decisions
        .filter((d) => d.step === st.id)
        .map((d) => `${d.decision} by ${d.user} at ${d.at}`),
      gates: recs
        .filter(ofType("gate"))
        .filter((g) => g.at >= lastGateAt)
        .map((g) => ({ gate: g.gate, passed: g.passed, reason: g.reason, at: g.at })),
      ...(inStep.length > 0 ? { traffic: trafficOf(inStep) } : {}),
    };
  });

  const runs = journal.filter(ofType("run"));
  const times = journal.map((r) => r.at).filter((t) => typeof t === "string");
  const firstSample = samples[0]?.at;
  const start = [
    times[0],
    firstSample !== undefined ? new Date(firstSample).toISOString() : undefined,
  ]
    .filter((t): t is string => t !== undefined)
    .sort()[0];
  const lastSpec = journal.filter(ofType("transition")).findLast((t) => t.spec !== undefined)?.spec;
  const durationSeconds = samples.reduce((a, s) => a + (s.durationMs ?? 1000), 0) / 1000;
  const full = samples.filter((s) => (s.durationMs ?? 1000) >= 1000);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    stack: input.stack,
    target: input.target,
    generatedAt,
    verdict,
    verdictDetail,
    window: { start: start ?? generatedAt, end: generatedAt },
    operators: [...new Set([...runs.map((r) => r.user), ...decisions.map((d) => d.user)])],
    confirmations: decisions.map((d) => ({
      step: d.step,
      decision: d.decision,
      user: d.user,
      at: d.at,
    })),
    metadata: {
      ...(input.cluster ? { cluster: input.cluster } : {}),
      ...(input.region ? { region: input.region } : {}),
      versions: { "eks-runbook": "0.1.0", node: process.versions.node, ...input.versions },
      ...(input.config !== undefined ? { configDigest: sha256(input.config) } : {}),
      ...(lastSpec !== undefined ? { specDigest: sha256(lastSpec) } : {}),
    },
    policy: { ignoreFailureClasses: ignore, userVisibleFailed },
    requests: { total: all.requests, ok: all.ok, failed: all.failed, errors: all.errors },
    notSent: all.notSent,
    outageSeconds: all.outageSeconds,
    latencyMs: { p50: all.p50Ms, p99: all.p99Ms, max: all.maxMs },
    durationSeconds: Math.round(durationSeconds * 1000) / 1000,
    // Rates from full seconds only: the last, partial second is not a rate.
    peakRps: Math.max(0, ...full.map((s) => s.requests)),
    meanRps: durationSeconds > 0 ? Math.round(all.requests / durationSeconds) : 0,
    steps,
    overrides: journal
      .filter(ofType("override"))
      .map((o) => ({ step: o.step, gates: o.gates, user: o.user, at: o.at })),
    errors: journal
      .filter(ofType("error"))
      .map((e) => ({ at: e.at, ...(e.step ? { step: e.step } : {}), message: e.message })),
  };
}
