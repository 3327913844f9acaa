import { closeSync, constants, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir } from "../engine/private-dir.js";
import { timelineToCsv, timelineToJson } from "../traffic/timeline-export.js";
import { renderChart } from "./chart-render.js";
import { buildChartSpec, type ChartStep } from "./chart-spec.js";
import { renderHtml } from "./report-html.js";
import { renderMarkdown } from "./report-markdown.js";
import { type ReportInput, type ReportSummary, summarise } from "./report-model.js";

export { renderMarkdown } from "./report-markdown.js";
export type { ReportInput, ReportSummary, StepRow } from "./report-model.js";
export { summarise } from "./report-model.js";

// The evidence at the end of a run, in one directory: report.json (the model, documented by
// docs/report.schema.json), report.md, a self-contained report.html, the timeline as CSV and
// JSON, and the chart as its Vega-Lite spec, SVG and PNG (rendered without a browser).

export const REPORT_FILES = {
  markdown: "report.md",
  html: "report.html",
  json: "report.json",
  timelineCsv: "timeline.csv",
  timelineJson: "timeline.json",
  chartSpec: "chart.vl.json",
  svg: "chart.svg",
  png: "chart.png",
} as const;

/** Step spans for the chart: the journal's start/end, else the timeline mark to the next. */
export function chartSteps(s: Omit<ReportSummary, "files">, input: ReportInput): ChartStep[] {
  const marks = [...input.timeline.marks].sort((a, b) => a.at - b.at);
  const lastSample = input.timeline.samples.at(-1);
  const runEnd = lastSample
    ? lastSample.at + (lastSample.durationMs ?? 1000)
    : Date.parse(s.generatedAt);
  const out: ChartStep[] = [];
  for (const st of s.steps) {
    const mark = marks.findLast((m) => m.label === st.id);
    const start = st.startedAt ? Date.parse(st.startedAt) : mark?.at;
    if (start === undefined) continue;
    const next = marks.find((m) => m.at > start && m.label !== st.id);
    const end = st.endedAt ? Date.parse(st.endedAt) : (next?.at ?? runEnd);
    out.push({ index: st.index, id: st.id, title: st.title, start, end: Math.max(end, start + 1) });
  }
  return out;
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
  const summary: ReportSummary = { ...base, files: { ...REPORT_FILES } };
  const n = summary.requests.total.toLocaleString("en-US");
  const spec = buildChartSpec({
    samples: input.timeline.samples,
    steps: chartSteps(base, input),
    title: `${input.stack} · ${summary.verdict} · ${n} requests, ${summary.requests.failed.toLocaleString("en-US")} failed`,
    subtitle: `${summary.window.start} → ${summary.window.end} (UTC) · ${input.target}`,
  });
  const chart = await renderChart(spec);
  const write = (name: string, data: string | Buffer) => writePrivate(join(input.dir, name), data);
  write(REPORT_FILES.chartSpec, `${JSON.stringify(spec)}\n`);
  write(REPORT_FILES.svg, chart.svg);
  write(REPORT_FILES.png, chart.png);
  write(REPORT_FILES.timelineCsv, timelineToCsv(input.timeline));
  write(REPORT_FILES.timelineJson, timelineToJson(input.timeline));
  write(REPORT_FILES.json, `${JSON.stringify(summary, null, 2)}\n`);
  write(REPORT_FILES.markdown, renderMarkdown(summary));
  write(REPORT_FILES.html, renderHtml(summary, chart.svg));
  return summary;
}
