import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { z } from "zod";
import { InputError, userFsError } from "./errors.js";
import { ensurePrivateDir, fsyncDir, type Warn } from "./private-dir.js";
import { excerpt } from "./safe-text.js";

// One run per stack at a time: two runs would both drain and delete nodes, and both
// append to one journal. The lock is a file created with O_EXCL (atomic on local file
// systems) that names its owner: pid, host, user, start time and command, so a refused
// operator knows whom to ask. A lock whose pid no longer runs on this host is stale (the
// owner was killed, or its pid now belongs to another process): it is provably abandoned,
// so it is taken over with a warning — kill -9, then the same command, resumes. A lock
// from another host cannot be checked from here: it is broken only when the operator says
// so (--break-lock).

export const lockOwnerSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  user: z.string(),
  startedAt: z.string(),
  command: z.string(),
  /** /proc start time of the pid (clock ticks since boot), so a reused pid is not the owner. */
  procStart: z.number().optional(),
});
export type LockOwner = z.infer<typeof lockOwnerSchema>;

export type LockState =
  | { state: "free" }
  | { state: "live"; owner: LockOwner }
  | { state: "stale"; owner: LockOwner; why: string }
  | { state: "foreign"; owner: LockOwner }
  | { state: "unreadable"; why: string };

/** Start time of a process (field 22 of /proc/<pid>/stat), or undefined when it is gone. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function describeOwner(o: LockOwner): string {
  return `pid ${o.pid} on ${excerpt(o.host)} (user ${excerpt(o.user)}, since ${excerpt(o.startedAt)}, command: ${excerpt(o.command, 120)})`;
}

/** What the lock file says and whether its owner still runs. */
export function inspectRunLock(file: string): LockState {
  let text: string;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(Math.min(fstatSync(fd).size, 64 * 1024));
      const n = readSync(fd, buf, 0, buf.length, 0);
      text = buf.subarray(0, n).toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { state: "free" };
    return { state: "unreadable", why: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  let owner: LockOwner;
  try {
    owner = lockOwnerSchema.parse(JSON.parse(text));
  } catch {
    // Created but not yet written (a run starting this instant), or damaged.
    return { state: "unreadable", why: "it does not name an owner" };
  }
  return classifyOwner(owner);
}

/** Whether a lock's owner still runs: checkable on this host only. */
export function classifyOwner(owner: LockOwner): LockState {
  if (owner.host !== hostname()) return { state: "foreign", owner };
  if (!pidAlive(owner.pid))
    return { state: "stale", owner, why: `pid ${owner.pid} is not running` };
  if (owner.procStart !== undefined) {
    const start = processStartTime(owner.pid);
    if (start !== undefined && start !== owner.procStart)
      return { state: "stale", owner, why: `pid ${owner.pid} is now another process` };
  }
  return { state: "live", owner };
}

/** This process as a lock owner. */
export function currentOwner(o: { command: string; user: string }): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    user: o.user,
    startedAt: new Date().toISOString(),
    command: o.command,
    procStart: processStartTime(process.pid),
  };
}

export class RunLock {
  private held = false;

  private constructor(
    readonly file: string,
    readonly owner: LockOwner,
  ) {}

  /**
   * Takes the stack's lock or refuses (InputError naming the owner). `breakStale` removes
   * a stale lock (dead pid on this host) or one from another host; a live one never.
   */
  static acquire(
    file: string,
    o: { command: string; user: string; breakLock?: boolean; warn?: Warn },
  ): RunLock {
    const owner = currentOwner(o);
    ensurePrivateDir(dirname(file), o.warn);
    // Written whole to a private temporary file, then link(2)ed into place: the link is
    // atomic and fails if the lock exists, so a lock file is never seen half written.
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const fd = openSync(
        tmp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        writeSync(fd, `${JSON.stringify(owner)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw userFsError(err, tmp, "run lock") ?? err;
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(tmp, file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST")
            throw userFsError(err, file, "run lock") ?? err;
          RunLock.refuseOrBreak(file, inspectRunLock(file), o.breakLock === true, o.warn);
          continue;
        }
        fsyncDir(dirname(file));
        const lock = new RunLock(file, owner);
        lock.held = true;
        return lock;
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    throw new InputError(
      `run lock ${file}: another run took it while this one was breaking a stale lock`,
      "Check `eks-runbook status`; one run per stack at a time.",
    );
  }

  /** Throws unless the lock is gone (free) or was broken; then the caller tries again. */
  private static refuseOrBreak(file: string, st: LockState, breakLock: boolean, warn?: Warn): void {
    const hint =
      "Wait for it to finish, or stop it (Ctrl-C in its terminal); `eks-runbook status` shows it.";
    switch (st.state) {
      case "free":
        return; // released meanwhile: try again
      case "live":
        throw new InputError(
          `another run holds the stack's lock ${file}: ${describeOwner(st.owner)}; one run per stack at a time`,
          hint,
        );
      case "unreadable":
        throw new InputError(
          `run lock ${file} exists but cannot be read (${st.why})`,
          "Check the file, and remove it once no run uses the stack.",
        );
      case "stale":
      case "foreign": {
        const who = describeOwner(st.owner);
        if (st.state === "foreign" && !breakLock) {
          throw new InputError(
            `run lock ${file} is held from another host: ${who}; it cannot be checked from here`,
            "Make sure that run is over, then pass --break-lock.",
          );
        }
        try {
          unlinkSync(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT")
            throw userFsError(err, file, "run lock") ?? err;
        }
        (warn ?? ((m: string) => void process.stderr.write(`warning: ${m}\n`)))(
          st.state === "stale"
            ? `took over the run lock of ${who}: ${st.why}, so that run ended without releasing it (crash or kill)`
            : `broke the run lock of ${who} (--break-lock)`,
        );
        return;
      }
    }
  }

  /** Removes the lock if it is still ours (idempotent). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    const st = inspectRunLock(this.file);
    if (
      (st.state === "live" || st.state === "stale") &&
      st.owner.pid === this.owner.pid &&
      st.owner.startedAt === this.owner.startedAt
    ) {
      try {
        unlinkSync(this.file);
      } catch {
        // already gone
      }
    }
  }
}
