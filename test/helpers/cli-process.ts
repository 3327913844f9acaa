import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { EngineEvent } from "../../src/engine/events.js";
import { cliPath, nodeBin, repoRoot, requireBuild } from "./cli.js";

// The real binary as a child process with `--json`: every stdout line is an engine event.
// The child leads its own process group, so a test can kill it the way a dying terminal
// would (the CLI and the Pulumi processes it started).

export class CliProcess {
  readonly events: EngineEvent[] = [];
  readonly stderr: string[] = [];
  readonly nonJson: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private waiters: { pred: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void }[] = [];

  constructor(args: string[], env: Record<string, string>) {
    requireBuild();
    this.child = spawn(nodeBin, [cliPath, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      let e: EngineEvent;
      try {
        e = JSON.parse(line) as EngineEvent;
      } catch {
        this.nonJson.push(line);
        return;
      }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
    createInterface({ input: this.child.stderr! }).on("line", (l) => this.stderr.push(l));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  waitFor(
    pred: (e: EngineEvent) => boolean,
    what: string,
    timeoutMs = 300_000,
  ): Promise<EngineEvent> {
    const hit = this.events.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}; last events: ${JSON.stringify(this.events.slice(-5))}\nstderr: ${this.stderr.slice(-10).join("\n")}`,
            ),
          ),
        timeoutMs,
      );
      void this.exited.then(({ code }) => {
        clearTimeout(t);
        reject(
          new Error(
            `the CLI exited (${code}) before ${what}; stderr: ${this.stderr.slice(-10).join("\n")}`,
          ),
        );
      });
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        },
      });
    });
  }

  /** Waits for a step to reach a status. */
  step(step: string, status: string, timeoutMs?: number) {
    return this.waitFor(
      (e) => e.type === "step" && e.step === step && e.status === status,
      `${step} ${status}`,
      timeoutMs,
    );
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** SIGKILL to the whole process group: the CLI and every Pulumi process it started. */
  killGroup(): void {
    if (this.child.pid) process.kill(-this.child.pid, "SIGKILL");
  }
}
