import type { ReportSummary } from "./report-model.js";
import { gatesTable, stepsTable, type Table } from "./report-tables.js";

// `eks-runbook report` on a terminal: the verdict, the steps as an aligned table, failing
// gates, and where the files are. Plain text (no Markdown, no HTML), ANSI colour only when
// asked for.

function layout(t: Table): string[] {
  const widths = t.head.map((h, i) =>
    Math.max(h.length, ...t.rows.map((r) => (r[i] ?? "").length)),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (t.numeric?.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(t.head), widths.map((w) => "─".repeat(w)).join("  "), ...t.rows.map(line)];
}

export function renderTerminal(s: ReportSummary, dir: string, color = false): string {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const good = s.verdict === "zero downtime";
  const failing = gatesTable(s);
  failing.rows = failing.rows.filter((r) => r[2] === "failed");
  const lines = [
    `eks-runbook report · stack ${s.stack} · ${s.target} · ${s.window.start} → ${s.window.end} (UTC)`,
    "",
    `${paint(good ? "1;32" : "1;31", `Verdict: ${s.verdict}`)} — ${s.verdictDetail}`,
    "",
    ...layout(stepsTable(s)),
    "",
    ...(failing.rows.length ? ["Failed gates:", ...layout(failing), ""] : []),
    ...(s.overrides.length
      ? [
          `Overrides: ${s.overrides.map((o) => `step ${o.step} by ${o.user} (${o.gates.map((g) => g.gate).join(", ")})`).join("; ")}`,
          "",
        ]
      : []),
    `Files in ${dir}:`,
    ...Object.values(s.files).map((f) => `  ${f}`),
  ];
  return `${lines.join("\n")}\n`;
}
