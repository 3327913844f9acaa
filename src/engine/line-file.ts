import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
} from "node:fs";
import { userFsError } from "./errors.js";

// Line files the runbook appends to and reads back (the journal, the traffic timeline):
// read without following a symlink or blocking on a FIFO, and cut back to whole lines
// after a torn write.

export type OwnFile =
  | { kind: "missing" }
  | { kind: "not-a-file" }
  | { kind: "too-large"; size: number }
  /** `text` is the newest part, from a line start, when the file exceeded maxBytes (tail). */
  | { kind: "text"; text: string; truncated: boolean };

/** Reads a file the runbook wrote; beyond maxBytes either refuses or keeps the newest lines. */
export function readOwnFile(
  path: string,
  what: string,
  o: { maxBytes: number; tooLarge: "refuse" | "tail" },
): OwnFile {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw userFsError(err, path, what) ?? err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: "not-a-file" };
    if (st.size > o.maxBytes && o.tooLarge === "refuse")
      return { kind: "too-large", size: st.size };
    const size = Math.min(st.size, o.maxBytes);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, st.size - size + got);
      if (n === 0) break;
      got += n;
    }
    const text = buf.subarray(0, got).toString("utf8");
    const truncated = size < st.size;
    return { kind: "text", text: truncated ? text.slice(text.indexOf("\n") + 1) : text, truncated };
  } catch (err) {
    throw userFsError(err, path, what) ?? err;
  } finally {
    closeSync(fd);
  }
}

/** Cuts an unterminated last line (a torn write) so the next record starts on its own line. */
export function cutTornTail(fd: number): void {
  const st = fstatSync(fd);
  if (!st.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
  if (st.size === 0) return;
  const chunk = Buffer.alloc(64 * 1024);
  let end = st.size;
  let first = true;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = readSync(fd, chunk, 0, end - start, start);
    const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (first && nl === n - 1) return; // ends cleanly
    first = false;
    if (nl !== -1) {
      ftruncateSync(fd, start + nl + 1);
      fsyncSync(fd);
      return;
    }
    end = start;
  }
  ftruncateSync(fd, 0);
  fsyncSync(fd);
}
