import { closeSync, constants, fsyncSync, openSync, writeSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname } from "node:path";
import { z } from "zod";
import { InputError, userFsError } from "./errors.js";
import { cutTornTail, readOwnFile } from "./line-file.js";
import type { ChangeCounts } from "./ports.js";
import { ensurePrivateDir, fsyncDir, type Warn } from "./private-dir.js";
import { excerpt, looksSecret } from "./safe-text.js";
import type { StepStatus } from "./step.js";

// Append-only JSON lines, fsync'd on every record, so a crash at any point leaves a journal
// that says exactly how far the migration got. Nothing secret goes in here: specs, counts,
// reasons and user names only.
//
// Crash safety, as write-ahead logs do it: a record is one write(2) of one line ending in
// "\n", then fsync. A crash mid-write can only leave an unterminated last line, which was
// never acknowledged (the engine had not moved on): it is ignored with a warning on read
// and cut off before the next append. Every other line must be a valid record; a damaged
// one is refused naming the line, because guessing where a half-migrated stack stands is
// worse than stopping. The file and its directory are the operator's alone (0600/0700),
// opened without following symlinks, and the directory is fsync'd when the file is created.

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
  /**
   * What the reader tolerated and the operator should hear about (a torn last line).
   * Always set by read(); optional so hand-built states (dry runs, tests) stay valid.
   */
  warnings?: string[];
}

export interface JournalOptions<S> {
  /**
   * Validates the `spec` of transition records (e.g. the runbook's zod schema). Without
   * it a spec must at least be a JSON object.
   */
  spec?: z.ZodType<S>;
  /** Called with each read warning as it is found (besides JournalState.warnings). */
  onWarning?: Warn;
}

/**
 * The largest journal read: a run writes a few dozen records of at most a few KiB each
 * (the spec is the largest field), so even thousands of resumed runs stay far below; a
 * bigger file is not a journal this runbook wrote.
 */
export const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;

const STEP_STATUSES = [
  "pending",
  "previewing",
  "awaiting-confirmation",
  "applying",
  "verifying",
  "done",
  "failed",
  "rolled-back",
] as const satisfies readonly StepStatus[];

// What the reader relies on is required and typed (a transition's step, status and spec,
// an override's gates); descriptive fields are typed when present, so a record a human
// or an older runbook trimmed still reads, and one that says something wrong never does.
function recordSchema(spec: z.ZodType<unknown>) {
  // Loose objects: a newer runbook may add fields; the ones read here must be right.
  const base = { at: z.string().optional() };
  const text = z.string().optional();
  return z.discriminatedUnion("type", [
    z.looseObject({
      ...base,
      type: z.literal("run"),
      user: text,
      target: text,
      stack: text,
      pid: z.number().optional(),
      resumeFrom: text,
      runId: text,
    }),
    z.looseObject({
      ...base,
      type: z.literal("transition"),
      step: z.string(),
      status: z.enum(STEP_STATUSES),
      spec: spec.optional(),
      reason: text,
    }),
    z.looseObject({
      ...base,
      type: z.literal("preview"),
      step: z.string(),
      changes: z
        .looseObject({
          create: z.number(),
          update: z.number(),
          replace: z.number(),
          delete: z.number(),
        })
        .optional(),
      summary: text,
    }),
    z.looseObject({
      ...base,
      type: z.literal("gate"),
      step: z.string(),
      gate: z.string(),
      passed: z.boolean(),
      reason: text,
    }),
    z.looseObject({
      ...base,
      type: z.literal("decision"),
      step: z.string(),
      decision: z.string(),
      user: text,
    }),
    z.looseObject({
      ...base,
      type: z.literal("override"),
      step: z.string(),
      gates: z.array(z.looseObject({ gate: z.string(), reason: text })),
      user: text,
    }),
    z.looseObject({
      ...base,
      type: z.literal("action"),
      step: z.string(),
      summary: text,
      details: z.record(z.string(), z.unknown()).optional(),
    }),
    z.looseObject({
      ...base,
      type: z.literal("recovery"),
      actions: z.array(z.string()).optional(),
    }),
    z.looseObject({ ...base, type: z.literal("error"), step: text, message: text }),
    z.looseObject({
      ...base,
      type: z.literal("end"),
      result: z.enum(["completed", "failed", "aborted", "paused"]),
    }),
  ]);
}

const anySpec = z.record(z.string(), z.unknown());

function describeRecordIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.join(".") : "type";
  if (issue.path.length === 1 && issue.path[0] === "type" && issue.code !== "invalid_type")
    return 'field "type": not a known record type';
  if (issue.code === "invalid_union" && issue.path.length === 0)
    return 'field "type": not a known record type';
  return `field "${field}": ${issue.message}`;
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
  private readonly schema: ReturnType<typeof recordSchema>;

  constructor(
    readonly path: string,
    private readonly opts: JournalOptions<S> = {},
  ) {
    this.schema = recordSchema(opts.spec ?? anySpec);
  }

  /** Reads and validates the journal; a damaged journal is an InputError naming the line. */
  read(): JournalState<S> {
    const state: JournalState<S> = { status: new Map(), overrides: [], records: [], warnings: [] };
    const text = this.readText();
    if (text === undefined) return state;
    const lines = text.split("\n");
    // Everything after the last "\n" is a torn write (empty when the file ends cleanly).
    const tail = lines.pop() ?? "";
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      const rec = this.parseLine(line, i + 1);
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
    if (tail.trim() !== "") {
      const w = `${this.path}: line ${lines.length + 1} is an incomplete record (${tail.length} bytes, no end of line), left by a crash while it was written; ignored, the run resumes from the record before it`;
      state.warnings?.push(w);
      this.opts.onWarning?.(`warning: ${w}\n`);
    }
    return state;
  }

  append(rec: JournalRecord<S>): void {
    this.fd ??= this.openForAppend();
    try {
      writeSync(this.fd, `${JSON.stringify(rec)}\n`);
      fsyncSync(this.fd);
    } catch (err) {
      // A full disk or a file system gone read-only: the operator's to fix, named as such.
      throw userFsError(err, this.path, "journal") ?? err;
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private readText(): string | undefined {
    const r = readOwnFile(this.path, "journal", {
      maxBytes: MAX_JOURNAL_BYTES,
      tooLarge: "refuse",
    });
    switch (r.kind) {
      case "missing":
        return undefined;
      case "not-a-file":
        throw new InputError(
          `journal ${this.path} is not a regular file`,
          "Move it away: the journal is a file the runbook writes itself.",
        );
      case "too-large":
        throw new InputError(
          `journal ${this.path} is ${r.size} bytes, more than the ${MAX_JOURNAL_BYTES} a journal can reach; it is not one this runbook wrote`,
          "Check the file; nothing was changed.",
        );
      case "text":
        return r.text;
    }
  }

  private parseLine(line: string, n: number): JournalRecord<S> {
    const damaged = (why: string) =>
      new InputError(
        `${this.path}: line ${n} is not a journal record (${why}); the journal is damaged, so where the migration stands is unknown`,
        "Nothing was changed. Restore the line (from a backup, or by hand: one JSON record per line) and check with `eks-runbook status`. Do not move the journal away: the next run would start again at step 1 on a stack that is partly migrated.",
      );
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw damaged(looksSecret(line) ? "not JSON" : `not JSON: ${excerpt(line)}`);
    }
    const parsed = this.schema.safeParse(raw);
    if (!parsed.success) {
      throw damaged(parsed.error.issues.slice(0, 3).map(describeRecordIssue).join("; "));
    }
    return parsed.data as JournalRecord<S>;
  }

  private openForAppend(): number {
    const dir = dirname(this.path);
    ensurePrivateDir(dir, this.opts.onWarning);
    const flags = constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW;
    let fd: number;
    try {
      try {
        fd = openSync(this.path, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
        // The new file's directory entry must be durable too, or a crash loses the file.
        fsyncDir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        fd = openSync(this.path, flags);
      }
    } catch (err) {
      throw userFsError(err, this.path, "journal") ?? err;
    }
    try {
      cutTornTail(fd);
    } catch (err) {
      closeSync(fd);
      throw userFsError(err, this.path, "journal") ?? err;
    }
    return fd;
  }
}

export const now = (): string => new Date().toISOString();
