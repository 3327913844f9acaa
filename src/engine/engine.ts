import { randomUUID } from "node:crypto";
import { AbortedError, errorMessage, isAbortError } from "./errors.js";
import type {
  AwaitingEvent,
  Decision,
  EngineActions,
  EngineEvent,
  EventListener,
  SummaryEvent,
} from "./events.js";
import { type Clock, type GateOutcome, type GateUpdate, runGates } from "./gate-runner.js";
import { describeViolations, destructiveReason, dryRunIntent, intentViolations } from "./intent.js";
import { type Journal, type JournalState, now, operatorName } from "./journal.js";
import type { ActionPreview, InfraDriver, PreviewResult, TrafficSource } from "./ports.js";
import { resumePoint } from "./resume.js";
import type { Step, StepIntent, StepStatus } from "./step.js";

// The step engine: a state machine per step (pending → previewing → awaiting-confirmation →
// applying → verifying → done | failed | rolled-back), driven by data. It never knows what a
// step does; it previews, checks the preview against the step's intent, asks, applies,
// verifies, journals, and tells renderers. Every failure — a preview outside the intent, a
// failed apply or action, gates that do not hold — ends in the same menu: retry, roll back
// (where something was applied), override (only what the operator named), or stop.

/** The name `--override-gates` takes for a preview outside the step's intent. */
export const INTENT_OVERRIDE = "intent";

export interface EngineOptions<C, S> {
  steps: Step<C, S>[];
  ctx: C;
  infra: InfraDriver<S>;
  journal: Journal<S>;
  /** The desired state before the first step (used when neither journal nor stack has one). */
  initialSpec: S;
  stack: string;
  target: string;
  dryRun: boolean;
  /** Confirm every step without asking (CI). */
  yes: boolean;
  /**
   * Gate ids the operator allows to be overridden when they fail (`intent` for a preview
   * outside the step's intent). Each use is journaled and reported; with `yes`, a failure of
   * anything not named stops the run.
   */
  overrideGates: readonly string[];
  /** Stop cleanly (resumable) once this step (1-based) is done. */
  toStep?: number;
  traffic?: TrafficSource;
  clock?: Clock;
  runId?: string;
  /** Extra fields for the summary (the report path). */
  summaryExtras?: () => Partial<Pick<SummaryEvent, "report">>;
}

export interface RunResult {
  result: SummaryEvent["result"];
  stepsDone: number;
  exitCode: number;
}

type Waiter = { step: string; options: Decision[]; resolve: (d: Decision) => void };
type StepOutcome<S> = { kind: "done"; spec: S } | { kind: "stopped" };
/** A failed step: why, the menu, and what an override would pass (each with its reason). */
type Failure = {
  reason: string;
  options: Decision[];
  overridable: { gate: string; reason: string }[];
};

export class Engine<C, S> implements EngineActions {
  private readonly listeners = new Set<EventListener>();
  private waiter: Waiter | undefined;
  private readonly abortController = new AbortController();
  private overrides = 0;
  private readonly user = operatorName();
  readonly runId: string;
  /** The step whose traffic boundary (timeline mark) the traffic events count from. */
  private currentStep: string | undefined;
  /** Pulumi steps a dry run has previewed but (being a dry run) not applied. */
  private readonly dryRunUnapplied: { title: string; intent: StepIntent | undefined }[] = [];

  constructor(private readonly o: EngineOptions<C, S>) {
    this.runId = o.runId ?? randomUUID();
  }

  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }

  // ── actions (from renderers) ───────────────────────────────────────────────────────

  decide(step: string, decision: Decision): void {
    const w = this.waiter;
    if (!w || w.step !== step || !w.options.includes(decision)) return;
    this.waiter = undefined;
    w.resolve(decision);
  }

  abort(reason = "interrupted by the operator"): void {
    if (!this.abortController.signal.aborted) this.abortController.abort(new AbortedError(reason));
  }

  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  // ── run ──────────────────────────────────────────────────────────────────────────────

  async run(): Promise<RunResult> {
    const { steps, journal } = this.o;
    const signal = this.abortController.signal;
    // A dry run reads where the migration stands too (it previews only what is left), but
    // writes nothing.
    const state: JournalState<S> = journal.read();
    const stackSpec = await this.o.infra.appliedSpec?.(signal);
    const point = resumePoint(steps, this.o.initialSpec, state, stackSpec);
    const resumeIndex = point.index;
    let spec = point.spec;

    this.overrides = state.overrides.length;
    const resumed = state.records.length > 0 || point.note !== undefined;
    const resumeReason = resumed
      ? [this.describeResume(state, resumeIndex), point.note].filter(Boolean).join("; ")
      : undefined;
    this.emit({
      type: "run",
      runId: this.runId,
      stack: this.o.stack,
      target: this.o.target,
      dryRun: this.o.dryRun,
      steps: steps.map((s, i) => ({
        id: s.id,
        index: i + 1,
        title: s.title,
        why: s.why,
        status: i < resumeIndex ? "done" : "pending",
      })),
      ...(resumed && resumeReason
        ? {
            resumeFrom: {
              step: steps[resumeIndex]?.id ?? "end",
              index: resumeIndex + 1,
              reason: resumeReason,
            },
          }
        : {}),
      at: now(),
    });
    for (const w of state.warnings ?? [])
      this.emit({ type: "diagnostic", severity: "warning", message: w, at: now() });

    const traffic = this.o.traffic;
    const unsubscribeTraffic = traffic?.subscribe((s) => {
      const step = this.currentStep;
      const since = step ? traffic.since(step) : traffic.total();
      const total = traffic.total();
      this.emit({
        ...s,
        type: "traffic",
        at: new Date(s.at).toISOString(),
        total: { requests: total.requests, ok: total.ok, failed: total.failed },
        step: { id: step ?? "", requests: since.requests, ok: since.ok, failed: since.failed },
      });
    });

    let stepsDone = resumeIndex;
    try {
      if (!this.o.dryRun) {
        journal.append({
          type: "run",
          runId: this.runId,
          at: now(),
          user: this.user,
          target: this.o.target,
          stack: this.o.stack,
          pid: process.pid,
          ...(resumed ? { resumeFrom: steps[resumeIndex]?.id ?? "end" } : {}),
        });
        if (resumed) await this.recover(state, resumeIndex, spec, signal);
      }
      for (let i = resumeIndex; i < steps.length; i++) {
        const step = steps[i]!;
        const outcome = await this.runStep(step, i + 1, spec, signal);
        if (outcome.kind === "stopped") return this.finish("failed", stepsDone);
        spec = outcome.spec;
        stepsDone = i + 1;
        if (!this.o.dryRun && this.o.toStep === i + 1 && i + 1 < steps.length) {
          this.emit({
            type: "diagnostic",
            severity: "info",
            message: `stopped after step ${i + 1} (--to-step); run again to continue with step ${i + 2}`,
            at: now(),
          });
          return this.finish("paused", stepsDone);
        }
      }
      return this.finish(this.o.dryRun ? "dry-run" : "completed", stepsDone);
    } catch (err) {
      if (signal.aborted || isAbortError(err)) return this.finish("aborted", stepsDone);
      if (!this.o.dryRun) journal.append({ type: "error", at: now(), message: errorMessage(err) });
      this.emit({ type: "diagnostic", severity: "error", message: errorMessage(err), at: now() });
      await this.finish("failed", stepsDone);
      throw err;
    } finally {
      unsubscribeTraffic?.();
      journal.close();
    }
  }

  private describeResume(state: JournalState<S>, index: number): string {
    const step = this.o.steps[index];
    if (!step) return "every step is done";
    const last = state.status.get(step.id);
    if (!last || last === "pending") return `steps 1–${index} are done; starting step ${index + 1}`;
    return `step ${index + 1} was interrupted while ${last}; running it again (finished side effects are kept)`;
  }

  /** Before anything else on a resume: make the infra consistent, re-arm in-process effects. */
  private async recover(state: JournalState<S>, resumeIndex: number, spec: S, signal: AbortSignal) {
    const interrupted = this.o.steps[resumeIndex];
    const last = interrupted ? state.status.get(interrupted.id) : undefined;
    // Without a journal here, nothing says the last update ended cleanly: recover always.
    const unknown = state.records.length === 0;
    if (
      unknown ||
      last === "applying" ||
      last === "verifying" ||
      last === "failed" ||
      last === "rolled-back"
    ) {
      const report = await this.o.infra.recover(signal);
      if (report.actions.length) {
        this.o.journal.append({ type: "recovery", at: now(), actions: report.actions });
        for (const a of report.actions)
          this.emit({
            type: "diagnostic",
            severity: "warning",
            message: `recovery: ${a}`,
            at: now(),
          });
      }
    }
    for (const s of this.o.steps.slice(0, resumeIndex)) {
      if (s.onResume) await s.onResume(this.o.ctx, spec, signal);
    }
  }

  private setStatus(
    step: Step<C, S>,
    index: number,
    status: StepStatus,
    extra: { spec?: S; reason?: string } = {},
  ) {
    if (!this.o.dryRun) {
      this.o.journal.append({ type: "transition", at: now(), step: step.id, status, ...extra });
    }
    this.emit({
      type: "step",
      step: step.id,
      index,
      status,
      at: now(),
      ...(extra.reason ? { reason: extra.reason } : {}),
    });
  }

  private journalDecision(step: string, decision: Decision) {
    this.o.journal.append({ type: "decision", at: now(), step, decision, user: this.user });
  }

  /**
   * One step, as a loop: preview (checked against the intent) → confirm → apply → verify.
   * Retry after a refused preview or a failed apply starts over at the preview (a fresh plan,
   * confirmed again); retry after failed gates watches the gates again.
   */
  private async runStep(
    step: Step<C, S>,
    index: number,
    spec: S,
    signal: AbortSignal,
  ): Promise<StepOutcome<S>> {
    const next = step.change ? step.change(spec) : spec;
    this.o.traffic?.mark(step.id);
    this.currentStep = step.id;

    for (;;) {
      // Preview
      this.setStatus(step, index, "previewing");
      const preview = await this.preview(step, next, spec, signal);
      if (this.o.dryRun) {
        this.emit({
          type: "step",
          step: step.id,
          index,
          status: "pending",
          at: now(),
          reason: preview.violations
            ? `dry run: ${preview.violations}; a run would refuse this step`
            : "dry run: nothing applied",
        });
        return { kind: "done", spec: next };
      }
      if (preview.violations) {
        const d = await this.onFailure(step, index, {
          reason: preview.violations,
          options: ["retry", "stop"],
          overridable: [{ gate: INTENT_OVERRIDE, reason: preview.violations }],
        });
        if (d === "retry") continue;
        if (d !== "override") return this.stopped(step, index, "stopped before applying");
      }

      // Confirm
      this.setStatus(step, index, "awaiting-confirmation");
      const decision = this.o.yes
        ? "skip-confirm"
        : await this.ask(step.id, "confirm", ["confirm", "stop"], signal, {
            ...(preview.destructive
              ? { destructive: { reason: preview.destructive, confirmWith: String(index) } }
              : {}),
          });
      this.journalDecision(step.id, decision);
      if (decision === "stop") return this.stopped(step, index, "stopped before applying");

      // Apply; a failed apply or action is a step failure with the same menu as gates.
      this.setStatus(step, index, "applying", { spec: next });
      try {
        await this.apply(step, next, spec, preview.plan, signal);
      } catch (err) {
        if (signal.aborted || isAbortError(err)) throw err;
        const d = await this.onFailure(step, index, {
          reason: errorMessage(err),
          options: ["retry", "rollback", "stop"],
          overridable: [],
        });
        if (d === "retry") continue;
        if (d === "rollback") await this.rollback(step, index, spec, signal);
        return { kind: "stopped" };
      }

      // Verify
      for (;;) {
        this.setStatus(step, index, "verifying");
        const gates = await this.verify(step, next, signal);
        if (gates.passed) {
          this.setStatus(step, index, "done", { spec: next });
          return { kind: "done", spec: next };
        }
        const failing = gates.results.filter((g) => !g.settled);
        const d = await this.onFailure(step, index, {
          reason: describeGates(failing),
          options: ["retry", "rollback", "stop"],
          overridable: failing.map((g) => ({ gate: g.gate, reason: g.reason })),
        });
        if (d === "retry") continue;
        if (d === "override") {
          this.setStatus(step, index, "done", {
            spec: next,
            reason: `gates overridden (--override-gates ${failing.map((g) => g.gate).join(",")})`,
          });
          return { kind: "done", spec: next };
        }
        if (d === "rollback") await this.rollback(step, index, spec, signal);
        return { kind: "stopped" };
      }
    }
  }

  private stopped(step: Step<C, S>, index: number, reason: string): StepOutcome<S> {
    this.setStatus(step, index, "pending", { reason });
    return { kind: "stopped" };
  }

  /**
   * A failed step: journal it, then ask (or, with --yes, decide). "override" is offered only
   * when every failing item was named with --override-gates, and is journaled as such.
   */
  private async onFailure(step: Step<C, S>, index: number, f: Failure): Promise<Decision> {
    this.setStatus(step, index, "failed", { reason: f.reason });
    const canOverride =
      f.overridable.length > 0 && f.overridable.every((g) => this.o.overrideGates.includes(g.gate));
    const options: Decision[] = canOverride
      ? [...f.options.filter((o) => o !== "stop"), "override", "stop"]
      : f.options;
    const d: Decision = this.o.yes
      ? canOverride
        ? "override"
        : "stop"
      : await this.ask(step.id, "failure", options, this.signal, { reason: f.reason });
    this.journalDecision(step.id, d);
    if (d === "override") {
      this.overrides++;
      this.o.journal.append({
        type: "override",
        at: now(),
        step: step.id,
        gates: f.overridable,
        user: this.user,
      });
      this.emit({
        type: "diagnostic",
        step: step.id,
        severity: "warning",
        message: `overridden (${f.overridable.map((g) => g.gate).join(", ")}): ${f.reason}`,
        at: now(),
      });
    }
    return d;
  }

  private async preview(
    step: Step<C, S>,
    next: S,
    spec: S,
    signal: AbortSignal,
  ): Promise<{ plan?: string; violations?: string; destructive?: string }> {
    const none = { create: 0, update: 0, replace: 0, delete: 0 };
    if (step.change) {
      const p: PreviewResult = await this.o.infra.preview(next, {
        signal,
        dryRun: this.o.dryRun,
        onDiagnostic: (d) => this.emit({ type: "diagnostic", step: step.id, ...d, at: now() }),
      });
      const { same: _same, ...changes } = p.changes;
      const intent = this.o.dryRun ? dryRunIntent(step.intent, this.dryRunUnapplied) : step.intent;
      const violations = intentViolations(p, intent);
      if (this.o.dryRun) this.dryRunUnapplied.push({ title: step.title, intent: step.intent });
      this.emit({
        type: "preview",
        step: step.id,
        changes,
        resources: p.resources,
        ...(intent || violations.length
          ? { intent: { summary: intent?.summary ?? "no replace or delete", violations } }
          : {}),
        at: now(),
      });
      if (!this.o.dryRun)
        this.o.journal.append({ type: "preview", at: now(), step: step.id, changes });
      const destructive = destructiveReason(p, undefined);
      return {
        ...(p.plan ? { plan: p.plan } : {}),
        ...(violations.length ? { violations: describeViolations(violations) } : {}),
        ...(destructive ? { destructive } : {}),
      };
    }
    if (step.action) {
      const a: ActionPreview = await step.action.preview(this.o.ctx, spec, signal);
      this.emit({
        type: "preview",
        step: step.id,
        changes: none,
        resources: [],
        action: a,
        at: now(),
      });
      if (!this.o.dryRun)
        this.o.journal.append({
          type: "preview",
          at: now(),
          step: step.id,
          changes: none,
          summary: a.summary,
        });
      const destructive = destructiveReason(undefined, a);
      return destructive ? { destructive } : {};
    }
    this.emit({ type: "preview", step: step.id, changes: none, resources: [], at: now() });
    return {};
  }

  private async apply(
    step: Step<C, S>,
    next: S,
    spec: S,
    plan: string | undefined,
    signal: AbortSignal,
  ) {
    if (step.change) {
      await this.o.infra.apply(next, {
        signal,
        ...(plan ? { plan } : {}),
        onProgress: (p) => this.emit({ type: "progress", step: step.id, ...p, at: now() }),
        onDiagnostic: (d) => this.emit({ type: "diagnostic", step: step.id, ...d, at: now() }),
      });
    }
    if (step.action) {
      const out = await step.action.run(this.o.ctx, spec, signal, (p) =>
        this.emit({
          type: "progress",
          step: step.id,
          done: p.done,
          total: p.total,
          message: p.message,
          at: now(),
        }),
      );
      this.o.journal.append({
        type: "action",
        at: now(),
        step: step.id,
        summary: out.summary,
        ...(out.details ? { details: out.details } : {}),
      });
      this.emit({
        type: "diagnostic",
        step: step.id,
        severity: "info",
        message: out.summary,
        at: now(),
      });
    }
  }

  private async verify(step: Step<C, S>, spec: S, signal: AbortSignal): Promise<GateOutcome> {
    const outcome = await runGates(step.gates, this.o.ctx, spec, {
      signal,
      ...(this.o.clock ? { clock: this.o.clock } : {}),
      onUpdate: (u) => this.emit({ type: "gate", step: step.id, at: now(), ...u }),
    });
    for (const g of outcome.results) {
      this.o.journal.append({
        type: "gate",
        at: now(),
        step: step.id,
        gate: g.gate,
        passed: g.settled,
        reason: g.reason,
      });
    }
    return outcome;
  }

  /** Applies the previous spec (or the action's undo), verified by the previous step's gates. */
  private async rollback(step: Step<C, S>, index: number, previous: S, signal: AbortSignal) {
    this.setStatus(step, index, "applying", { spec: previous, reason: "rolling back" });
    if (step.change) {
      await this.o.infra.apply(previous, {
        signal,
        onProgress: (p) => this.emit({ type: "progress", step: step.id, ...p, at: now() }),
      });
    } else if (step.action?.undo) {
      const out = await step.action.undo(this.o.ctx, previous, signal);
      this.o.journal.append({ type: "action", at: now(), step: step.id, summary: out.summary });
    }
    const prevStep = this.o.steps[index - 2];
    const gates = prevStep
      ? await this.verify(prevStep, previous, signal)
      : { passed: true, results: [] };
    this.setStatus(step, index, "rolled-back", {
      spec: previous,
      reason: gates.passed
        ? "previous state restored and verified"
        : "previous state applied; its gates did not pass",
    });
  }

  private ask(
    step: string,
    kind: "confirm" | "failure",
    options: Decision[],
    signal: AbortSignal,
    extra: Pick<AwaitingEvent, "destructive" | "reason"> = {},
  ): Promise<Decision> {
    return new Promise<Decision>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.waiter = undefined;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiter = {
        step,
        options,
        resolve: (d) => {
          signal.removeEventListener("abort", onAbort);
          resolve(d);
        },
      };
      this.emit({ type: "awaiting", step, kind, options, ...extra, at: now() });
    });
  }

  private async finish(result: SummaryEvent["result"], stepsDone: number): Promise<RunResult> {
    if (!this.o.dryRun && result !== "dry-run")
      this.o.journal.append({ type: "end", at: now(), result });
    const t = this.o.traffic?.total() ?? { requests: 0, ok: 0, failed: 0 };
    this.emit({
      type: "summary",
      result,
      stepsDone,
      requests: { total: t.requests, ok: t.ok, failed: t.failed },
      overrides: this.overrides,
      ...(this.o.summaryExtras?.() ?? {}),
      at: now(),
    });
    const exitCode =
      result === "completed" || result === "dry-run" || result === "paused"
        ? 0
        : result === "aborted"
          ? 130
          : 1;
    return { result, stepsDone, exitCode };
  }
}

/**
 * Why gates failed, naming only the gates whose condition does not hold; a gate that holds
 * but not yet for its whole window is said to be so (it did not fail).
 */
function describeGates(failing: GateUpdate[]): string {
  // A gate that failed at once (terminal) leaves others unobserved: they did not fail.
  const observed = failing.filter((g) => g.observed !== false);
  return (observed.length ? observed : failing)
    .map((g) =>
      g.passed
        ? `${g.gate}: holds, but not yet for its whole window (${g.reason})`
        : `${g.gate}: ${g.reason}`,
    )
    .join("; ");
}
