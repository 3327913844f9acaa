import { isDeepStrictEqual } from "node:util";
import type { JournalState } from "./journal.js";
import type { Step } from "./step.js";

// Where a run continues: from this machine's journal, checked against the desired state the
// stack itself records (so a second machine, or CI, continues where the first stopped).

export interface ResumePoint<S> {
  /** Index (0-based) of the first step to run; steps.length when every step is done. */
  index: number;
  spec: S;
  /** Why the position came from the stack rather than (only) the journal. */
  note?: string;
}

/** The desired state after each step, folding the steps' changes over the initial spec. */
export function specsAfterSteps<C, S>(steps: Step<C, S>[], initial: S): S[] {
  const out: S[] = [];
  let spec = initial;
  for (const s of steps) {
    spec = s.change ? s.change(spec) : spec;
    out.push(spec);
  }
  return out;
}

export function resumePoint<C, S>(
  steps: Step<C, S>[],
  initial: S,
  journal: JournalState<S>,
  stackSpec: S | undefined,
): ResumePoint<S> {
  const first = steps.findIndex((s) => journal.status.get(s.id) !== "done");
  const fromJournal: ResumePoint<S> = {
    index: first === -1 ? steps.length : first,
    spec: journal.appliedSpec ?? initial,
  };
  if (stackSpec === undefined) return fromJournal;
  if (isDeepStrictEqual(stackSpec, fromJournal.spec)) return fromJournal;
  // The stack disagrees with this machine's journal (or there is none here): run again the
  // FIRST step whose desired state the stack holds — its apply is a no-op and its gates are
  // verified afresh — and what follows it. Action steps among those (drain, delete nodes) are
  // idempotent and verified by their own gates.
  const after = specsAfterSteps(steps, initial);
  const i = after.findIndex((s) => isDeepStrictEqual(s, stackSpec));
  if (i === -1) return fromJournal;
  return {
    index: i,
    spec: i === 0 ? initial : after[i - 1]!,
    note:
      journal.records.length === 0
        ? `this machine has no journal for the stack; the stack's own state says step ${i + 1} was applied last; verifying it again`
        : `the stack's own state (step ${i + 1} applied last) differs from this machine's journal; following the stack`,
  };
}
