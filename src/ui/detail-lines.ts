import type { ActionPreviewItem } from "../engine/ports.js";
import {
  changeSummary,
  formatValue,
  groupedResources,
  resourceLine,
} from "../render/preview-lines.js";
import type { ScreenState, StepView } from "./state.js";
import { wrapText } from "./wrap.js";

// Everything the operator confirms, as pre-wrapped lines for the scrollable detail pane:
// the decision asked for, every previewed resource and every changed property with its full
// value, the drain plan with blockers first, gates, their history and the step's messages.
// Pure, so the pane scrolls by line and tests read it without a terminal.

export type Tone = "add" | "change" | "replace" | "remove" | "bad" | "warn" | "good" | "dim";

export interface DetailLine {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

const OP_TONE: Record<string, Tone> = {
  create: "add",
  update: "change",
  replace: "replace",
  delete: "remove",
};

/** Blockers first: they are why a drain cannot finish; then what the step removes. */
const ITEM_ORDER: ActionPreviewItem["kind"][] = [
  "block",
  "evict",
  "delete",
  "cordon",
  "stop",
  "start",
  "write",
  "skip",
];

export function sortedItems(items: ActionPreviewItem[]): ActionPreviewItem[] {
  return [...items].sort((a, b) => ITEM_ORDER.indexOf(a.kind) - ITEM_ORDER.indexOf(b.kind));
}

export function stepDetailLines(
  step: StepView,
  awaiting: ScreenState["awaiting"],
  width: number,
): DetailLine[] {
  const out: DetailLine[] = [];
  const push = (text: string, style: Omit<DetailLine, "text"> = {}, indent = 0) => {
    for (const t of wrapText(text, width, indent)) out.push({ text: t, ...style });
  };
  push(step.why, { tone: "dim" });

  const asking = awaiting?.step === step.id ? awaiting : undefined;
  if (asking?.kind === "confirm" && asking.destructive) {
    push(`⚠ ${asking.destructive.reason}.`, { tone: "bad", bold: true }, 2);
    push(`To apply, press y, then type ${asking.destructive.confirmWith} and Enter.`, {
      tone: "bad",
    });
  }
  if (asking?.kind === "failure") {
    push(
      `✘ Step failed: ${asking.reason ?? step.reason ?? "see the gates below"}`,
      {
        tone: "bad",
        bold: true,
      },
      2,
    );
    push(`Choose: ${asking.options.map(optionText).join(" · ")}`, { tone: "bad" }, 2);
  }

  const p = step.preview;
  if (p) {
    push(`Preview ${changeSummary(p)}`, { bold: true });
    if (p.intent) {
      push(`intent: ${p.intent.summary}`, { tone: "dim" }, 2);
      for (const v of p.intent.violations)
        push(`  outside the intent: ${v.op} ${v.type} ${v.name}`, { tone: "bad" }, 4);
    }
    for (const g of groupedResources(p)) {
      for (const r of g.resources) {
        push(` ${resourceLine(r)}`, { tone: OP_TONE[g.op] ?? "change" }, 4);
        for (const d of r.diffs) {
          const sign = d.kind === "add" ? "+" : d.kind === "delete" ? "-" : "~";
          push(
            `    ${sign} ${d.path}${d.replaces ? " (forces replacement)" : ""}`,
            {
              tone: d.replaces ? "replace" : "dim",
            },
            8,
          );
          push(`      ${fullValueChange(d.kind, d.old, d.new)}`, {}, 8);
        }
      }
    }
    const items = p.action?.items ?? [];
    if (items.length) {
      const blocked = items.filter((i) => i.kind === "block").length;
      push(
        `Plan: ${items.length} item${items.length === 1 ? "" : "s"}${blocked ? `, ${blocked} blocked (listed first)` : ""}`,
        { bold: true },
      );
      for (const i of sortedItems(items))
        push(
          `  ${i.kind} ${i.target}${i.detail ? `  ${i.detail}` : ""}`,
          {
            ...(i.kind === "block" ? { tone: "bad" as const } : {}),
          },
          6,
        );
    }
  }

  if (step.status === "applying" && step.progress) {
    const pr = step.progress;
    push(
      `applying ${pr.done}/${pr.total} ${pr.current ?? pr.message ?? ""}`.trimEnd(),
      {
        tone: "warn",
      },
      2,
    );
  }

  const gates = Object.values(step.gates);
  if (gates.length) push("Gates", { bold: true });
  for (const g of gates) {
    const icon = g.settled ? "✔" : step.status === "failed" ? "✘" : g.passed ? "◔" : "⠿";
    const tone: Tone = g.settled ? "good" : step.status === "failed" ? "bad" : "warn";
    push(`${icon} ${g.gate} ${g.reason}`, { tone }, 2);
    for (const w of g.warnings ?? []) push(`  warning: ${w}`, { tone: "warn" }, 4);
  }
  if (step.gateHistory.length) {
    push("Gate history", { bold: true });
    for (const h of step.gateHistory)
      push(`  ${h.at.slice(11, 19)} ${h.gate} ${h.verdict}: ${h.reason}`, { tone: "dim" }, 4);
  }
  if (step.messages.length) push("Messages", { bold: true });
  for (const m of step.messages) push(`  ${m}`, { tone: "dim" }, 4);
  return out;
}

export function logLines(log: string[], width: number): DetailLine[] {
  return log.flatMap((l) => wrapText(l, width, 4).map((text) => ({ text })));
}

function fullValueChange(kind: "add" | "update" | "delete", old: unknown, next: unknown): string {
  const full = (v: unknown) => formatValue(v, Number.POSITIVE_INFINITY);
  if (kind === "add") return `+ ${full(next)}`;
  if (kind === "delete") return `- ${full(old)}`;
  return `${full(old)} → ${full(next)}`;
}

export function optionText(o: string): string {
  switch (o) {
    case "confirm":
      return "[y] apply";
    case "retry":
      return "[r] retry gates";
    case "rollback":
      return "[b] roll back";
    case "override":
      return "[o] override";
    case "stop":
      return "[s] stop";
    default:
      return o;
  }
}

/** Lines that contain `filter` (case-insensitive); all lines when it is empty. */
export function filterLines(lines: DetailLine[], filter: string): DetailLine[] {
  if (!filter) return lines;
  const f = filter.toLowerCase();
  return lines.filter((l) => l.text.toLowerCase().includes(f));
}
