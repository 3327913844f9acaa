import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from "node:fs";
import { userInfo } from "node:os";
import { dirname } from "node:path";
import { InputError } from "./errors.js";
import type { ChangeCounts } from "./ports.js";
import type { StepStatus } from "./step.js";

// Append-only JSON lines, fsync'd on every record, so a crash at any point leaves a journal
// that says exactly how far the migration got. Nothing secret goes in here: specs, counts,
// reasons and user names only.

export type JournalRecord<S = unknown> =
  | {
      type: "run";
      /** The engine's run id (absent in journals written before it existed). */
      runId?: string;
      at: string;
      user: string;
      target: string;
      stack: string;
      pid: number;
      resumeFrom?: string;
    }
  | {
      type: "transition";
      at: string;
      step: string;
      status: StepStatus;
      spec?: S;
      reason?: string;
    }
  | {
      type: "preview";
      at: string;
      step: string;
      changes: Omit<ChangeCounts, "same">;
      summary?: string;
    }
  | { type: "gate"; at: string; step: string; gate: string; passed: boolean; reason: string }
  | { type: "decision"; at: string; step: string; decision: string; user: string }
  | {
      type: "override";
      at: string;
      step: string;
      gates: { gate: string; reason: string }[];
      user: string;
    }
  | { type: "action"; at: string; step: string; summary: string; details?: Record<string, unknown> }
  | { type: "recovery"; at: string; actions: string[] }
  | { type: "error"; at: string; step?: string; message: string }
  | { type: "end"; at: string; result: "completed" | "failed" | "aborted" | "paused" };

export interface JournalState<S = unknown> {
  /** Last status per step id. */
  status: Map<string, StepStatus>;
  /** The spec recorded when the most recent step finished (the applied desired state). */
  appliedSpec?: S;
  /** The spec recorded when the latest apply started (may not have completed). */
  applyingSpec?: S;
  overrides: Extract<JournalRecord<S>, { type: "override" }>[];
  records: JournalRecord<S>[];
  /** What reading noticed but could continue past (a torn final line). */
  warnings?: string[];
}

export function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}

export class Journal<S> {
  private fd: number | undefined;

  constructor(readonly path: string) {}

  /** Reads and validates the journal; a journal that does not parse is an InputError. */
  read(): JournalState<S> {
    const state: JournalState<S> = { status: new Map(), overrides: [], records: [] };
    if (!existsSync(this.path)) return state;
    const lines = readFileSync(this.path, "utf8").split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      let rec: JournalRecord<S>;
      try {
        rec = JSON.parse(line) as JournalRecord<S>;
        if (typeof rec !== "object" || rec === null || typeof rec.type !== "string")
          throw new Error("not a record");
      } catch {
        throw new InputError(
          `${this.path}: line ${i + 1} is not a journal record; the journal is damaged, so where the migration stands is unknown`,
          "Nothing was changed. Inspect the file; if you know the migration state, move the file away and start over with `eks-runbook status` to compare against the cluster.",
        );
      }
      state.records.push(rec);
      if (rec.type === "transition") {
        state.status.set(rec.step, rec.status);
        if (rec.status === "applying" && rec.spec) state.applyingSpec = rec.spec;
        if ((rec.status === "done" || rec.status === "rolled-back") && rec.spec)
          state.appliedSpec = rec.spec;
      } else if (rec.type === "override") {
        state.overrides.push(rec);
      }
    });
    return state;
  }

  append(rec: JournalRecord<S>): void {
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.path, "a", 0o600);
    }
    writeSync(this.fd, `${JSON.stringify(rec)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export const now = (): string => new Date().toISOString();
