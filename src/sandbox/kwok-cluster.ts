import { spawn } from "node:child_process";
import { chmodSync, closeSync, existsSync, openSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { localProcessEnv } from "./child-env.js";
import type { SandboxLayout } from "./layout.js";
import { isAlive, readPid, tailFile } from "./processes.js";
import type { ToolchainPaths } from "./toolchain.js";

// kwokctl drives the control plane (binary runtime): it writes the PKI and kubeconfig,
// starts each component detached with a pid file and a log under the cluster dir, and
// stops/deletes them. We keep its work dir inside the sandbox's state dir.

export const CONTROL_PLANE_COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok-controller",
] as const;
export type ControlPlaneComponent = (typeof CONTROL_PLANE_COMPONENTS)[number];

export function clusterExists(layout: SandboxLayout): boolean {
  return existsSync(join(layout.clusterDir, "kwok.yaml"));
}

export function componentPidFile(layout: SandboxLayout, c: ControlPlaneComponent): string {
  return join(layout.clusterDir, "pids", `${c}.pid`);
}

export function componentLogFile(layout: SandboxLayout, c: ControlPlaneComponent): string {
  return join(layout.clusterDir, "logs", `${c}.log`);
}

/** The component's pid when it runs (kwokctl starts each as cluster/bin/<name>). */
export function componentPid(layout: SandboxLayout, c: ControlPlaneComponent): number | undefined {
  const pid = readPid(componentPidFile(layout, c));
  return isAlive(pid, c) ? pid : undefined;
}

export function kwokctlLogFile(layout: SandboxLayout): string {
  return join(layout.logsDir, "kwokctl.log");
}

/**
 * Runs `kwokctl --name <name> -c <our config> <args>`, output appended to logs/kwokctl.log.
 * The pinned kubectl goes first on PATH: kwokctl's readiness check runs whichever kubectl
 * PATH has before its configured one.
 */
export function runKwokctl(
  tc: ToolchainPaths,
  layout: SandboxLayout,
  args: string[],
  opts: {
    signal?: AbortSignal;
    timeoutMs?: number;
    /**
     * Polled while kwokctl runs; a returned reason stops kwokctl and fails the call. kwokctl
     * itself waits up to a minute for an API server that has already crashed.
     */
    failWhen?: () => string | undefined;
  } = {},
): Promise<void> {
  const logFile = kwokctlLogFile(layout);
  const fd = openSync(logFile, "a", 0o600);
  const env = localProcessEnv({
    KWOK_WORKDIR: layout.kwokWorkdir,
    KWOK_RUNTIME: "binary",
    PATH: `${dirname(tc.bin.kubectl)}:${process.env.PATH ?? ""}`,
  });
  return new Promise<void>((resolve, reject) => {
    // Output goes to a file, not a pipe: the components kwokctl starts must not hold our
    // pipe open, and we wait for kwokctl's own exit only.
    const child = spawn(
      tc.bin.kwokctl,
      ["--name", layout.name, "-c", layout.kwokctlConfig, ...args],
      { stdio: ["ignore", fd, fd], env, signal: opts.signal, timeout: opts.timeoutMs ?? 180_000 },
    );
    closeSync(fd);
    let failure: string | undefined;
    const monitor = opts.failWhen
      ? setInterval(() => {
          failure = opts.failWhen?.();
          if (failure) child.kill("SIGTERM");
        }, 300)
      : undefined;
    child.once("error", (err) => {
      clearInterval(monitor);
      reject(err);
    });
    child.once("exit", (code, sig) => {
      clearInterval(monitor);
      if (failure) {
        reject(new Error(failure));
        return;
      }
      if (code === 0) {
        resolve();
        return;
      }
      reject(
        new Error(
          `kwokctl ${args.join(" ")} failed (${code === null ? `signal ${sig}` : `exit ${code}`}); last lines of ${logFile}:\n${tailFile(logFile, 15)}`,
        ),
      );
    });
  });
}

/** kwokctl writes keys world-readable; the state dir is 0700 but keep the files 0600 too. */
export function restrictSecrets(layout: SandboxLayout): void {
  const pki = join(layout.clusterDir, "pki");
  if (existsSync(pki)) {
    for (const f of readdirSync(pki)) chmodSync(join(pki, f), 0o600);
  }
  const kc = join(layout.clusterDir, "kubeconfig.yaml");
  if (existsSync(kc)) chmodSync(kc, 0o600);
}
