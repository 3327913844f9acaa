import type { EngineEvent } from "./engine/events.js";
import { escapeControl, looksSecret, redactUrlCredentials } from "./engine/safe-text.js";

// What the run log keeps of each engine event: an allow-list, not a redaction. Events
// carry Pulumi preview diffs (old and new values of resource properties, which may be
// secrets or kubeconfigs) and free text from the cluster; the log keeps step ids,
// statuses, counts and reasons only. A new event field is not logged until it is added here.

const MAX_TEXT = 500;

/** Free text (a reason, a diagnostic): escaped, bounded, URL credentials and secrets out. */
function text(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = escapeControl(redactUrlCredentials(s));
  const bounded = t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}…` : t;
  return bounded
    .split(/(\s+)/)
    .map((w) => (looksSecret(w) ? "[redacted]" : w))
    .join("");
}

export function logFieldsOf(e: EngineEvent): Record<string, unknown> {
  switch (e.type) {
    case "run":
      return {
        runId: e.runId,
        stack: e.stack,
        target: e.target,
        dryRun: e.dryRun,
        steps: e.steps.length,
        resumeFrom: e.resumeFrom
          ? {
              step: e.resumeFrom.step,
              index: e.resumeFrom.index,
              reason: text(e.resumeFrom.reason),
            }
          : undefined,
      };
    case "step":
      return { step: e.step, index: e.index, status: e.status, reason: text(e.reason) };
    case "preview":
      return {
        step: e.step,
        changes: {
          create: e.changes.create,
          update: e.changes.update,
          replace: e.changes.replace,
          delete: e.changes.delete,
        },
        resources: e.resources.length,
        action: e.action !== undefined,
        intentViolations: e.intent?.violations.length,
      };
    case "progress":
      return { step: e.step, done: e.done, total: e.total };
    case "gate":
      return {
        step: e.step,
        gate: e.gate,
        passed: e.passed,
        settled: e.settled,
        reason: text(e.reason),
        warnings: e.warnings?.length,
      };
    case "diagnostic":
      return { step: e.step, severity: e.severity, message: text(e.message) };
    case "awaiting":
      return {
        step: e.step,
        kind: e.kind,
        options: e.options,
        destructive: e.destructive !== undefined,
        reason: text(e.reason),
      };
    case "traffic":
      return { requests: e.requests, ok: e.ok, failed: e.failed };
    case "summary":
      return {
        result: e.result,
        stepsDone: e.stepsDone,
        requests: e.requests,
        overrides: e.overrides,
        report: e.report,
      };
    case "error":
      return { message: text(e.message), exitCode: e.exitCode };
  }
}
