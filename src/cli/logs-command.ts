import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { RunbookError } from "../engine/errors.js";
import type { EngineEvent } from "../engine/events.js";
import { createPlainRenderer } from "../render/plain-renderer.js";
import { logPath, validateStackName } from "./state-dir.js";

// `eks-runbook logs [-f]`: the stack's run log (pino JSON lines), worded like the plain
// renderer; `--raw` prints the JSON as it is. `-f` follows the file like `tail -f` (polling,
// so it survives the runbook re-creating the file) until Ctrl-C.

const TAIL_BYTES = 4 * 1024 * 1024;
const POLL_MS = 250;

interface LogRecord {
  level?: number;
  time?: number;
  msg?: string;
  event?: EngineEvent;
  err?: { message?: string };
}

const LEVELS: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

/** Turns run.log lines into readable lines (events as the plain renderer words them). */
export function createLogFormatter(raw: boolean): (line: string) => string[] {
  const out: string[] = [];
  const plain = createPlainRenderer((l) => out.push(l));
  return (line) => {
    if (raw || line.trim() === "") return line.trim() === "" ? [] : [line];
    let r: LogRecord;
    try {
      r = JSON.parse(line) as LogRecord;
    } catch {
      return [line];
    }
    const time = typeof r.time === "number" ? new Date(r.time).toISOString().slice(11, 23) : "";
    const level = LEVELS[r.level ?? 30] ?? String(r.level);
    out.length = 0;
    if (r.event && typeof r.event === "object" && "type" in r.event) plain(r.event);
    const body = out.length
      ? [...out]
      : [`${r.msg ?? ""}${r.err?.message ? `: ${r.err.message}` : ""}`];
    return body.map((b) => `${time} ${level.padEnd(5)} ${b}`);
  };
}

function readFrom(path: string, start: number, end: number): string {
  if (end <= start) return "";
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(end - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export async function logsCommand(
  raw: Record<string, unknown>,
  io: { out: (line: string) => void; signal?: AbortSignal } = {
    out: (l) => process.stdout.write(`${l}\n`),
  },
): Promise<number> {
  const stack = validateStackName(String(raw.stack ?? "dev"));
  const n = Number(raw.lines ?? 50);
  if (!Number.isInteger(n) || n < 0) {
    throw new RunbookError(
      `--lines "${String(raw.lines)}": must be a whole number ≥ 0`,
      "Pass e.g. --lines 200.",
      2,
    );
  }
  const path = logPath(stack);
  const follow = raw.follow === true;
  if (!existsSync(path) && !follow) {
    throw new RunbookError(
      `stack ${stack}: no run log yet at ${path}`,
      `A run writes it: eks-runbook --stack ${stack} (or follow one about to start with logs -f).`,
    );
  }
  const format = createLogFormatter(raw.raw === true);
  const size = existsSync(path) ? statSync(path).size : 0;
  const start = Math.max(0, size - TAIL_BYTES);
  let text = readFrom(path, start, size);
  if (start > 0) text = text.slice(text.indexOf("\n") + 1);
  const lines = text.split("\n");
  const partial = lines.pop() ?? "";
  for (const l of lines.slice(Math.max(0, lines.length - n))) for (const o of format(l)) io.out(o);
  if (!follow) {
    for (const o of format(partial)) io.out(o);
    return 0;
  }

  // Follow until Ctrl-C (or the caller's signal).
  const ac = new AbortController();
  const stop = () => ac.abort();
  const signal = io.signal ?? ac.signal;
  if (!io.signal) {
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  }
  let pos = size - Buffer.byteLength(partial);
  let carry = "";
  try {
    while (!signal.aborted) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (!existsSync(path)) continue;
      const now = statSync(path).size;
      // A smaller file was re-created (a new run, `destroy`): start from its beginning.
      if (now < pos) {
        pos = 0;
        carry = "";
      }
      if (now === pos) continue;
      const chunk = carry + readFrom(path, pos, now);
      pos = now;
      const parts = chunk.split("\n");
      carry = parts.pop() ?? "";
      for (const l of parts) for (const o of format(l)) io.out(o);
    }
    return 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
