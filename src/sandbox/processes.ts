import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { localProcessEnv } from "./child-env.js";

// Detached background processes identified by pid files: the sandbox's processes outlive
// the CLI invocation that started them, so a later `status` or `down` finds them by pid
// and checks the pid still belongs to the same program (pids get reused).

export function readPid(pidFile: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The process's argv, or undefined when it does not exist (or is a zombie). */
export function processArgv(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3 (after the parenthesised command name) is the state; Z = zombie.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and, if `expect` is given, it is that program: the executable's
 * base name, or one whole argument (a module or script path). So a recycled pid is not
 * mistaken for ours.
 */
export function isAlive(pid: number | undefined, expect?: string): boolean {
  if (pid === undefined) return false;
  const argv = processArgv(pid);
  if (!argv) return false;
  return expect === undefined || basename(argv[0] ?? "") === expect || argv.includes(expect);
}

/**
 * True once the process has fully exited. A killed multi-threaded process shows its leader
 * as a zombie while other threads still tear down (and still hold its sockets), so a zombie
 * counts as gone only when it is the last thread left.
 */
export function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state !== "Z" && state !== "X") return false;
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

export interface DetachedSpec {
  command: string;
  args: string[];
  logFile: string;
  pidFile: string;
  /** Set on top of the minimal environment (child-env.ts); never the operator's whole one. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a process in its own session, output appended to logFile, pid written to pidFile. */
export function spawnDetached(spec: DetachedSpec): { pid: number; exited: Promise<number | null> } {
  const fd = openSync(spec.logFile, "a", 0o600);
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: localProcessEnv(spec.env),
      cwd: spec.cwd,
    });
    if (child.pid === undefined) {
      throw new Error(`could not start ${spec.command}`);
    }
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code, sig) => resolve(code ?? (sig ? -1 : null)));
      child.once("error", () => resolve(-1));
    });
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`, { mode: 0o600 });
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

/**
 * Stops a process: SIGTERM, then SIGKILL once `graceMs` has passed, and waits (bounded)
 * until it is gone. Returns how it ended.
 */
export async function stopProcess(
  pid: number | undefined,
  opts: { expect?: string; graceMs?: number; signalGroup?: boolean } = {},
): Promise<"absent" | "terminated" | "killed"> {
  if (pid === undefined) return "absent";
  // With `expect`, only a process that is recognisably ours is stopped; without it the
  // caller identified the pid earlier, and one that is already dying is waited for.
  if (opts.expect !== undefined ? !isAlive(pid, opts.expect) : isGone(pid)) return "absent";
  const send = (sig: NodeJS.Signals) => {
    try {
      // A detached child leads its own process group: signal the group to catch helpers.
      process.kill(opts.signalGroup ? -pid : pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  send("SIGTERM");
  const graceMs = opts.graceMs ?? 10_000;
  // No exit event exists for a process we did not spawn: poll /proc, bounded by graceMs.
  for (const deadline = Date.now() + graceMs; Date.now() < deadline; ) {
    if (isGone(pid)) return "terminated";
    await delay(50);
  }
  send("SIGKILL");
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    if (isGone(pid)) return "killed";
    await delay(20);
  }
  throw new Error(`process ${pid} survived SIGKILL`);
}

/** The last `lines` lines of a log file ("" when absent). Reads only the file's tail. */
export function tailFile(path: string, lines = 20): string {
  if (!existsSync(path)) return "";
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } finally {
    closeSync(fd);
  }
}

export function removePidFile(pidFile: string): void {
  rmSync(pidFile, { force: true });
}
