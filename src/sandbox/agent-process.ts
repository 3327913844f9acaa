import { existsSync } from "node:fs";
import { join } from "node:path";
import { PrerequisiteError } from "../engine/errors.js";
import {
  isAlive,
  readPid,
  removePidFile,
  spawnDetached,
  stopProcess,
  tailFile,
} from "./processes.js";
import type { ToolchainPaths } from "./toolchain.js";

// The sandbox agent (node-group controller + data plane, written elsewhere) runs as a
// detached process next to the control plane. Contract: dist/sandbox/agent-main.js takes
// `--kubeconfig <p> --moto-endpoint <url> --state-dir <dir> --cluster <name>` and runs until
// SIGTERM. We only start it when its source exists, and always on the project's Node 24.

export interface AgentPaths {
  pidFile: string;
  logFile: string;
}

export function agentPaths(pidsDir: string, logsDir: string): AgentPaths {
  return { pidFile: join(pidsDir, "agent.pid"), logFile: join(logsDir, "agent.log") };
}

/**
 * The agent's entry point, or undefined when this checkout has no agent. Throws when the
 * source exists but was not compiled.
 */
export function agentEntry(tc: ToolchainPaths): string | undefined {
  const src = join(tc.repoRoot, "src", "sandbox", "agent-main.ts");
  const dist = join(tc.repoRoot, "dist", "sandbox", "agent-main.js");
  if (existsSync(dist)) return dist;
  if (existsSync(src)) {
    throw new PrerequisiteError(
      `${dist} is missing (the sandbox agent is not compiled)`,
      "Run `npm run build`, then `eks-runbook sandbox up` again.",
    );
  }
  return undefined;
}

export interface AgentArgs {
  kubeconfig: string;
  motoEndpoint: string;
  stateDir: string;
  cluster: string;
}

/** The agent runs on `node` (argv[0]); the pid file says which one is ours. */
const AGENT_MARK = "node";

export function agentPid(paths: AgentPaths): number | undefined {
  const pid = readPid(paths.pidFile);
  return isAlive(pid, AGENT_MARK) ? pid : undefined;
}

/**
 * Starts the agent unless it already runs. A start that dies within `settleMs` is reported
 * with the tail of its log (a later crash shows up in `sandbox status`).
 */
export async function startAgent(
  tc: ToolchainPaths,
  paths: AgentPaths,
  entry: string,
  args: AgentArgs,
  opts: { settleMs?: number; signal?: AbortSignal } = {},
): Promise<{ pid: number; reused: boolean }> {
  const running = agentPid(paths);
  if (running !== undefined) return { pid: running, reused: true };
  const { pid, exited } = spawnDetached({
    command: tc.bin.node,
    args: [
      entry,
      "--kubeconfig",
      args.kubeconfig,
      "--moto-endpoint",
      args.motoEndpoint,
      "--state-dir",
      args.stateDir,
      "--cluster",
      args.cluster,
    ],
    logFile: paths.logFile,
    pidFile: paths.pidFile,
    cwd: tc.repoRoot,
  });
  // Not unref'd: the child is, so this timer is what keeps a CLI process alive meanwhile.
  const settle = new Promise<"settled">((resolve) => {
    setTimeout(() => resolve("settled"), opts.settleMs ?? 1_000);
  });
  const first = await Promise.race([exited.then((code) => ({ code })), settle]);
  if (first !== "settled") {
    removePidFile(paths.pidFile);
    throw new Error(
      `sandbox agent exited (code ${first.code}) right after starting; last lines of ${paths.logFile}:\n${tailFile(paths.logFile)}`,
    );
  }
  return { pid, reused: false };
}

/** SIGTERM, then SIGKILL after 10 s (the agent stops its data-plane processes on SIGTERM). */
export async function stopAgent(paths: AgentPaths): Promise<void> {
  await stopProcess(readPid(paths.pidFile), { expect: AGENT_MARK, graceMs: 10_000 });
  removePidFile(paths.pidFile);
}
