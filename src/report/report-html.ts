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

// report.html: one self-contained file that opens offline (no script, no external
// stylesheet, font or image): the chart's SVG inline, the tables, the verdict.

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (x: number) => x.toLocaleString("en-US");

function table(t: Table, cls = ""): string {
  const td = (i: number) => (t.numeric?.includes(i) ? ' class="num"' : "");
  const head = t.head.some((h) => h)
    ? `<thead><tr>${t.head.map((h, i) => `<th${td(i)}>${esc(h)}</th>`).join("")}</tr></thead>`
    : "";
  const rows = t.rows
    .map(
      (r) =>
        `<tr>${r
          .map((c, i) => {
            const state =
              c === "failed"
                ? ' data-state="bad"'
                : c === "passed" || c === "done"
                  ? ' data-state="good"'
                  : "";
            return `<td${td(i)}${state}>${esc(c)}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("\n");
  return `<table${cls ? ` class="${cls}"` : ""}>${head}<tbody>\n${rows}\n</tbody></table>`;
}

const CSS = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#1d2733;padding:0 16px}
h1{font-size:20px;margin:0 0 8px}h2{font-size:15px;margin:28px 0 8px;border-bottom:1px solid #d5dbe3;padding-bottom:4px}
.verdict{font-size:16px;padding:10px 14px;border-radius:6px;margin:12px 0}
.verdict.good{background:#e7f5e9;border:1px solid #8cc799}.verdict.bad{background:#fbe9e9;border:1px solid #e29a9a}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #d5dbe3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td[data-state=bad]{color:#b3261e;font-weight:bold}td[data-state=good]{color:#1e7b34}
table.meta td:first-child{font-weight:bold;background:#f7f8fa}
.chart svg{max-width:100%;height:auto}.muted{color:#5b6675;font-size:12px}
`;

export function renderHtml(s: ReportSummary, chartSvg: string): string {
  const good = s.verdict === "zero downtime";
  const gates = gatesTable(s);
  const confirmations = confirmationsTable(s);
  // The SVG comes from our own renderer (vega); drop an XML prolog if one is ever added.
  const svg = chartSvg.replace(/^<\?xml[^>]*>\s*/, "");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>eks-runbook report · ${esc(s.stack)} · ${esc(s.verdict)}</title>
<style>${CSS}</style></head>
<body>
<h1>eks-runbook report · stack ${esc(s.stack)} · ${esc(s.target)}</h1>
<div class="verdict ${good ? "good" : "bad"}"><strong>Verdict: ${esc(s.verdict)}</strong> — ${esc(s.verdictDetail)}</div>
<p>Traffic: ${n(s.requests.total)} requests over ${s.durationSeconds} s (mean ${n(s.meanRps)} req/s, peak ${n(s.peakRps)} req/s); latency p50 ${esc(msCell(s.latencyMs.p50))}, worst-second p99 ${esc(msCell(s.latencyMs.p99))}, max ${esc(msCell(s.latencyMs.max))}.${s.requests.failed > 0 ? ` Failed by class: ${esc(failedByClass(s.requests.errors))}.` : ""}</p>
<div class="chart">${svg}</div>
<h2>Change record</h2>
${table(metadataTable(s), "meta")}
<h2>Steps</h2>
${table(stepsTable(s))}
${s.steps
  .filter((st) => st.statusNote)
  .map(
    (st) => `<p class="muted">Step ${st.index} ${esc(st.status)}: ${esc(st.statusNote ?? "")}.</p>`,
  )
  .join("\n")}
<p class="muted">p50: request-weighted median of the per-second p50s; p99: the worst second's p99; max: the slowest answer.</p>
<h2>Gate verdicts</h2>
${gates.rows.length ? table(gates) : "<p>No gate was evaluated.</p>"}
<h2>Confirmations</h2>
${confirmations.rows.length ? table(confirmations) : "<p>None recorded.</p>"}
<h2>Gate overrides</h2>
${
  s.overrides.length
    ? `<ul>${s.overrides
        .map(
          (o) =>
            `<li>step ${esc(o.step)} by ${esc(o.user)} at ${esc(o.at)}: ${esc(o.gates.map((g) => `${g.gate} (${g.reason})`).join(", "))}</li>`,
        )
        .join("")}</ul>`
    : "<p>None: no gate was overridden.</p>"
}
<h2>Errors</h2>
${
  s.errors.length
    ? `<ul>${s.errors.map((e) => `<li>${esc(e.at)}${e.step ? ` (step ${esc(e.step)})` : ""}: ${esc(e.message)}</li>`).join("")}</ul>`
    : "<p>None.</p>"
}
<p class="muted">Generated ${esc(s.generatedAt)} · files: ${esc(Object.values(s.files).join(", "))}</p>
</body></html>
`;
}
