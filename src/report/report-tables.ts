import { orderFailureClasses } from "../traffic/error-kind.js";
import type { ReportSummary, StepRow } from "./report-model.js";

// The report's tables as rows of plain text cells, shared by the Markdown, HTML and
// terminal renderings (each escapes and lays them out its own way).

const n = (x: number) => x.toLocaleString("en-US");
export const msCell = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : `${x.toFixed(x < 10 ? 2 : 1)} ms`;

export function failedByClass(errors: Readonly<Record<string, number>>): string {
  const parts = orderFailureClasses(Object.keys(errors))
    .filter((k) => (errors[k] ?? 0) > 0)
    .map((k) => `${k} ${n(errors[k]!)}`);
  return parts.join(", ");
}

export function duration(st: StepRow): string {
  if (st.durationSeconds === undefined) return "–";
  const s = st.durationSeconds;
  return s >= 60
    ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`
    : `${s.toFixed(1)} s`;
}

export interface Table {
  head: string[];
  rows: string[][];
  /** Columns to right-align (numbers). */
  numeric?: number[];
}

export function stepsTable(s: ReportSummary): Table {
  return {
    head: ["#", "step", "status", "duration", "requests", "failed (by class)", "p50", "p99", "max"],
    numeric: [0, 3, 4, 6, 7, 8],
    rows: s.steps.map((st) => {
      const t = st.traffic;
      const failed = t ? (t.failed > 0 ? `${n(t.failed)}: ${failedByClass(t.errors)}` : "0") : "–";
      return [
        String(st.index),
        st.title,
        st.status,
        duration(st),
        t ? n(t.requests) : "–",
        [
          failed,
          ...(t && t.outageSeconds > 0 ? [`(${t.outageSeconds} s no answer)`] : []),
          ...(t && t.notSent > 0 ? [`(${n(t.notSent)} not sent)`] : []),
        ].join(" "),
        msCell(t?.p50Ms),
        msCell(t?.p99Ms),
        msCell(t?.maxMs),
      ];
    }),
  };
}

export function gatesTable(s: ReportSummary): Table {
  return {
    head: ["step", "gate", "verdict", "reason"],
    rows: s.steps.flatMap((st) =>
      st.gates.map((g) => [
        `${st.index} ${st.title}`,
        g.gate,
        g.passed ? "passed" : "failed",
        g.reason,
      ]),
    ),
  };
}

export function confirmationsTable(s: ReportSummary): Table {
  const title = new Map(s.steps.map((st) => [st.id, `${st.index} ${st.title}`]));
  return {
    head: ["step", "decision", "by", "at (UTC)"],
    rows: s.confirmations.map((c) => [title.get(c.step) ?? c.step, c.decision, c.user, c.at]),
  };
}

export function metadataTable(s: ReportSummary): Table {
  const m = s.metadata;
  const rows: [string, string][] = [
    ["window (UTC)", `${s.window.start} → ${s.window.end}`],
    ["stack", s.stack],
    ["target", s.target],
    ...(m.cluster ? [["cluster", m.cluster] as [string, string]] : []),
    ...(m.region ? [["region", m.region] as [string, string]] : []),
    ["operators", s.operators.join(", ") || "–"],
    [
      "versions",
      Object.entries(m.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ],
    ...(m.configDigest ? [["config digest", m.configDigest] as [string, string]] : []),
    ...(m.specDigest ? [["applied spec digest", m.specDigest] as [string, string]] : []),
    [
      "gate policy",
      s.policy.ignoreFailureClasses.length
        ? `ignores ${s.policy.ignoreFailureClasses.join(", ")}`
        : "strict: every failed request counts",
    ],
  ];
  return { head: ["", ""], rows };
}
