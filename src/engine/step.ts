import type {
  ActionOutcome,
  ActionPreview,
  ActionProgress,
  Probe,
  ResourceChange,
} from "./ports.js";

// A step is data. The engine runs a list of these and knows nothing about what they do.
// `C` is the context the runbook builds (clients, traffic source, outputs, …); `S` is the
// runbook's desired-state type, which the engine only passes through.

export interface GateDef<C, S> {
  id: string;
  title: string;
  /** How long the condition must hold before the gate passes. */
  windowMs: number;
  /** Fail the gate if it has not passed by then. */
  timeoutMs: number;
  probe: (ctx: C, spec: S) => Probe;
}

export interface StepAction<C, S> {
  /** What it would do, changing nothing (server-side dry runs where possible). */
  preview: (ctx: C, spec: S, signal: AbortSignal) => Promise<ActionPreview>;
  run: (
    ctx: C,
    spec: S,
    signal: AbortSignal,
    progress: (p: ActionProgress) => void,
  ) => Promise<ActionOutcome>;
  /** Undo for roll back, where one exists (uncordon after a drain). */
  undo?: (ctx: C, spec: S, signal: AbortSignal) => Promise<ActionOutcome>;
}

/**
 * What a Pulumi step may change. A preview with a change the intent does not allow is shown,
 * named and refused before confirmation (a typo in a program never reaches "apply").
 */
export interface StepIntent {
  /** One line for the operator: "creates group new and its dependents; updates nothing else". */
  summary: string;
  allows(change: ResourceChange): boolean;
}

export interface Step<C, S> {
  id: string;
  title: string;
  /** Why this step exists, in a sentence or two. */
  why: string;
  /** A Pulumi step: the desired state after it. Pure. */
  change?: (spec: S) => S;
  /** For a Pulumi step: the changes it may make (checked against every preview). */
  intent?: StepIntent;
  /** A cluster/traffic operation. */
  action?: StepAction<C, S>;
  gates: GateDef<C, S>[];
  /**
   * Re-establishes in-process effects of a finished step when a run resumes after it
   * (the load generator does not survive a restart).
   */
  onResume?: (ctx: C, spec: S, signal: AbortSignal) => Promise<void>;
}

export type StepStatus =
  | "pending"
  | "previewing"
  | "awaiting-confirmation"
  | "applying"
  | "verifying"
  | "done"
  | "failed"
  | "rolled-back";
