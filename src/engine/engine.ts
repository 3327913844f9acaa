import { AbortedError, errorMessage, isAbortError } from "./errors.js";
import type {
  Decision,
  EngineActions,
  EngineEvent,
  EventListener,
  SummaryEvent,
} from "./events.js";
import { type Clock, type GateOutcome, runGates } from "./gate-runner.js";
import { type Journal, type JournalState, now, operatorName } from "./journal.js";
import type { InfraDriver, PreviewResult, TrafficSource } from "./ports.js";
import type { Step, StepStatus } from "./step.js";

// The step engine: a state machine per step (pending → previewing → awaiting-confirmation →
// applying → verifying → done | failed | rolled-back), driven by data. It never knows what a
// step does; it previews, asks, applies, verifies, journals, and tells renderers.

export interface EngineOptions<C, S> {
  steps: Step<C, S>[];
  ctx: C;
  infra: InfraDriver<S>;
  journal: Journal<S>;
  /** The desired state before the first step (used when the journal has none). */
  initialSpec: S;
  stack: string;
  target: string;
  dryRun: boolean;
  /** Confirm every step without asking (CI). */
  yes: boolean;
  /** Allow continuing past failed gates (explicit, journaled, reported). */
  overrideGates: boolean;
  traffic?: TrafficSource;
  clock?: Clock;
  /** Extra fields for the summary (the report path). */
  summaryExtras?: () => Partial<Pick<SummaryEvent, "report">>;
}

export interface RunResult {
  result: SummaryEvent["result"];
  stepsDone: number;
  exitCode: number;
}

type Waiter = { step: string; options: Decision[]; resolve: (d: Decision) => void };

export class Engine<C, S> implements EngineActions {
  private readonly listeners = new Set<EventListener>();
  private waiter: Waiter | undefined;
  private readonly abortController = new AbortController();
  private overrides = 0;
  private readonly user = operatorName();

  constructor(private readonly o: EngineOptions<C, S>) {}

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
    const state: JournalState<S> = this.o.dryRun
      ? { status: new Map(), overrides: [], records: [] }
      : journal.read();
    this.overrides = state.overrides.length;
    const startIndex = steps.findIndex((s) => state.status.get(s.id) !== "done");
    const resumeIndex = startIndex === -1 ? steps.length : startIndex;
    let spec = state.appliedSpec ?? this.o.initialSpec;

    const resumed = !this.o.dryRun && state.records.length > 0;
    const resumeReason = resumed ? this.describeResume(state, resumeIndex) : undefined;
    this.emit({
      type: "run",
      stack: this.o.stack,
      target: this.o.target,
      dryRun: this.o.dryRun,
      steps: steps.map((s, i) => ({
        id: s.id,
        index: i + 1,
        title: s.title,
        why: s.why,
        status: state.status.get(s.id) === "done" ? "done" : "pending",
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

    const unsubscribeTraffic = this.o.traffic?.subscribe((s) =>
      this.emit({ ...s, type: "traffic", at: new Date(s.at).toISOString() }),
    );

    let stepsDone = resumeIndex;
    try {
      if (!this.o.dryRun) {
        journal.append({
          type: "run",
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
    if (
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

  private async runStep(
    step: Step<C, S>,
    index: number,
    spec: S,
    signal: AbortSignal,
  ): Promise<{ kind: "done"; spec: S } | { kind: "stopped" }> {
    const next = step.change ? step.change(spec) : spec;
    this.o.traffic?.mark(step.id);

    // Preview
    this.setStatus(step, index, "previewing");
    await this.preview(step, next, spec, signal);
    if (this.o.dryRun) {
      this.emit({
        type: "step",
        step: step.id,
        index,
        status: "pending",
        at: now(),
        reason: "dry run: nothing applied",
      });
      return { kind: "done", spec: next };
    }

    // Confirm
    this.setStatus(step, index, "awaiting-confirmation");
    const decision = this.o.yes
      ? "skip-confirm"
      : await this.ask(step.id, "confirm", ["confirm", "stop"], signal);
    this.o.journal.append({
      type: "decision",
      at: now(),
      step: step.id,
      decision,
      user: this.user,
    });
    if (decision === "stop") {
      this.setStatus(step, index, "pending", { reason: "stopped before applying" });
      return { kind: "stopped" };
    }

    // Apply, then verify; on failure the operator retries, rolls back, overrides or stops.
    this.setStatus(step, index, "applying", { spec: next });
    await this.apply(step, next, spec, signal);
    for (;;) {
      this.setStatus(step, index, "verifying");
      const gates = await this.verify(step, next, signal);
      if (gates.passed) {
        this.setStatus(step, index, "done", { spec: next });
        return { kind: "done", spec: next };
      }
      const failedGates = gates.results.filter((g) => !g.settled);
      const reason = failedGates.map((g) => `${g.gate}: ${g.reason}`).join("; ");
      this.setStatus(step, index, "failed", { reason });
      const options: Decision[] = [
        "retry",
        "rollback",
        ...(this.o.overrideGates ? (["override"] as const) : []),
        "stop",
      ];
      const d = this.o.yes
        ? this.o.overrideGates
          ? "override"
          : "stop"
        : await this.ask(step.id, "failure", options, signal);
      this.o.journal.append({
        type: "decision",
        at: now(),
        step: step.id,
        decision: d,
        user: this.user,
      });
      if (d === "retry") continue;
      if (d === "override") {
        this.overrides++;
        this.o.journal.append({
          type: "override",
          at: now(),
          step: step.id,
          gates: failedGates.map((g) => ({ gate: g.gate, reason: g.reason })),
          user: this.user,
        });
        this.emit({
          type: "diagnostic",
          step: step.id,
          severity: "warning",
          message: `gates overridden: ${reason}`,
          at: now(),
        });
        this.setStatus(step, index, "done", {
          spec: next,
          reason: "gates overridden (--override-gates)",
        });
        return { kind: "done", spec: next };
      }
      if (d === "rollback") {
        await this.rollback(step, index, spec, signal);
        return { kind: "stopped" };
      }
      return { kind: "stopped" };
    }
  }

  private async preview(step: Step<C, S>, next: S, spec: S, signal: AbortSignal) {
    if (step.change) {
      const p: PreviewResult = await this.o.infra.preview(next, {
        signal,
        onDiagnostic: (d) => this.emit({ type: "diagnostic", step: step.id, ...d, at: now() }),
      });
      const { same: _same, ...changes } = p.changes;
      this.emit({ type: "preview", step: step.id, changes, resources: p.resources });
      if (!this.o.dryRun)
        this.o.journal.append({ type: "preview", at: now(), step: step.id, changes });
    } else if (step.action) {
      const a = await step.action.preview(this.o.ctx, spec, signal);
      const changes = { create: 0, update: 0, replace: 0, delete: 0 };
      this.emit({ type: "preview", step: step.id, changes, resources: [], action: a });
      if (!this.o.dryRun)
        this.o.journal.append({
          type: "preview",
          at: now(),
          step: step.id,
          changes,
          summary: a.summary,
        });
    } else {
      this.emit({
        type: "preview",
        step: step.id,
        changes: { create: 0, update: 0, replace: 0, delete: 0 },
        resources: [],
      });
    }
  }

  private async apply(step: Step<C, S>, next: S, spec: S, signal: AbortSignal) {
    if (step.change) {
      await this.o.infra.apply(next, {
        signal,
        onProgress: (p) => this.emit({ type: "progress", step: step.id, ...p }),
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
        onProgress: (p) => this.emit({ type: "progress", step: step.id, ...p }),
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
      this.emit({ type: "awaiting", step, kind, options, at: now() });
    });
  }

  private async finish(result: SummaryEvent["result"], stepsDone: number): Promise<RunResult> {
    const traffic = this.o.traffic;
    if (result === "aborted" || result === "failed") {
      if (traffic?.running) await traffic.stop().catch(() => undefined);
    }
    if (!this.o.dryRun && result !== "dry-run")
      this.o.journal.append({ type: "end", at: now(), result });
    const t = traffic?.total() ?? { requests: 0, ok: 0, failed: 0 };
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
      result === "completed" || result === "dry-run" ? 0 : result === "aborted" ? 130 : 1;
    return { result, stepsDone, exitCode };
  }
}
