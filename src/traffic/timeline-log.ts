import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { userFsError } from "../engine/errors.js";
import { cutTornTail, readOwnFile } from "../engine/line-file.js";
import { ensurePrivateDir, fsyncDir, type Warn } from "../engine/private-dir.js";
import type { LoadSample } from "./traffic-stats.js";
import { DEFAULT_MAX_MARKS, DEFAULT_MAX_SAMPLES } from "./traffic-timeline.js";

// The traffic timeline on disk, so a resumed run's report covers the whole change window
// and not only the seconds after the resume. JSON lines in the stack's private state
// directory (0700), the file 0600, opened without following symlinks:
//
//   {"t":"s", ...one per-second sample}     {"t":"m","label":"drain-old-nodes","at":<ms>}
//
// One sample a second and one line per step mark, each appended with one write(2) (as the
// journal does, without its fsync: losing the last seconds to a power cut costs a few chart
// points, not the migration's state). A crash can only tear the last line: reading ignores
// it and the next append cuts it off. Size is bounded: when the file holds twice the
// samples kept in memory, it is rewritten with the newest ones (a temporary file, fsync,
// rename, fsync of the directory: the old file or the new one, never half of either).

/** Largest file read back: twice the 24 h default at a generous 600 bytes a line. */
const MAX_BYTES = 2 * DEFAULT_MAX_SAMPLES * 600 + DEFAULT_MAX_MARKS * 200;

const sampleLine = z.looseObject({
  t: z.literal("s"),
  at: z.number(),
  durationMs: z.number(),
  requests: z.number(),
  ok: z.number(),
  failed: z.number(),
  errors: z.record(z.string(), z.number()),
  p50Ms: z.number(),
  p99Ms: z.number(),
  maxMs: z.number().optional(),
  dropped: z.number().optional(),
});
const markLine = z.object({ t: z.literal("m"), label: z.string(), at: z.number() });
const line = z.discriminatedUnion("t", [sampleLine, markLine]);

export interface PersistedTimeline {
  samples: LoadSample[];
  marks: { label: string; at: number }[];
}

export interface TimelineLogOptions {
  /** Samples kept on disk after a compaction (default 86,400: 24 h, as in memory). */
  maxSamples?: number;
  maxMarks?: number;
  /** Where a torn or damaged line is reported (default: stderr). */
  warn?: Warn;
}

export class TimelineLog {
  private fd: number | undefined;
  private readonly maxSamples: number;
  private readonly maxMarks: number;
  private readonly warn: Warn;
  /** Sample lines in the file (counted on open, then kept up to date). */
  private sampleLines = 0;
  /** What is on disk, kept so a compaction does not read the file back. */
  private readonly recent: PersistedTimeline = { samples: [], marks: [] };

  constructor(
    readonly path: string,
    opts: TimelineLogOptions = {},
  ) {
    this.maxSamples = Math.max(1, opts.maxSamples ?? DEFAULT_MAX_SAMPLES);
    this.maxMarks = Math.max(1, opts.maxMarks ?? DEFAULT_MAX_MARKS);
    this.warn = opts.warn ?? ((m) => void process.stderr.write(m));
  }

  /**
   * What earlier processes recorded, oldest first (the newest `maxSamples` samples and
   * `maxMarks` marks). A torn last line or a damaged one is skipped with a warning: this is
   * evidence for the report, and one lost second must not hide the others.
   */
  read(): PersistedTimeline {
    const text = this.readText();
    const out: PersistedTimeline = { samples: [], marks: [] };
    if (text === undefined) return out;
    const lines = text.split("\n");
    const tail = lines.pop() ?? "";
    let damaged = 0;
    for (const raw of lines) {
      if (raw.trim() === "") continue;
      let parsed: z.infer<typeof line>;
      try {
        parsed = line.parse(JSON.parse(raw));
      } catch {
        damaged++;
        continue;
      }
      if (parsed.t === "m") out.marks.push({ label: parsed.label, at: parsed.at });
      else {
        const { t: _t, ...sample } = parsed;
        out.samples.push(sample as LoadSample);
      }
    }
    if (damaged > 0) this.warn(`warning: ${this.path}: ${damaged} damaged line(s) skipped\n`);
    if (tail.trim() !== "") {
      this.warn(`warning: ${this.path}: an incomplete last line (a crash while writing) skipped\n`);
    }
    this.sampleLines = out.samples.length;
    out.samples.sort((a, b) => a.at - b.at);
    out.marks.sort((a, b) => a.at - b.at);
    out.samples.splice(0, Math.max(0, out.samples.length - this.maxSamples));
    out.marks.splice(0, Math.max(0, out.marks.length - this.maxMarks));
    this.recent.samples = [...out.samples];
    this.recent.marks = [...out.marks];
    return out;
  }

  appendSample(s: LoadSample): void {
    this.append({ t: "s", ...s });
    this.recent.samples.push(s);
    this.sampleLines++;
    if (this.recent.samples.length > this.maxSamples) this.recent.samples.shift();
    if (this.sampleLines >= 2 * this.maxSamples) this.compact();
  }

  appendMark(label: string, at: number): void {
    this.append({ t: "m", label, at });
    this.recent.marks.push({ label, at });
    if (this.recent.marks.length > this.maxMarks) this.recent.marks.shift();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(rec: object): void {
    this.fd ??= this.openForAppend();
    writeSync(this.fd, `${JSON.stringify(rec)}\n`);
  }

  /** Rewrites the file with what is kept, atomically (see the header). */
  private compact(): void {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    rmSync(tmp, { force: true });
    const fd = openSync(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      const rows = [
        ...this.recent.marks.map((m) => ({ t: "m", label: m.label, at: m.at })),
        ...this.recent.samples.map((s) => ({ t: "s", ...s })),
      ];
      writeSync(fd, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.close();
    renameSync(tmp, this.path);
    fsyncDir(dirname(this.path));
    this.sampleLines = this.recent.samples.length;
  }

  private readText(): string | undefined {
    // Larger than this runbook ever writes: read only the newest part (whole lines).
    const r = readOwnFile(this.path, "traffic timeline", { maxBytes: MAX_BYTES, tooLarge: "tail" });
    if (r.kind === "not-a-file")
      this.warn(`warning: ${this.path} is not a regular file; the earlier timeline is ignored\n`);
    return r.kind === "text" ? r.text : undefined;
  }

  private openForAppend(): number {
    ensurePrivateDir(dirname(this.path), this.warn);
    const flags = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = openSync(this.path, flags, 0o600);
    } catch (err) {
      throw userFsError(err, this.path, "traffic timeline") ?? err;
    }
    cutTornTail(fd);
    return fd;
  }
}
