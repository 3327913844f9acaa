import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  isAlive,
  readPid,
  removePidFile,
  spawnDetached,
  stopProcess,
  tailFile,
} from "./processes.js";
import type { ToolchainPaths } from "./toolchain.js";

// The moto server (AWS API emulator) that holds the local target's Auto Scaling groups.
// It runs detached, bound to loopback, and lives and dies with its sandbox.

/** Credentials moto accepts; not secret (moto checks nothing), but never real ones. */
export const MOTO_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" } as const;
export const MOTO_REGION = "us-east-1";
/**
 * An AMI moto knows in every region (its bundled default set): launch templates and launch
 * configurations in moto must name an existing image or instances never launch.
 */
export const MOTO_DEFAULT_AMI = "ami-1e749f67";

export interface MotoPaths {
  pidFile: string;
  logFile: string;
}

export function motoPaths(pidsDir: string, logsDir: string): MotoPaths {
  return { pidFile: join(pidsDir, "moto.pid"), logFile: join(logsDir, "moto.log") };
}

const MOTO_MARK = "moto.server";

export function motoEndpoint(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * True when moto answers HTTP on the endpoint. Any status will do: the point is that the
 * server serves. (moto's /moto-api/data.json dumps every backend and can take seconds.)
 */
async function answers(
  endpoint: string,
  signal?: AbortSignal,
  timeoutMs = 2_000,
): Promise<boolean> {
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(`${endpoint}/moto-api/`, {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    await res.body?.cancel();
    return res.status > 0;
  } catch {
    return false;
  }
}

/** A running moto holds the sandbox's Auto Scaling state in memory: give it time to answer. */
async function answersSoon(endpoint: string, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await answers(endpoint, signal, 5_000)) return true;
    await delay(500, undefined, { signal });
  }
  return false;
}

export function motoPid(paths: MotoPaths): number | undefined {
  const pid = readPid(paths.pidFile);
  return isAlive(pid, MOTO_MARK) ? pid : undefined;
}

export async function motoHealthy(paths: MotoPaths, port: number): Promise<boolean> {
  return motoPid(paths) !== undefined && (await answers(motoEndpoint(port)));
}

/** Starts moto unless it already runs and answers; resolves once it serves requests. */
export async function startMoto(
  tc: ToolchainPaths,
  paths: MotoPaths,
  port: number,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<{ pid: number; reused: boolean }> {
  const running = motoPid(paths);
  if (running !== undefined) {
    if (await answersSoon(motoEndpoint(port), opts.signal)) return { pid: running, reused: true };
    // Restarting would silently drop every Auto Scaling group (moto keeps state in memory)
    // and with them every node: refuse, and say how to start over.
    throw new Error(
      `moto (pid ${running}) runs but does not answer on ${motoEndpoint(port)}; restarting it would lose the sandbox's Auto Scaling groups. ` +
        `Recreate the sandbox: eks-runbook sandbox down && eks-runbook sandbox up. Last lines of ${paths.logFile}:\n${tailFile(paths.logFile)}`,
    );
  }
  // The venv's python runs moto's server module directly (independent of script shebangs).
  const { pid, exited } = spawnDetached({
    command: tc.bin.motoPython,
    args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)],
    logFile: paths.logFile,
    pidFile: paths.pidFile,
  });
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  // moto gives no readiness signal other than answering: poll it, bounded, and notice a crash.
  while (Date.now() < deadline) {
    opts.signal?.throwIfAborted();
    if (exitCode !== undefined) {
      throw new Error(
        `moto exited (code ${exitCode}) while starting; last lines of ${paths.logFile}:\n${tailFile(paths.logFile)}`,
      );
    }
    if (await answers(motoEndpoint(port), opts.signal)) return { pid, reused: false };
    await delay(100, undefined, { signal: opts.signal });
  }
  await stopProcess(pid, { expect: MOTO_MARK, graceMs: 2_000 });
  throw new Error(
    `moto did not answer on ${motoEndpoint(port)} within ${(opts.timeoutMs ?? 60_000) / 1000}s; last lines of ${paths.logFile}:\n${tailFile(paths.logFile)}`,
  );
}

export async function stopMoto(paths: MotoPaths): Promise<void> {
  await stopProcess(readPid(paths.pidFile), { expect: MOTO_MARK, graceMs: 5_000 });
  removePidFile(paths.pidFile);
}
