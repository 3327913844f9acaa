import type { IntentViolation } from "./events.js";
import type { ActionPreview, PreviewResult } from "./ports.js";
import type { StepIntent } from "./step.js";

// Pure checks on a step's preview, before the operator is asked anything: which changes lie
// outside the step's intent (refused), and whether confirming is destructive (asks twice).

/** The previewed changes the intent does not allow. No intent: any replace or delete. */
export function intentViolations(
  preview: PreviewResult,
  intent: StepIntent | undefined,
): IntentViolation[] {
  const allowed = intent
    ? (r: PreviewResult["resources"][number]) => intent.allows(r)
    : (r: PreviewResult["resources"][number]) => r.op !== "replace" && r.op !== "delete";
  return preview.resources
    .filter((r) => r.op !== "same" && r.op !== "read" && r.op !== "refresh" && !allowed(r))
    .map((r) => ({ urn: r.urn, name: r.name, type: r.type, op: r.op }));
}

/**
 * A dry run applies nothing, so the preview of a later Pulumi step also shows what the
 * earlier, unapplied ones would change: it is checked against all their intents together
 * (a run previews each step after the previous one applied, against its own intent only).
 */
export function dryRunIntent(
  intent: StepIntent | undefined,
  unapplied: readonly { title: string; intent: StepIntent | undefined }[],
): StepIntent | undefined {
  if (unapplied.length === 0) return intent;
  const all = [intent, ...unapplied.map((u) => u.intent)];
  const titles = unapplied.map((u) => `"${u.title}"`).join(", ");
  return {
    summary: `${intent?.summary ?? "no replace or delete"}; in this dry run it also shows what ${titles} would change (not applied)`,
    allows: (r) => all.some((i) => (i ? i.allows(r) : r.op !== "replace" && r.op !== "delete")),
  };
}

export function describeViolations(v: IntentViolation[]): string {
  const shown = v.slice(0, 5).map((x) => `${x.op} ${x.type} ${x.name}`);
  const more = v.length > shown.length ? ` and ${v.length - shown.length} more` : "";
  return `the preview would ${shown.join(", ")}${more}, outside the step's intent`;
}

/** Why confirming this step removes something, or undefined when it only adds/updates. */
export function destructiveReason(
  preview: PreviewResult | undefined,
  action: ActionPreview | undefined,
): string | undefined {
  if (preview) {
    const { replace, delete: del } = preview.changes;
    const parts = [
      replace ? `replaces ${replace} resource${replace === 1 ? "" : "s"}` : "",
      del ? `deletes ${del} resource${del === 1 ? "" : "s"}` : "",
    ].filter(Boolean);
    if (parts.length) return `this step ${parts.join(" and ")}`;
  }
  if (action?.items.some((i) => i.kind === "evict" || i.kind === "delete" || i.kind === "block"))
    return `this step removes capacity: ${action.summary}`;
  return undefined;
}
