import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { PrerequisiteError } from "../engine/errors.js";
import { WORKLOAD } from "../infra/workload-names.js";
import { SBIN_DIRS, which } from "../which.js";
import { DataPlane, type DataPlaneStatus } from "./dataplane/data-plane.js";
import { Elbv2Mirror } from "./dataplane/elbv2-mirror.js";
import { type Log, silentLog } from "./dataplane/log.js";
import { reapStaleProcesses } from "./dataplane/supervisor.js";
import { fnv1a } from "./fnv1a.js";
import { NodeGroupController, type NodeGroupStatus } from "./node-groups/controller.js";
import { isPortFree, PORT_RANGE } from "./ports.js";

// The sandbox agent: one long-running process next to the local control plane that plays
// the parts AWS plays for a real cluster — the node-group controller (ASG instances in moto
// → kwok Nodes) and the data plane (real nginx / echo / load balancer processes for the
// workload's pods). `sandbox up` starts it detached (dist/sandbox/agent-main.js); tests run
// it in-process with startAgent()/runAgent().
//
// Files under <stateDir>:
//   logs/agent.log                    the agent's log (pino, JSON lines)
//   agent-status.json                 {ready, pid, lbUrl, dataPlane, nodeGroups}, rewritten on change
//   node-groups.json                  instance ids whose Node was created (not recreated)
//   dataplane/lb/port                 the load balancer's port (kept across restarts)
//   dataplane/{lb,pods,pids,logs}/    configs, pid files and one log per process

export interface AgentOptions {
  kubeconfig: string;
  motoEndpoint: string;
  stateDir: string;
  cluster: string;
  /** Region of the moto Auto Scaling API. Default us-east-1. */
  region?: string;
  /** Namespace of the workload (NGINX, echoserver). Default "apps". */
  namespace?: string;
  /** Multiplies every workload timing (preStop, grace, deregistration delay, node boot). */
  timeFactor?: number;
  /** DescribeAutoScalingGroups interval. Default 500 ms. */
  pollIntervalMs?: number;
  /** Seconds from InService to a Ready Node, before scaling. Default 5. */
  nodeBootSeconds?: number;
  /** Load balancer port; 0/undefined = the one used before, else a free one. */
  lbPort?: number;
  nginxBinary?: string;
  haproxyBinary?: string;
  /** Log destination; default a pino logger writing <stateDir>/logs/agent.log. */
  log?: Log;
}

export const AGENT_DEFAULTS = {
  region: "us-east-1",
  namespace: WORKLOAD.namespace,
  timeFactor: 0.2,
  pollIntervalMs: 500,
  nodeBootSeconds: 5,
} as const;

export interface AgentStatus {
  ready: boolean;
  pid: number;
  startedAt: string;
  lbUrl: string;
  dataPlane?: DataPlaneStatus;
  nodeGroups?: NodeGroupStatus;
}

export interface AgentHandle {
  readonly lbUrl: string;
  /** The balancer's targets as mirrored into moto's ELBv2. */
  readonly elbv2Mirror: Elbv2Mirror;
  readonly dataPlane: DataPlane;
  readonly nodeGroups: NodeGroupController;
  status(): AgentStatus;
  /** Stops the controllers and every child process. Idempotent. */
  stop(): Promise<void>;
}

/** First executable named `name` in the usual sbin dirs or on PATH. */
export function findBinary(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return which(name, { env, extraDirs: SBIN_DIRS });
}

function requireBinary(given: string | undefined, name: string, pkg: string): string {
  const found = given ?? findBinary(name);
  if (!found) {
    throw new PrerequisiteError(
      `${name} is not installed; the sandbox data plane runs real ${name} processes`,
      `Run \`npm run setup\` (or \`apt-get install -y ${pkg}\`), then start the sandbox again.`,
    );
  }
  return found;
}

/** Free on loopback and on the wildcard address (checked one after the other). */
async function portFree(port: number): Promise<boolean> {
  return (await isPortFree(port)) && (await isPortFree(port, "0.0.0.0"));
}

/**
 * The load balancer's port: the one given, else the one this sandbox used before (its URL
 * is in the Service status and Pulumi outputs), else a free one in the sandbox port range
 * at a place derived from the cluster name (stable across restarts).
 */
async function chooseLbPort(
  file: string,
  given: number | undefined,
  cluster: string,
): Promise<number> {
  if (given && given > 0) return given;
  try {
    const prev = Number.parseInt(readFileSync(file, "utf8"), 10);
    if (Number.isInteger(prev) && prev > 0 && (await portFree(prev))) return prev;
  } catch {
    // first start
  }
  const span = PORT_RANGE.end - PORT_RANGE.start;
  const first = fnv1a(`${cluster}/load-balancer`) % span;
  for (let i = 0; i < 256; i++) {
    const port = PORT_RANGE.start + ((first + i * 7919) % span);
    if (await portFree(port)) return port;
  }
  throw new Error(
    `no free loopback port for the load balancer in ${PORT_RANGE.start}-${PORT_RANGE.end}`,
  );
}

function fileLogger(stateDir: string): { log: Log; flush(): void } {
  const dir = join(stateDir, "logs");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Synchronous: the agent logs a few lines per change, and every line must survive a crash
  // or an exit right after it.
  const dest = pino.destination({ dest: join(dir, "agent.log"), sync: true, mkdir: true });
  const logger = pino({ level: process.env.EKS_RUNBOOK_AGENT_LOG_LEVEL ?? "info" }, dest);
  return { log: logger, flush: () => dest.flushSync() };
}

export async function startAgent(o: AgentOptions): Promise<AgentHandle> {
  const nginxBinary = requireBinary(o.nginxBinary, "nginx", "nginx");
  const haproxyBinary = requireBinary(o.haproxyBinary, "haproxy", "haproxy");
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const own = o.log ? undefined : fileLogger(o.stateDir);
  const log = o.log ?? (own as { log: Log }).log;
  const timeFactor = o.timeFactor ?? AGENT_DEFAULTS.timeFactor;
  if (!(timeFactor > 0 && timeFactor <= 10)) {
    throw new Error(`time factor must be in (0, 10], got ${timeFactor}`);
  }

  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const asg = new AutoScalingClient({
    region: o.region ?? AGENT_DEFAULTS.region,
    endpoint: o.motoEndpoint,
    // moto accepts any credentials; these are its documented placeholders, not secrets.
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 2,
  });

  // The balancer's targets, mirrored into moto's ELBv2 like the AWS Load Balancer Controller
  // keeps the NLB's target group: the lb-targets gate asks the same API on both targets.
  const motoClient = {
    region: o.region ?? AGENT_DEFAULTS.region,
    endpoint: o.motoEndpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 2,
  };
  const elbv2 = new ElasticLoadBalancingV2Client(motoClient);
  const ec2 = new EC2Client(motoClient);
  const namespace = o.namespace ?? AGENT_DEFAULTS.namespace;
  const mirror = new Elbv2Mirror({
    elbv2,
    ec2,
    cluster: o.cluster,
    service: `${namespace}/${WORKLOAD.nginx.name}`,
    port: WORKLOAD.nginx.httpPort,
    log,
  });

  const dpDir = join(o.stateDir, "dataplane");
  const portFile = join(dpDir, "lb", "port");
  mkdirSync(join(dpDir, "lb"), { recursive: true, mode: 0o700 });
  const lbPort = await chooseLbPort(portFile, o.lbPort, o.cluster);
  writeFileSync(portFile, `${lbPort}\n`);

  const startedAt = new Date().toISOString();
  let ready = false;
  let statusTimer: NodeJS.Timeout | undefined;
  const statusFile = join(o.stateDir, "agent-status.json");
  const status = (): AgentStatus => ({
    ready,
    pid: process.pid,
    startedAt,
    lbUrl: dataPlane.lbUrl(),
    dataPlane: dataPlane.status(),
    nodeGroups: nodeGroups.status(),
  });
  const writeStatus = () => {
    statusTimer = undefined;
    writeFileSync(`${statusFile}.tmp`, `${JSON.stringify(status(), null, 2)}\n`);
    renameSync(`${statusFile}.tmp`, statusFile);
  };
  const onChange = () => {
    statusTimer ??= setTimeout(writeStatus, 100);
  };

  const dataPlane = new DataPlane({
    kc,
    dir: dpDir,
    stateDir: o.stateDir,
    namespace,
    timeFactor,
    lbPort,
    nginxBinary,
    haproxyBinary,
    log,
    onChange,
    targets: mirror,
  });
  const nodeGroups = new NodeGroupController({
    cluster: o.cluster,
    asg,
    core: kc.makeApiClient(CoreV1Api),
    stateFile: join(o.stateDir, "node-groups.json"),
    pollIntervalMs: o.pollIntervalMs ?? AGENT_DEFAULTS.pollIntervalMs,
    bootDelayMs: (o.nodeBootSeconds ?? AGENT_DEFAULTS.nodeBootSeconds) * 1000 * timeFactor,
    log,
    onChange,
  });

  const controllers = new AbortController();
  let nodeLoop: Promise<void> = Promise.resolve();
  try {
    await dataPlane.start();
    nodeLoop = nodeGroups.run(controllers.signal);
  } catch (err) {
    controllers.abort();
    await dataPlane.stop().catch(() => {});
    own?.flush();
    throw err;
  }
  ready = true;
  writeStatus();
  log.info({ lbUrl: dataPlane.lbUrl(), cluster: o.cluster, timeFactor }, "sandbox agent ready");

  let stopping: Promise<void> | undefined;
  return {
    lbUrl: dataPlane.lbUrl(),
    elbv2Mirror: mirror,
    dataPlane,
    nodeGroups,
    status,
    stop: () => {
      stopping ??= (async () => {
        log.info("sandbox agent stopping");
        controllers.abort();
        await nodeLoop.catch(() => {});
        await dataPlane.stop();
        mirror.stop();
        await mirror.settled().catch(() => {});
        elbv2.destroy();
        ec2.destroy();
        clearTimeout(statusTimer);
        ready = false;
        writeStatus();
        asg.destroy();
        log.info("sandbox agent stopped");
        own?.flush();
      })();
      return stopping;
    },
  };
}

/**
 * Kills data-plane processes an agent left behind (it was SIGKILLed or crashed): for
 * `sandbox down` after stopping the agent. Returns how many were found.
 */
export function stopLeftoverProcesses(stateDir: string, log: Log = silentLog): Promise<number> {
  return reapStaleProcesses(join(stateDir, "dataplane", "pids"), stateDir, log);
}

/** Runs the agent until `signal` aborts, then stops everything it started. */
export async function runAgent(o: AgentOptions & { signal: AbortSignal }): Promise<void> {
  const agent = await startAgent(o);
  try {
    if (!o.signal.aborted) {
      await new Promise<void>((resolve) =>
        o.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
  } finally {
    await agent.stop();
  }
}
