import type {
  AwaitingEvent,
  EngineEvent,
  GateEvent,
  PreviewEvent,
  RunEvent,
} from "../engine/events.js";
import type { StepStatus } from "../engine/step.js";

// The screen's state as a pure reducer over engine events: testable without a terminal,
// and the only thing the Ink components read.

export interface StepView {
  id: string;
  index: number;
  title: string;
  why: string;
  status: StepStatus;
  startedAt?: number;
  endedAt?: number;
  reason?: string;
  preview?: PreviewEvent;
  progress?: { done: number; total: number; current?: string; message?: string };
  gates: Record<string, GateEvent>;
  /** Each change of a gate's verdict (waiting → holding → passed), oldest first. */
  gateHistory: GateTransition[];
  messages: string[];
}

export interface GateTransition {
  at: string;
  gate: string;
  verdict: "waiting" | "holding" | "passed";
  reason: string;
}

export interface TrafficView {
  /** Last 60 per-second samples, oldest first. */
  samples: {
    at: number;
    requests: number;
    ok: number;
    failed: number;
    p50Ms: number;
    p99Ms: number;
  }[];
  errors: Record<string, number>;
  total: { requests: number; ok: number; failed: number };
  step: { requests: number; ok: number; failed: number };
  stepId?: string;
}

export interface ScreenState {
  run?: Omit<RunEvent, "steps">;
  startedAt: number;
  steps: StepView[];
  current?: string;
  awaiting?: Pick<AwaitingEvent, "step" | "kind" | "options" | "destructive" | "reason">;
  traffic: TrafficView;
  summary?: Extract<EngineEvent, { type: "summary" }>;
  diagnostics: string[];
  /** The tail of this run's event log (the plain renderer's lines), oldest first. */
  log: string[];
}

const LOG_LINES = 1000;

/** Appends lines to the event log tail (kept outside `reduce`: the lines come from a renderer). */
export function appendLog(s: ScreenState, lines: string[]): ScreenState {
  if (lines.length === 0) return s;
  return { ...s, log: [...s.log, ...lines].slice(-LOG_LINES) };
}

const SAMPLE_HISTORY = 60;
const MESSAGES_PER_STEP = 50;
const GATE_HISTORY_PER_STEP = 200;

export function initialState(now = Date.now()): ScreenState {
  return {
    startedAt: now,
    steps: [],
    traffic: {
      samples: [],
      errors: {},
      total: { requests: 0, ok: 0, failed: 0 },
      step: { requests: 0, ok: 0, failed: 0 },
    },
    diagnostics: [],
    log: [],
  };
}

function updateStep(s: ScreenState, id: string, f: (v: StepView) => StepView): ScreenState {
  return { ...s, steps: s.steps.map((v) => (v.id === id ? f(v) : v)) };
}

export function reduce(s: ScreenState, e: EngineEvent, now = Date.now()): ScreenState {
  switch (e.type) {
    case "run": {
      const { steps, ...run } = e;
      return {
        ...s,
        run,
        steps: steps.map((st) => ({ ...st, gates: {}, gateHistory: [], messages: [] })),
      };
    }
    case "step": {
      const next = updateStep(s, e.step, (v) => ({
        ...v,
        status: e.status,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        ...(e.status === "previewing" && v.startedAt === undefined ? { startedAt: now } : {}),
        ...(e.status === "done" || e.status === "failed" || e.status === "rolled-back"
          ? { endedAt: now }
          : {}),
        ...(e.status === "verifying" ? { gates: {} } : {}),
      }));
      return {
        ...next,
        current: e.step,
        awaiting:
          s.awaiting?.step === e.step &&
          e.status !== "awaiting-confirmation" &&
          e.status !== "failed"
            ? undefined
            : s.awaiting,
      };
    }
    case "preview":
      return updateStep(s, e.step, (v) => ({ ...v, preview: e }));
    case "progress":
      return updateStep(s, e.step, (v) => ({
        ...v,
        progress: {
          done: e.done,
          total: e.total,
          ...(e.current ? { current: e.current } : {}),
          ...(e.message ? { message: e.message } : {}),
        },
      }));
    case "gate":
      return updateStep(s, e.step, (v) => {
        const verdict = e.settled ? "passed" : e.passed ? "holding" : "waiting";
        const prev = v.gates[e.gate];
        const prevVerdict = prev && (prev.settled ? "passed" : prev.passed ? "holding" : "waiting");
        const gateHistory =
          prevVerdict === verdict
            ? v.gateHistory
            : [
                ...v.gateHistory,
                { at: e.at, gate: e.gate, verdict, reason: e.reason } as const,
              ].slice(-GATE_HISTORY_PER_STEP);
        return { ...v, gates: { ...v.gates, [e.gate]: e }, gateHistory };
      });
    case "awaiting":
      return {
        ...s,
        awaiting: {
          step: e.step,
          kind: e.kind,
          options: e.options,
          ...(e.destructive ? { destructive: e.destructive } : {}),
          ...(e.reason !== undefined ? { reason: e.reason } : {}),
        },
      };
    case "diagnostic": {
      const line = `${e.severity === "info" ? "" : `${e.severity}: `}${e.message}`;
      if (e.step) {
        return updateStep(s, e.step, (v) => ({
          ...v,
          messages: [...v.messages, line].slice(-MESSAGES_PER_STEP),
        }));
      }
      return { ...s, diagnostics: [...s.diagnostics, line].slice(-MESSAGES_PER_STEP) };
    }
    case "traffic": {
      const sample = {
        at: Date.parse(e.at),
        requests: e.requests,
        ok: e.ok,
        failed: e.failed,
        p50Ms: e.p50Ms,
        p99Ms: e.p99Ms,
      };
      // Totals come from the timeline itself (the same numbers and step boundary the gates
      // use); only the per-class breakdown of failures is accumulated here.
      const errors = { ...s.traffic.errors };
      for (const [k, n] of Object.entries(e.errors)) errors[k] = (errors[k] ?? 0) + n;
      const { id: stepId, ...step } = e.step;
      return {
        ...s,
        traffic: {
          ...s.traffic,
          samples: [...s.traffic.samples, sample].slice(-SAMPLE_HISTORY),
          errors,
          total: e.total,
          step,
          stepId,
        },
      };
    }
    case "summary":
      return { ...s, summary: e, awaiting: undefined };
    case "error":
      return {
        ...s,
        diagnostics: [...s.diagnostics, `error: ${e.message}`].slice(-MESSAGES_PER_STEP),
      };
  }
}

// ── derived values for the views ────────────────────────────────────────────────────

export function successRate(a: { requests: number; ok: number }): number | undefined {
  return a.requests === 0 ? undefined : (a.ok / a.requests) * 100;
}

export function lastSeconds(t: TrafficView, n: number) {
  const xs = t.samples.slice(-n);
  return xs.reduce(
    (a, x) => ({ requests: a.requests + x.requests, ok: a.ok + x.ok, failed: a.failed + x.failed }),
    {
      requests: 0,
      ok: 0,
      failed: 0,
    },
  );
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function formatRate(r: number | undefined): string {
  return r === undefined ? "–" : `${r === 100 ? "100.00" : r.toFixed(2)}%`;
}

const BARS = "▁▂▃▄▅▆▇█";

/** A sparkline of values scaled to [min, max] (min defaults to 0). */
export function sparkline(values: number[], width: number, min = 0, max?: number): string {
  const xs = values.slice(-width);
  const hi = max ?? Math.max(1, ...xs);
  const span = hi - min || 1;
  return xs
    .map(
      (v) =>
        BARS[
          Math.max(0, Math.min(BARS.length - 1, Math.round(((v - min) / span) * (BARS.length - 1))))
        ],
    )
    .join("");
}

export function isTerminal(status: StepStatus): boolean {
  return status === "done" || status === "failed" || status === "rolled-back";
}
