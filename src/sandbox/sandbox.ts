import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { RunbookError } from "../engine/errors.js";
import { agentEntry, agentPaths, agentPid, startAgent, stopAgent } from "./agent-process.js";
import { apiNotReadyReason, readClusterCreds } from "./api-health.js";
import { requireComponents, SANDBOX_COMPONENTS } from "./doctor.js";
import { writeKubeconfig } from "./kubeconfig.js";
import {
  CONTROL_PLANE_COMPONENTS,
  type ControlPlaneComponent,
  clusterExists,
  componentLogFile,
  componentPid,
  componentPidFile,
  restrictSecrets,
  runKwokctl,
} from "./kwok-cluster.js";
import { kwokctlConfigYaml, PORT_NAMES, type SandboxPorts } from "./kwok-config.js";
import {
  DEFAULT_SANDBOX_NAME,
  readState,
  type SandboxLayout,
  type SandboxState,
  sandboxLayout,
  writeState,
} from "./layout.js";
import { withLock } from "./lock.js";
import { motoEndpoint, motoPaths, motoPid, startMoto, stopMoto } from "./moto.js";
import { allocatePortBlock, isPortFree } from "./ports.js";
import { readPid, stopProcess, tailFile } from "./processes.js";
import { type ToolchainPaths, toolchain } from "./toolchain.js";

// The local target's cluster: a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) with kwok simulating kubelets, a moto server for
// the Auto Scaling API and, when this checkout has one, the sandbox agent (node groups and
// data plane). Everything binds to loopback; `down` leaves no process and no port behind.

export type ComponentState = "running" | "stopped" | "crashed";

export interface SandboxComponent {
  name: ControlPlaneComponent | "moto" | "agent";
  status: ComponentState;
  pid?: number;
  port?: number;
  logFile: string;
  /** Last lines of the log when the component crashed. */
  logTail?: string;
}

export interface SandboxInfo {
  name: string;
  /** running: everything up and the API ready; degraded: something is not; absent: no sandbox. */
  state: "running" | "degraded" | "stopped" | "absent";
  stateDir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  motoEndpoint: string;
  logsDir: string;
  kubernetesVersion: string;
  components: SandboxComponent[];
  /** Why the API is not ready (only when state is degraded). */
  reason?: string;
}

export interface SandboxUpResult extends SandboxInfo {
  /** True when a healthy running sandbox was found and reused as it was. */
  reused: boolean;
  elapsedMs: number;
}

export interface SandboxOptions {
  name?: string;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  /** Overall bound for `up` (default 3 minutes). */
  timeoutMs?: number;
  /**
   * The sandbox agent: by default started when this checkout has one
   * (dist/sandbox/agent-main.js); false never starts it; a path starts that script instead.
   */
  agent?: boolean | string;
  /** For tests: another toolchain/cache. */
  toolchain?: ToolchainPaths;
}

/** A component crashed or the control plane never became ready; carries the log tails. */
export class SandboxError extends RunbookError {
  constructor(
    message: string,
    readonly components: SandboxComponent[],
    logsDir: string,
  ) {
    super(
      message,
      `Logs are in ${logsDir}. Fix the cause, then \`eks-runbook sandbox down\` and \`eks-runbook sandbox up\`.`,
    );
  }
}

function crashReport(components: SandboxComponent[]): string {
  return components
    .filter((c) => c.status === "crashed")
    .map((c) => `${c.name} crashed; last lines of ${c.logFile}:\n${c.logTail ?? ""}`)
    .join("\n");
}

function controlPlaneComponents(layout: SandboxLayout, ports?: SandboxPorts): SandboxComponent[] {
  const portOf: Record<ControlPlaneComponent, number | undefined> = {
    etcd: ports?.etcd,
    "kube-apiserver": ports?.kubeApiserver,
    "kube-controller-manager": ports?.kubeControllerManager,
    "kube-scheduler": ports?.kubeScheduler,
    "kwok-controller": ports?.kwokController,
  };
  return CONTROL_PLANE_COMPONENTS.map((name) => {
    const logFile = componentLogFile(layout, name);
    const pid = componentPid(layout, name);
    const hadPid = readPid(componentPidFile(layout, name)) !== undefined;
    const status: ComponentState = pid !== undefined ? "running" : hadPid ? "crashed" : "stopped";
    return {
      name,
      status,
      pid,
      port: portOf[name],
      logFile,
      logTail: status === "crashed" ? tailFile(logFile) : undefined,
    };
  });
}

function processComponent(
  name: "moto" | "agent",
  pid: number | undefined,
  pidFile: string,
  logFile: string,
  port?: number,
): SandboxComponent {
  const hadPid = readPid(pidFile) !== undefined;
  const status: ComponentState = pid !== undefined ? "running" : hadPid ? "crashed" : "stopped";
  return {
    name,
    status,
    pid,
    port,
    logFile,
    logTail: status === "crashed" ? tailFile(logFile) : undefined,
  };
}

function agentWanted(tc: ToolchainPaths, opt: SandboxOptions["agent"]): string | undefined {
  if (opt === false) return undefined;
  if (typeof opt === "string") return opt;
  return agentEntry(tc);
}

function components(layout: SandboxLayout, state?: SandboxState) {
  const moto = motoPaths(layout.pidsDir, layout.logsDir);
  const agent = agentPaths(layout.pidsDir, layout.logsDir);
  const list = [
    ...controlPlaneComponents(layout, state?.ports),
    processComponent("moto", motoPid(moto), moto.pidFile, moto.logFile, state?.ports.moto),
  ];
  // Listed once it was started (a pid file exists): a sandbox started without it is complete.
  if (existsSync(agent.pidFile)) {
    list.push(processComponent("agent", agentPid(agent), agent.pidFile, agent.logFile));
  }
  return list;
}

function info(
  tc: ToolchainPaths,
  layout: SandboxLayout,
  state: SandboxState | undefined,
  comps: SandboxComponent[],
  reason: string | undefined,
): SandboxInfo {
  const running = comps.filter((c) => c.status === "running").length;
  return {
    name: layout.name,
    state: !state
      ? "absent"
      : running === 0
        ? "stopped"
        : running === comps.length && !reason
          ? "running"
          : "degraded",
    stateDir: layout.stateDir,
    kubeconfigPath: layout.kubeconfig,
    apiServerUrl: state ? `https://127.0.0.1:${state.ports.kubeApiserver}` : "",
    motoEndpoint: state ? motoEndpoint(state.ports.moto) : "",
    logsDir: layout.logsDir,
    kubernetesVersion: state?.kubernetesVersion ?? `v${tc.versions.kubernetes}`,
    components: comps,
    reason,
  };
}

/** One place for every log: kwokctl's component logs are linked into logs/. */
function linkLogs(layout: SandboxLayout): void {
  for (const c of CONTROL_PLANE_COMPONENTS) {
    const link = join(layout.logsDir, `${c}.log`);
    if (!existsSync(link)) {
      try {
        symlinkSync(relative(layout.logsDir, componentLogFile(layout, c)), link);
      } catch {
        // a dangling link from an earlier run: existsSync follows links, so replace it
        rmSync(link, { force: true });
        symlinkSync(relative(layout.logsDir, componentLogFile(layout, c)), link);
      }
    }
  }
}

async function waitControlPlaneReady(
  layout: SandboxLayout,
  state: SandboxState,
  signal: AbortSignal,
): Promise<void> {
  const url = `https://127.0.0.1:${state.ports.kubeApiserver}`;
  const creds = readClusterCreds(layout.clusterDir);
  let reason: string | undefined = "not checked yet";
  // The API server offers no push notification of readiness: poll /readyz, bounded by
  // `signal`, and fail at once when a component process dies.
  while (reason) {
    const comps = controlPlaneComponents(layout, state.ports);
    if (comps.some((c) => c.status !== "running")) {
      const dead = comps.filter((c) => c.status !== "running");
      throw new SandboxError(
        `control plane component(s) not running: ${dead.map((c) => c.name).join(", ")}\n${crashReport(comps)}`,
        comps,
        layout.logsDir,
      );
    }
    reason = await apiNotReadyReason(url, creds, signal);
    if (reason) {
      try {
        await delay(150, undefined, { signal });
      } catch {
        throw new SandboxError(
          signal.reason instanceof Error && signal.reason.name === "TimeoutError"
            ? `control plane not ready in time: ${reason}`
            : "sandbox up was cancelled",
          comps,
          layout.logsDir,
        );
      }
    }
  }
}

function portsFromBlock(block: number[]): SandboxPorts {
  const ports = {} as SandboxPorts;
  PORT_NAMES.forEach((n, i) => {
    ports[n] = block[i]!;
  });
  return ports;
}

/** A component kwokctl has started (its pid file exists) that is no longer running. */
function crashedWhileStarting(layout: SandboxLayout, ports: SandboxPorts): string | undefined {
  const crashed = controlPlaneComponents(layout, ports).filter((c) => c.status === "crashed");
  return crashed.length > 0
    ? `${crashed.map((c) => c.name).join(", ")} exited while the control plane was starting`
    : undefined;
}

function startFailure(err: unknown, layout: SandboxLayout, ports: SandboxPorts): SandboxError {
  const comps = controlPlaneComponents(layout, ports);
  linkLogs(layout);
  return new SandboxError(
    `${err instanceof Error ? err.message : String(err)}\n${crashReport(comps)}`,
    comps,
    layout.logsDir,
  );
}

/**
 * Stops the whole control plane (for a restart): through kwokctl, then whatever it left,
 * waiting until the processes are gone and their ports free, and clears the pid files.
 */
async function stopControlPlane(
  tc: ToolchainPaths,
  layout: SandboxLayout,
  state: SandboxState,
  signal: AbortSignal,
): Promise<void> {
  // Identified while running: a killed process's cmdline reads empty before its sockets close.
  const pids = CONTROL_PLANE_COMPONENTS.map((c) => componentPid(layout, c));
  await runKwokctl(tc, layout, ["stop", "cluster"], { signal }).catch(() => {});
  for (const pid of pids) await stopProcess(pid, { graceMs: 5_000 });
  for (const c of CONTROL_PLANE_COMPONENTS) rmSync(componentPidFile(layout, c), { force: true });
  const { moto: _moto, ...controlPlanePorts } = state.ports;
  await portsStillBusy(Object.values(controlPlanePorts));
}

/** Ports still taken after a bounded wait (the kernel frees them as processes exit). */
async function portsStillBusy(ports: number[]): Promise<number[]> {
  let busy = ports;
  for (const deadline = Date.now() + 3_000; ; ) {
    const next: number[] = [];
    for (const p of busy) if (!(await isPortFree(p))) next.push(p);
    busy = next;
    if (busy.length === 0 || Date.now() > deadline) return busy;
    await delay(100);
  }
}

function ensureDirs(layout: SandboxLayout): void {
  mkdirSync(layout.stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(layout.logsDir, { recursive: true, mode: 0o700 });
  mkdirSync(layout.pidsDir, { recursive: true, mode: 0o700 });
}

/**
 * Starts the named sandbox, or reuses it when it already runs healthy (idempotent). Resolves
 * once the API server is ready for workloads and moto answers.
 */
export async function sandboxUp(opts: SandboxOptions = {}): Promise<SandboxUpResult> {
  const started = Date.now();
  const tc = opts.toolchain ?? toolchain();
  const layout = sandboxLayout(tc, opts.name ?? DEFAULT_SANDBOX_NAME);
  const progress = opts.onProgress ?? (() => {});
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 180_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;

  // The toolchain is checked before anything is started (not when everything already runs).
  let checked: Promise<unknown> | undefined;
  const ensureToolchain = () => {
    checked ??= requireComponents(SANDBOX_COMPONENTS, { signal, toolchain: tc });
    return checked;
  };
  const entry = agentWanted(tc, opts.agent);
  ensureDirs(layout);

  return withLock(layout.lockFile, "`eks-runbook sandbox up`", async () => {
    let state = readState(layout);
    let reused = false;
    if (state && clusterExists(layout)) {
      const down = controlPlaneComponents(layout, state.ports).filter(
        (c) => c.status !== "running",
      );
      if (down.length === 0) {
        reused = true;
        progress(`control plane: already running (${layout.name})`);
      } else {
        progress(`control plane: restarting (${down.map((c) => c.name).join(", ")} not running)`);
        await ensureToolchain();
        await stopControlPlane(tc, layout, state, signal);
        const ports = state.ports;
        await runKwokctl(tc, layout, ["start", "cluster"], {
          signal,
          failWhen: () => crashedWhileStarting(layout, ports),
        }).catch((err: unknown) => {
          throw startFailure(err, layout, ports);
        });
      }
    } else {
      if (clusterExists(layout)) {
        // A cluster without our state file is a leftover of an interrupted `up`: start over.
        await runKwokctl(tc, layout, ["delete", "cluster"], { signal }).catch(() => {});
      }
      await ensureToolchain();
      const block = await allocatePortBlock(layout.name, PORT_NAMES.length);
      const ports = portsFromBlock(block);
      writeFileSync(layout.kwokctlConfig, kwokctlConfigYaml(tc, ports), { mode: 0o600 });
      progress(
        `control plane: creating (Kubernetes v${tc.versions.kubernetes}, API on 127.0.0.1:${ports.kubeApiserver})`,
      );
      await runKwokctl(tc, layout, ["create", "cluster", "--kubeconfig", ""], {
        signal,
        failWhen: () => crashedWhileStarting(layout, ports),
      }).catch((err: unknown) => {
        throw startFailure(err, layout, ports);
      });
      state = {
        name: layout.name,
        ports,
        kubernetesVersion: `v${tc.versions.kubernetes}`,
        createdAt: new Date().toISOString(),
      };
      writeState(layout, state);
    }
    restrictSecrets(layout);
    linkLogs(layout);
    await waitControlPlaneReady(layout, state, signal);
    const apiServerUrl = `https://127.0.0.1:${state.ports.kubeApiserver}`;
    writeKubeconfig(layout.kubeconfig, {
      name: layout.name,
      server: apiServerUrl,
      creds: readClusterCreds(layout.clusterDir),
    });
    progress(`control plane: ready at ${apiServerUrl}`);

    const motoFiles = motoPaths(layout.pidsDir, layout.logsDir);
    if (motoPid(motoFiles) === undefined) await ensureToolchain();
    const moto = await startMoto(tc, motoFiles, state.ports.moto, { signal });
    if (!moto.reused) reused = false;
    progress(
      `moto: ${moto.reused ? "already running" : "started"} at ${motoEndpoint(state.ports.moto)}`,
    );

    if (entry) {
      const agentFiles = agentPaths(layout.pidsDir, layout.logsDir);
      if (agentPid(agentFiles) === undefined) await ensureToolchain();
      const agent = await startAgent(
        tc,
        agentFiles,
        entry,
        {
          kubeconfig: layout.kubeconfig,
          motoEndpoint: motoEndpoint(state.ports.moto),
          stateDir: layout.stateDir,
          cluster: layout.name,
        },
        { signal },
      );
      if (!agent.reused) reused = false;
      progress(`agent: ${agent.reused ? "already running" : "started"} (pid ${agent.pid})`);
    }

    const comps = components(layout, state);
    return {
      ...info(tc, layout, state, comps, undefined),
      reused,
      elapsedMs: Date.now() - started,
    };
  });
}

export interface SandboxDownResult {
  name: string;
  /** False when there was no such sandbox. */
  existed: boolean;
  /** Ports that were still listening afterwards (empty on success). */
  portsStillListening: number[];
  elapsedMs: number;
}

/** Stops every process of the sandbox and deletes its state (cluster data included). */
export async function sandboxDown(
  opts: Omit<SandboxOptions, "agent" | "timeoutMs"> = {},
): Promise<SandboxDownResult> {
  const started = Date.now();
  const tc = opts.toolchain ?? toolchain();
  const layout = sandboxLayout(tc, opts.name ?? DEFAULT_SANDBOX_NAME);
  const progress = opts.onProgress ?? (() => {});
  if (!existsSync(layout.stateDir)) {
    return { name: layout.name, existed: false, portsStillListening: [], elapsedMs: 0 };
  }
  return withLock(layout.lockFile, "`eks-runbook sandbox down`", async () => {
    const state = readState(layout);
    // The agent first: it stops the data-plane processes it started.
    await stopAgent(agentPaths(layout.pidsDir, layout.logsDir));
    await stopMoto(motoPaths(layout.pidsDir, layout.logsDir));
    // Identify the processes while they run: once killed, a process's cmdline reads empty
    // before its sockets are closed, so identity is checked now and only liveness later.
    const pids = CONTROL_PLANE_COMPONENTS.map((c) => componentPid(layout, c));
    if (clusterExists(layout)) {
      await runKwokctl(tc, layout, ["delete", "cluster"], {
        signal: opts.signal,
        timeoutMs: 60_000,
      }).catch((err: unknown) =>
        progress(`kwokctl delete failed, stopping processes directly: ${String(err)}`),
      );
    }
    // Whatever kwokctl left behind (or could not stop) goes now.
    for (const pid of pids) await stopProcess(pid, { graceMs: 5_000 });
    const busy = state ? await portsStillBusy(Object.values(state.ports)) : [];
    rmSync(layout.stateDir, { recursive: true, force: true });
    progress(
      busy.length === 0
        ? `sandbox ${layout.name}: stopped and removed`
        : `sandbox ${layout.name}: removed, but ports still listening: ${busy.join(", ")}`,
    );
    return {
      name: layout.name,
      existed: true,
      portsStillListening: busy,
      elapsedMs: Date.now() - started,
    };
  });
}

/** What runs, where its logs are, and whether the API is ready. Changes nothing. */
export async function sandboxStatus(
  opts: Pick<SandboxOptions, "name" | "signal" | "toolchain"> = {},
): Promise<SandboxInfo> {
  const tc = opts.toolchain ?? toolchain();
  const layout = sandboxLayout(tc, opts.name ?? DEFAULT_SANDBOX_NAME);
  const state = readState(layout);
  if (!state) return info(tc, layout, undefined, [], undefined);
  const comps = components(layout, state);
  let reason: string | undefined;
  if (comps.find((c) => c.name === "kube-apiserver")?.status === "running") {
    reason = await apiNotReadyReason(
      `https://127.0.0.1:${state.ports.kubeApiserver}`,
      readClusterCreds(layout.clusterDir),
      opts.signal,
    );
  } else {
    reason = "kube-apiserver is not running";
  }
  return info(tc, layout, state, comps, reason);
}
