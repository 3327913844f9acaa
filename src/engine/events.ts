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
}

export interface ProgressEvent extends ApplyProgress {
  type: "progress";
  step: string;
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
  at: string;
}

export interface TrafficEvent extends Omit<TrafficSample, "at"> {
  type: "traffic";
  at: string;
}

export interface SummaryEvent {
  type: "summary";
  result: "completed" | "failed" | "aborted" | "dry-run";
  stepsDone: number;
  requests: { total: number; ok: number; failed: number };
  report?: string;
  overrides: number;
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
  | SummaryEvent;

export type EventListener = (e: EngineEvent) => void;

/** What a renderer may ask of the engine. */
export interface EngineActions {
  decide(step: string, decision: Decision): void;
  abort(reason?: string): void;
}
