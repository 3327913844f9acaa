import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../engine/errors.js";
import type { SandboxPorts } from "./kwok-config.js";
import type { ToolchainPaths } from "./toolchain.js";

// Where a named sandbox keeps its files (all under <cache>/sandboxes/<name>, mode 0700):
//   state.json       ports and versions, written once the sandbox was created
//   kubeconfig       admin kubeconfig with embedded credentials (0600)
//   kwokctl.yaml     the kwokctl configuration we generated
//   kwok/            KWOK_WORKDIR: kwokctl's cluster dir (pki, etcd data, pids, logs)
//   logs/            every component's log (kwok's are linked here), moto.log, agent.log
//   pids/            moto.pid, agent.pid
//   lock             held while an up/down runs

export const DEFAULT_SANDBOX_NAME = "eks-runbook";

export interface SandboxLayout {
  name: string;
  stateDir: string;
  stateFile: string;
  kubeconfig: string;
  kwokctlConfig: string;
  kwokWorkdir: string;
  clusterDir: string;
  logsDir: string;
  pidsDir: string;
  lockFile: string;
}

export interface SandboxState {
  name: string;
  ports: SandboxPorts;
  kubernetesVersion: string;
  createdAt: string;
}

export function validateSandboxName(name: string): string {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(name)) {
    throw new InputError(
      `sandbox name "${name}" is not valid`,
      "--name: use lower-case letters, digits and '-', starting with a letter, at most 40 characters.",
    );
  }
  return name;
}

export function sandboxLayout(tc: ToolchainPaths, name: string): SandboxLayout {
  validateSandboxName(name);
  const stateDir = join(tc.sandboxesDir, name);
  const kwokWorkdir = join(stateDir, "kwok");
  return {
    name,
    stateDir,
    stateFile: join(stateDir, "state.json"),
    kubeconfig: join(stateDir, "kubeconfig"),
    kwokctlConfig: join(stateDir, "kwokctl.yaml"),
    kwokWorkdir,
    clusterDir: join(kwokWorkdir, "clusters", name),
    logsDir: join(stateDir, "logs"),
    pidsDir: join(stateDir, "pids"),
    lockFile: join(stateDir, "lock"),
  };
}

export function readState(layout: SandboxLayout): SandboxState | undefined {
  try {
    return JSON.parse(readFileSync(layout.stateFile, "utf8")) as SandboxState;
  } catch {
    return undefined;
  }
}

export function writeState(layout: SandboxLayout, state: SandboxState): void {
  const tmp = `${layout.stateFile}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, layout.stateFile);
}
