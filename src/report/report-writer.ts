import { closeSync, constants, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalRecord } from "../engine/journal.js";
import type { TrafficSample } from "../engine/ports.js";
import { ensurePrivateDir } from "../engine/private-dir.js";
import { timelineToCsv, timelineToJson } from "../traffic/timeline-export.js";
import { renderChartSvg } from "./chart-svg.js";

// The evidence at the end of a run: JSON + CSV timeline, a Markdown summary with the
// zero-downtime verdict, and the chart as SVG and PNG (resvg: no browser needed).

export interface ReportInput {
  stack: string;
  target: string;
  steps: { id: string; title: string }[];
  journal: JournalRecord[];
  timeline: { samples: TrafficSample[]; marks: { label: string; at: number }[] };
  dir: string;
}

export interface StepRow {
  index: number;
  id: string;
  title: string;
  status: string;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  confirmedBy: string[];
  gates: { gate: string; passed: boolean; reason: string }[];
}

export interface ReportSummary {
  stack: string;
  target: string;
  generatedAt: string;
  verdict: "zero downtime" | "requests failed" | "no traffic measured";
  requests: { total: number; ok: number; failed: number; errors: Record<string, number> };
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
  files: Record<string, string>;
}

export function summarise(input: ReportInput): Omit<ReportSummary, "files"> {
  const { samples } = input.timeline;
  const errors: Record<string, number> = {};
  let total = 0;
  let ok = 0;
  let failed = 0;
  for (const s of samples) {
    total += s.requests;
    ok += s.ok;
    failed += s.failed;
    for (const [k, n] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + n;
  }
  const steps: StepRow[] = input.steps.map((st, i) => {
    const recs = input.journal.filter((r) => "step" in r && r.step === st.id);
    const transitions = recs.filter(
      (r): r is Extract<JournalRecord, { type: "transition" }> => r.type === "transition",
    );
    const start = transitions.find((t) => t.status === "previewing")?.at;
    const end = transitions.findLast(
      (t) => t.status === "done" || t.status === "failed" || t.status === "rolled-back",
    );
    const lastVerifying = transitions.findLastIndex((t) => t.status === "verifying");
    const gateRecs = recs.filter(
      (r): r is Extract<JournalRecord, { type: "gate" }> => r.type === "gate",
    );
    const lastGateAt = lastVerifying >= 0 ? transitions[lastVerifying]!.at : "";
    return {
      index: i + 1,
      id: st.id,
      title: st.title,
      status: transitions.at(-1)?.status ?? "pending",
      ...(start ? { startedAt: start } : {}),
      ...(end ? { endedAt: end.at } : {}),
      ...(start && end ? { durationSeconds: (Date.parse(end.at) - Date.parse(start)) / 1000 } : {}),
      confirmedBy: recs
        .filter((r): r is Extract<JournalRecord, { type: "decision" }> => r.type === "decision")
        .map((d) => `${d.decision} by ${d.user} at ${d.at}`),
      gates: gateRecs
        .filter((g) => g.at >= lastGateAt)
        .map((g) => ({ gate: g.gate, passed: g.passed, reason: g.reason })),
    };
  });
  const overrides = input.journal
    .filter((r): r is Extract<JournalRecord, { type: "override" }> => r.type === "override")
    .map((o) => ({ step: o.step, gates: o.gates, user: o.user, at: o.at }));
  const durationSeconds = samples.length;
  return {
    stack: input.stack,
    target: input.target,
    generatedAt: new Date().toISOString(),
    verdict:
      total === 0 ? "no traffic measured" : failed === 0 ? "zero downtime" : "requests failed",
    requests: { total, ok, failed, errors },
    durationSeconds,
    peakRps: Math.max(0, ...samples.map((s) => s.requests)),
    meanRps: durationSeconds ? Math.round(total / durationSeconds) : 0,
    steps,
    overrides,
  };
}

export function renderMarkdown(s: ReportSummary): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `# eks-runbook report · stack ${s.stack} · ${s.target}`,
    "",
    `**Verdict: ${s.verdict}** — ${n(s.requests.total)} requests, ${n(s.requests.ok)} ok, ${n(s.requests.failed)} failed` +
      ` over ${s.durationSeconds} s (mean ${n(s.meanRps)} req/s, peak ${n(s.peakRps)} req/s).`,
    "",
    "![traffic](chart.svg)",
    "",
    "## Steps",
    "",
    "| # | step | status | duration | gates | confirmed |",
    "|---|------|--------|----------|-------|-----------|",
    ...s.steps.map(
      (st) =>
        `| ${st.index} | ${st.title} | ${st.status} | ${st.durationSeconds !== undefined ? `${st.durationSeconds.toFixed(1)} s` : "–"} | ` +
        `${st.gates.map((g) => `${g.passed ? "✔" : "✘"} ${g.gate}: ${g.reason}`).join("<br>") || "–"} | ${st.confirmedBy.join("<br>") || "–"} |`,
    ),
    "",
    "## Gate overrides",
    "",
    ...(s.overrides.length
      ? s.overrides.map(
          (o) =>
            `- step ${o.step} by ${o.user} at ${o.at}: ${o.gates.map((g) => `${g.gate} (${g.reason})`).join(", ")}`,
        )
      : ["None: every gate passed on its own."]),
    "",
    "## Errors",
    "",
    ...(Object.keys(s.requests.errors).length
      ? Object.entries(s.requests.errors).map(([k, v]) => `- ${k}: ${n(v)}`)
      : ["None."]),
    "",
    `Files: ${Object.values(s.files).join(", ")}`,
    "",
  ];
  return lines.join("\n");
}

// Reports name the stack, its resources and its traffic: the operator's alone, like the
// journal (0700 directories, 0600 files, whatever the umask), never through a symlink.
function writePrivate(file: string, data: string | Uint8Array): void {
  const fd = openSync(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

export async function writeReport(input: ReportInput): Promise<ReportSummary> {
  ensurePrivateDir(input.dir);
  const base = summarise(input);
  const files = {
    markdown: "report.md",
    json: "report.json",
    timelineCsv: "timeline.csv",
    timelineJson: "timeline.json",
    svg: "chart.svg",
    png: "chart.png",
  };
  const summary: ReportSummary = { ...base, files };
  const svg = renderChartSvg({
    samples: input.timeline.samples,
    marks: input.timeline.marks,
    title: `${input.stack} · ${summary.verdict} · ${summary.requests.total.toLocaleString("en-US")} requests, ${summary.requests.failed} failed`,
  });
  writePrivate(join(input.dir, files.svg), svg);
  const { Resvg } = await import("@resvg/resvg-js");
  const png = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    fitTo: { mode: "width", value: 1440 },
  })
    .render()
    .asPng();
  writePrivate(join(input.dir, files.png), png);
  writePrivate(join(input.dir, files.timelineCsv), timelineToCsv(input.timeline));
  writePrivate(join(input.dir, files.timelineJson), timelineToJson(input.timeline));
  writePrivate(join(input.dir, files.json), `${JSON.stringify(summary, null, 2)}\n`);
  writePrivate(join(input.dir, files.markdown), renderMarkdown(summary));
  return summary;
}
