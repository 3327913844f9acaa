import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BACKEND, renderHaproxyConfig, type SlotAssignment, slotName } from "./haproxy-config.js";
import { haproxyCommand } from "./haproxy-runtime.js";
import { sleep } from "./kube-util.js";
import type { Log } from "./log.js";
import type { SandboxBalancer } from "./service-timings.js";
import type { ManagedProcess, ProcessSupervisor } from "./supervisor.js";

// The sandbox load balancer's lifecycle and its targets. A target leaving is deregistered
// like an ELB target deregistered by the AWS Load Balancer Controller: it stays in rotation
// for the propagation time (controller reconcile + DeregisterTargets + the ELB's own
// propagation), then takes no new connections while existing ones continue ("draining");
// when the deregistration delay ends its remaining connections are reset if the target
// group terminates connections on deregistration, and only then is its slot reused.

/** What happens to targets, for a mirror of the balancer's registrations (ELBv2 in moto). */
export interface TargetListener {
  registered(port: number): void;
  /** The deregistration delay is over: the target is no longer registered at all. */
  drained(port: number): void;
}

/** A balancer with only a deregistration delay (no propagation, no health checks). */
export function plainBalancer(deregistrationDelayMs: number): SandboxBalancer {
  return {
    mode: "http",
    deregistrationDelayMs,
    propagationMs: 0,
    connectionTermination: true,
    terminateOnUnhealthy: false,
    check: { intervalMs: 2_000, timeoutMs: 1_000, rise: 2, fall: 3 },
    idleTimeoutMs: 60_000,
  };
}

export interface LoadBalancerOptions {
  dir: string;
  listenPort: number;
  supervisor: ProcessSupervisor;
  haproxyBinary: string;
  log: Log;
  initialSlots?: number;
  /** Bound for old HAProxy processes after a reload (ms). */
  hardStopAfterMs?: number;
  /** The balancer until the Service says otherwise (configure()). */
  balancer?: SandboxBalancer;
  targets?: TargetListener;
}

interface Slot {
  port?: number;
  state: "free" | "active" | "draining";
  drainTimer?: NodeJS.Timeout;
  propagationTimer?: NodeJS.Timeout;
}

/** Unix socket paths are limited to 108 bytes; long state dirs put the socket in tmp. */
function adminSocketPath(dir: string): string {
  const inDir = join(dir, "admin.sock");
  if (Buffer.byteLength(inDir) < 100) return inDir;
  const h = createHash("sha256").update(dir).digest("hex").slice(0, 16);
  return join(tmpdir(), `eks-runbook-lb-${h}.sock`);
}

export class LoadBalancer {
  private slots: Slot[];
  private proc?: ManagedProcess;
  private stopping = false;
  private queue: Promise<void> = Promise.resolve();
  readonly adminSocket: string;
  private readonly configFile: string;
  private readonly pidFile: string;
  private balancer: SandboxBalancer | undefined;

  constructor(private readonly o: LoadBalancerOptions) {
    this.balancer = o.balancer;
    this.slots = Array.from({ length: o.initialSlots ?? 32 }, () => ({ state: "free" }) as Slot);
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.adminSocket = adminSocketPath(o.dir);
    this.configFile = join(o.dir, "haproxy.cfg");
    this.pidFile = join(o.dir, "haproxy.pid");
  }

  get listenPort(): number {
    return this.o.listenPort;
  }

  /** Loopback ports currently in rotation. */
  activePorts(): number[] {
    return this.slots
      .filter((s) => s.state === "active" && s.port !== undefined)
      .map((s) => s.port as number)
      .sort((a, b) => a - b);
  }

  private render(slots: readonly SlotAssignment[]): string {
    return renderHaproxyConfig({
      listenPort: this.o.listenPort,
      adminSocket: this.adminSocket,
      pidFile: this.pidFile,
      slots,
      hardStopAfterMs: this.o.hardStopAfterMs ?? 10_000,
      balancer: this.balancer,
    });
  }

  /** The part of the config that does not depend on the targets (mode, checks, timeouts). */
  private staticPart(): string {
    return this.render([]);
  }

  private writeConfig(): void {
    const assignment: SlotAssignment[] = this.slots.map((s) => ({
      port: s.state === "free" ? undefined : s.port,
      // A target still propagating its deregistration is in rotation.
      draining: s.state === "draining" && s.propagationTimer === undefined,
    }));
    writeFileSync(this.configFile, this.render(assignment), { mode: 0o600 });
  }

  /**
   * Plays the balancer the Service asks for: when its mode, checks or timeouts change the
   * config is rewritten (with the live targets) and HAProxy reloaded; delays apply to the
   * next deregistration.
   */
  configure(balancer: SandboxBalancer): Promise<void> {
    return this.enqueue(async () => {
      const before = this.staticPart();
      this.balancer = balancer;
      if (this.stopping || !this.proc || this.staticPart() === before) return;
      this.o.log.info({ balancer }, "load balancer settings changed; reloading");
      await this.reload();
    });
  }

  private get delays(): SandboxBalancer {
    return this.balancer ?? plainBalancer(0);
  }

  async start(timeoutMs = 10_000): Promise<void> {
    this.writeConfig();
    await this.spawn(timeoutMs);
  }

  private async spawn(timeoutMs: number): Promise<void> {
    // -W: master-worker (SIGUSR2 reloads, the new worker takes over the listener);
    // -db: stay in the foreground so the supervisor holds the master's pid.
    const proc = this.o.supervisor.start({
      name: "lb-haproxy",
      command: this.o.haproxyBinary,
      args: ["-W", "-db", "-f", this.configFile],
    });
    this.proc = proc;
    void proc.exited.then((code) => {
      if (this.stopping || this.proc !== proc) return;
      this.o.log.error({ code, log: proc.logFile }, "load balancer exited; restarting it");
      void sleep(500).then(() => {
        if (!this.stopping) this.enqueue(() => this.respawn());
      });
    });
    await this.waitReady(this.slots.length, timeoutMs, proc);
  }

  private async respawn(): Promise<void> {
    this.writeConfig();
    await this.spawn(10_000);
  }

  /** Waits until the (new) worker answers on the admin socket with `slots` servers. */
  private async waitReady(slots: number, timeoutMs: number, proc: ManagedProcess): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (!proc.running()) throw new Error(`HAProxy exited at start; see ${proc.logFile}`);
      try {
        const out = await haproxyCommand(
          this.adminSocket,
          [`show servers state ${BACKEND}`],
          1_000,
        );
        const rows = out.split("\n").filter((l) => /^\d+ /.test(l)).length;
        if (rows === slots) return;
        last = `${rows}/${slots} servers`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(20);
    }
    throw new Error(`HAProxy not ready within ${timeoutMs} ms (${last}); see ${proc.logFile}`);
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch((err: unknown) => {
      this.o.log.error({ err: String(err) }, "load balancer change failed");
    });
    return next;
  }

  /**
   * Puts exactly `ports` in rotation: new ones first (so a replacement is in before the one
   * it replaces goes out), then deregisters the rest (see the header). A number is a
   * deregistration delay alone (immediate, connections cut when it ends).
   */
  setBackends(ports: readonly number[], deregistrationDelayMs?: number): Promise<void> {
    const want = [...new Set(ports)];
    return this.enqueue(() => this.apply(want, deregistrationDelayMs));
  }

  private async apply(want: number[], delayOverrideMs?: number): Promise<void> {
    const b = delayOverrideMs === undefined ? this.delays : plainBalancer(delayOverrideMs);
    if (this.stopping) return;
    const wanted = new Set(want);
    const cmds: string[] = [];
    for (const port of want) {
      if (this.slots.some((s) => s.state === "active" && s.port === port)) continue;
      let i = this.slots.findIndex((s) => s.state === "draining" && s.port === port);
      if (i === -1) i = this.slots.findIndex((s) => s.state === "free");
      if (i === -1) {
        await this.grow();
        i = this.slots.findIndex((s) => s.state === "free");
      }
      const slot = this.slots[i] as Slot;
      const wasDraining = slot.state === "draining";
      const stillRouted = wasDraining && slot.propagationTimer !== undefined;
      clearTimeout(slot.drainTimer);
      clearTimeout(slot.propagationTimer);
      slot.propagationTimer = undefined;
      slot.port = port;
      slot.state = "active";
      if (!wasDraining) this.o.targets?.registered(port);
      if (stillRouted) continue;
      const srv = `${BACKEND}/${slotName(i)}`;
      // The pod is Ready: with the controller's readiness gate that means its target is
      // healthy in the target group, so it enters rotation healthy (not "initial").
      cmds.push(
        `set server ${srv} addr 127.0.0.1 port ${port}`,
        `set server ${srv} state ready`,
        `set server ${srv} health up`,
      );
    }
    if (cmds.length > 0) await haproxyCommand(this.adminSocket, cmds);

    let out = 0;
    this.slots.forEach((slot, i) => {
      if (slot.state !== "active" || (slot.port !== undefined && wanted.has(slot.port))) return;
      out++;
      slot.state = "draining";
      const srv = `${BACKEND}/${slotName(i)}`;
      const port = slot.port;
      const leaveRotation = async () => {
        slot.propagationTimer = undefined;
        if (slot.state !== "draining") return;
        // `drain` (weight 0), not `maint`: no new connections, existing ones continue. Maint
        // would mark the server down and fire `on-marked-down shutdown-sessions`, resetting
        // connections the NLB keeps for the deregistration delay.
        await haproxyCommand(this.adminSocket, [`set server ${srv} state drain`]);
        this.o.log.info({ port, backends: this.activePorts() }, "load balancer target draining");
        slot.drainTimer = setTimeout(() => {
          void this.enqueue(async () => {
            if (slot.state !== "draining") return;
            await haproxyCommand(this.adminSocket, [
              ...(b.connectionTermination ? [`shutdown sessions server ${srv}`] : []),
              `set server ${srv} state maint`,
            ]);
            slot.state = "free";
            slot.port = undefined;
            this.o.log.info({ port }, "load balancer target deregistered");
            if (port !== undefined) this.o.targets?.drained(port);
          });
        }, b.deregistrationDelayMs);
      };
      if (b.propagationMs > 0) {
        slot.propagationTimer = setTimeout(() => void this.enqueue(leaveRotation), b.propagationMs);
      } else {
        void this.enqueue(leaveRotation);
      }
    });
    if (cmds.length > 0 || out > 0) {
      this.o.log.info({ backends: this.activePorts() }, "load balancer targets changed");
    }
  }

  /** Doubles the slots: rewrite the config with the live assignment and reload. */
  private async grow(): Promise<void> {
    const more = this.slots.length;
    for (let k = 0; k < more; k++) this.slots.push({ state: "free" });
    this.o.log.info({ slots: this.slots.length }, "load balancer out of slots; reloading");
    await this.reload();
  }

  private async reload(): Promise<void> {
    this.writeConfig();
    const proc = this.proc;
    if (!proc) throw new Error("load balancer not started");
    proc.signal("SIGUSR2");
    await this.waitReady(this.slots.length, 10_000, proc);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.slots) {
      clearTimeout(s.drainTimer);
      clearTimeout(s.propagationTimer);
    }
    await this.queue.catch(() => {});
    const p = this.proc;
    if (!p) return;
    p.signal("SIGTERM");
    await Promise.race([p.exited, sleep(3_000)]);
    p.killGroup();
    await Promise.race([p.exited, sleep(2_000)]);
  }
}
