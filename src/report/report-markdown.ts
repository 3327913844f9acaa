import type { ReportSummary } from "./report-model.js";
import {
  confirmationsTable,
  failedByClass,
  gatesTable,
  metadataTable,
  msCell,
  stepsTable,
  type Table,
} from "./report-tables.js";

// report.md: for the change ticket. One fact per cell (no `<br>`-joined cells): steps,
// gate verdicts and confirmations each get their own table.

const n = (x: number) => x.toLocaleString("en-US");
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

export function markdownTable(t: Table): string[] {
  const align = t.head.map((_, i) => (t.numeric?.includes(i) ? "---:" : "---"));
  return [
    `| ${t.head.map(cell).join(" | ")} |`,
    `|${align.join("|")}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}

export function renderMarkdown(s: ReportSummary): string {
  const gates = gatesTable(s);
  const confirmations = confirmationsTable(s);
  const lines = [
    `# eks-runbook report · stack ${s.stack} · ${s.target}`,
    "",
    `**Verdict: ${s.verdict}** — ${s.verdictDetail}`,
    "",
    `Traffic: ${n(s.requests.total)} requests over ${s.durationSeconds} s (mean ${n(s.meanRps)} req/s, ` +
      `peak ${n(s.peakRps)} req/s); latency p50 ${msCell(s.latencyMs.p50)}, worst-second p99 ` +
      `${msCell(s.latencyMs.p99)}, max ${msCell(s.latencyMs.max)}.`,
    "",
    "![traffic](chart.svg)",
    "",
    "## Change record",
    "",
    ...markdownTable(metadataTable(s)).slice(2),
    "",
    "## Steps",
    "",
    ...markdownTable(stepsTable(s)),
    "",
    ...s.steps
      .filter((st) => st.statusNote)
      .map((st) => `Step ${st.index} ${st.status}: ${st.statusNote}.`),
    "",
    "## Gate verdicts",
    "",
    ...(gates.rows.length ? markdownTable(gates) : ["No gate was evaluated."]),
    "",
    "## Confirmations",
    "",
    ...(confirmations.rows.length ? markdownTable(confirmations) : ["None recorded."]),
    "",
    "## Gate overrides",
    "",
    ...(s.overrides.length
      ? s.overrides.map(
          (o) =>
            `- step ${o.step} by ${o.user} at ${o.at}: ${o.gates.map((g) => `${g.gate} (${g.reason})`).join(", ")}`,
        )
      : ["None: no gate was overridden."]),
    "",
    "## Failed requests by class",
    "",
    s.requests.failed > 0 ? failedByClass(s.requests.errors) : "None.",
    "",
    "## Errors",
    "",
    ...(s.errors.length
      ? s.errors.map((e) => `- ${e.at}${e.step ? ` (step ${e.step})` : ""}: ${e.message}`)
      : ["None."]),
    "",
    `Files: ${Object.values(s.files).join(", ")}`,
    "",
  ];
  return lines.join("\n");
}
