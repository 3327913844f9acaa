import type {
  ActionPreview,
  ApplyProgress,
  ChangeCounts,
  Diagnostic,
  ResourceChange,
  TrafficSample,
} from "./ports.js";
import type { StepStatus } from "./step.js";

// What the engine says happened. Renderers (Ink, plain, JSON) only read these; the JSON
// renderer prints them as they are, so field names here are a stable interface.

export interface RunEvent {
  type: "run";
  /** Unique per invocation; the journal's run record carries the same id. */
  runId: string;
  stack: string;
  target: string;
  dryRun: boolean;
  steps: { id: string; index: number; title: string; why: string; status: StepStatus }[];
  resumeFrom?: { step: string; index: number; reason: string };
  at: string;
}

export interface StepEvent {
  type: "step";
  step: string;
  index: number;
  status: StepStatus;
  at: string;
  reason?: string;
}

export interface PreviewEvent {
  type: "preview";
  step: string;
  changes: Omit<ChangeCounts, "same">;
  resources: ResourceChange[];
  /** Set for action steps (drain, delete nodes, traffic). */
  action?: ActionPreview;
  /** What the step may change, and the changes of this preview outside it (refused). */
  intent?: { summary: string; violations: IntentViolation[] };
  at: string;
}

export interface IntentViolation {
  urn: string;
  name: string;
  type: string;
  op: ResourceChange["op"];
}

export interface ProgressEvent extends ApplyProgress {
  type: "progress";
  step: string;
  at: string;
}

export interface GateEvent {
  type: "gate";
  step: string;
  gate: string;
  title: string;
  passed: boolean;
  /** True once the gate held for its window (final for this step). */
  settled: boolean;
  reason: string;
  warnings?: string[];
  at: string;
}

export interface DiagnosticEvent extends Diagnostic {
  type: "diagnostic";
  step?: string;
  at: string;
}

export type Decision = "confirm" | "skip-confirm" | "retry" | "rollback" | "override" | "stop";

export interface AwaitingEvent {
  type: "awaiting";
  step: string;
  /** confirm: apply this step? failure: the step failed, what now? */
  kind: "confirm" | "failure";
  options: Decision[];
  /**
   * Set when confirming would replace or delete resources or remove capacity (drain, delete
   * nodes): a renderer asks for a second, typed confirmation of `confirmWith`.
   */
  destructive?: { reason: string; confirmWith: string };
  /** For kind "failure": why the step failed (gates, the action's error, an intent check). */
  reason?: string;
  at: string;
}

export interface TrafficCounts {
  requests: number;
  ok: number;
  failed: number;
}

/**
 * One second of traffic plus the timeline's own running totals, so renderers display and
 * never re-sum; `step` counts from the same boundary (timeline mark) as the traffic gate.
 */
export interface TrafficEvent extends Omit<TrafficSample, "at"> {
  type: "traffic";
  at: string;
  total: TrafficCounts;
  step: TrafficCounts & { id: string };
}

export interface SummaryEvent {
  type: "summary";
  /** paused: stopped cleanly after `--to-step` (resumable). */
  result: "completed" | "failed" | "aborted" | "dry-run" | "paused";
  stepsDone: number;
  requests: { total: number; ok: number; failed: number };
  report?: string;
  overrides: number;
  at: string;
}

/** An error that ends the command (before or during the run); JSON mode prints it on stdout. */
export interface ErrorEvent {
  type: "error";
  message: string;
  hint?: string;
  exitCode: number;
  at: string;
}

export type EngineEvent =
  | RunEvent
  | StepEvent
  | PreviewEvent
  | ProgressEvent
  | GateEvent
  | DiagnosticEvent
  | AwaitingEvent
  | TrafficEvent
  | SummaryEvent
  | ErrorEvent;

export type EventListener = (e: EngineEvent) => void;

/** What a renderer may ask of the engine. */
export interface EngineActions {
  decide(step: string, decision: Decision): void;
  abort(reason?: string): void;
}
