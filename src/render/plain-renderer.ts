import type { EngineEvent } from "../engine/events.js";
import { formatRate } from "../ui/state.js";
import { changeSummary, diffLine, groupedResources, resourceLine } from "./preview-lines.js";

// One line per event, for pipes and CI: nothing waits for keys, nothing redraws.

const TRAFFIC_LINE_EVERY_S = 5;

export function createPlainRenderer(write: (line: string) => void): (e: EngineEvent) => void {
  const index = new Map<string, number>();
  // Gate reasons change every second (request counts); print a gate when its state changes.
  const gateState = new Map<string, string>();
  let total = 0;
  let trafficTick = 0;
  const tag = (step: string) => `[${index.get(step) ?? "?"}/${total}] ${step}`;
  return (e) => {
    switch (e.type) {
      case "run":
        total = e.steps.length;
        for (const s of e.steps) index.set(s.id, s.index);
        write(
          `eks-runbook · stack ${e.stack} · ${e.target}${e.dryRun ? " · dry run" : ""} · ${total} steps`,
        );
        if (e.resumeFrom) write(`resuming at step ${e.resumeFrom.index}: ${e.resumeFrom.reason}`);
        return;
      case "step":
        if (e.status === "verifying")
          for (const k of [...gateState.keys()])
            if (k.startsWith(`${e.step}/`)) gateState.delete(k);
        write(`${tag(e.step)}: ${e.status}${e.reason ? ` (${e.reason})` : ""}`);
        return;
      case "preview":
        write(`${tag(e.step)}: preview: ${changeSummary(e)}`);
        for (const g of groupedResources(e)) {
          for (const r of g.resources) {
            write(`    ${resourceLine(r)}`);
            for (const d of r.diffs) write(`        ${diffLine(d)}`);
          }
        }
        for (const item of e.action?.items ?? []) {
          write(`    ${item.kind} ${item.target}${item.detail ? `  ${item.detail}` : ""}`);
        }
        return;
      case "progress":
        write(
          `${tag(e.step)}: ${e.done}/${e.total}${e.current ? ` ${e.current}` : ""}${e.message ? ` ${e.message}` : ""}`,
        );
        return;
      case "gate": {
        const key = `${e.step}/${e.gate}`;
        const state = `${e.passed}/${e.settled}`;
        if (gateState.get(key) === state) return;
        gateState.set(key, state);
        write(
          `${tag(e.step)}: gate ${e.gate} ${e.settled ? "passed" : e.passed ? "holding" : "waiting"}: ${e.reason}`,
        );
        for (const w of e.warnings ?? []) write(`${tag(e.step)}: gate ${e.gate} warning: ${w}`);
        return;
      }
      case "diagnostic":
        write(`${e.step ? `${tag(e.step)}: ` : ""}${e.severity}: ${e.message}`);
        return;
      case "awaiting":
        write(`${tag(e.step)}: waiting for a decision (${e.options.join(", ")})`);
        return;
      case "traffic": {
        trafficTick++;
        if (e.failed > 0 || trafficTick % TRAFFIC_LINE_EVERY_S === 0) {
          const rate = formatRate(e.requests ? (e.ok / e.requests) * 100 : undefined);
          const errs = Object.entries(e.errors)
            .map(([k, n]) => `${k}×${n}`)
            .join(" ");
          write(
            `traffic ${e.at}: ${e.requests} req/s, ${rate} ok, p50 ${e.p50Ms.toFixed(1)}ms p99 ${e.p99Ms.toFixed(1)}ms${errs ? `, errors ${errs}` : ""}`,
          );
        }
        return;
      }
      case "summary":
        write(
          `summary: ${e.result}, ${e.stepsDone} steps done, ${e.requests.total} requests, ${e.requests.failed} failed` +
            `${e.overrides ? `, ${e.overrides} gate override(s)` : ""}${e.report ? `, report ${e.report}` : ""}`,
        );
        return;
    }
  };
}
