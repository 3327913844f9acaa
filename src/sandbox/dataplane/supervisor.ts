import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isAlive, processArgv, readPid, removePidFile, spawnDetached } from "../processes.js";
import { sleep } from "./kube-util.js";
import type { Log } from "./log.js";

// Every process the data plane starts: one pid file and one log file each under the state
// dir, each in its own process group (so SIGKILL at the end of a grace period takes an
// nginx master *and* its workers, as a kubelet kills a whole container), and a way to stop
// them all. Pid files let a later agent (or `sandbox down`) find what a crashed agent left.

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (-1 for a signal) when the process has exited. */
  exited: Promise<number | null>;
  running(): boolean;
  /** Signals the process itself (nginx master, HAProxy master, node). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL to the whole process group. */
  killGroup(): void;
}

export interface StartSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_");
}

function trySignal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export class ProcessSupervisor {
  private readonly procs = new Map<string, ManagedProcess>();

  constructor(
    private readonly pidDir: string,
    private readonly logDir: string,
    private readonly log: Log,
  ) {
    mkdirSync(pidDir, { recursive: true, mode: 0o700 });
    mkdirSync(logDir, { recursive: true, mode: 0o700 });
  }

  start(spec: StartSpec): ManagedProcess {
    const name = safeName(spec.name);
    if (this.procs.get(name)?.running()) throw new Error(`process ${name} is already running`);
    const pidFile = join(this.pidDir, `${name}.pid`);
    const logFile = join(this.logDir, `${name}.log`);
    const child = spawnDetached({
      command: spec.command,
      args: spec.args,
      logFile,
      pidFile,
      env: spec.env,
      cwd: spec.cwd,
    });
    let alive = true;
    const exited = child.exited.then((code) => {
      alive = false;
      // Workers of a master that died abruptly would keep serving its port: end the group.
      trySignal(-child.pid, "SIGKILL");
      // A newer process of the same name may own the pid file by now.
      if (readPid(pidFile) === child.pid) removePidFile(pidFile);
      if (this.procs.get(name)?.pid === child.pid) this.procs.delete(name);
      this.log.debug({ process: name, pid: child.pid, code }, "process exited");
      return code;
    });
    const p: ManagedProcess = {
      name,
      pid: child.pid,
      logFile,
      exited,
      running: () => alive,
      signal: (sig) => {
        if (alive) trySignal(child.pid, sig);
      },
      killGroup: () => {
        if (alive) trySignal(-child.pid, "SIGKILL");
      },
    };
    this.procs.set(name, p);
    this.log.debug({ process: name, pid: child.pid }, "process started");
    return p;
  }

  list(): ManagedProcess[] {
    return [...this.procs.values()];
  }

  /** Stops every process: `signal` first, SIGKILL to each group after graceMs. */
  async stopAll(graceMs: number, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const all = this.list();
    for (const p of all) p.signal(signal);
    await Promise.race([Promise.all(all.map((p) => p.exited)), sleep(graceMs)]);
    for (const p of all) p.killGroup();
    await Promise.race([Promise.all(all.map((p) => p.exited)), sleep(5_000)]);
  }
}

/**
 * Kills what a previous agent left behind: every pid file under pidDir whose process is
 * still alive and mentions `expect` (the state dir) in its command line, whole group.
 * Returns how many were found.
 */
export async function reapStaleProcesses(
  pidDir: string,
  expect: string,
  log: Log,
): Promise<number> {
  let files: string[];
  try {
    files = readdirSync(pidDir).filter((f) => f.endsWith(".pid"));
  } catch {
    return 0;
  }
  let n = 0;
  for (const f of files) {
    const file = join(pidDir, f);
    const pid = readPid(file);
    if (pid !== undefined && isAlive(pid, expect)) {
      n++;
      log.warn({ pid, pidFile: file }, "stopping a process left by an earlier agent");
      trySignal(-pid, "SIGKILL");
      trySignal(pid, "SIGKILL");
      for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
    } else if (pid !== undefined && processArgv(pid) === undefined) {
      // The leader is gone but workers may linger in its group; Linux does not reuse a pid
      // while a process group of that id exists, so this reaches only our orphans.
      trySignal(-pid, "SIGKILL");
    }
    removePidFile(file);
  }
  return n;
}
