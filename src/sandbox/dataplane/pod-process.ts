import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { sleep } from "./kube-util.js";
import { postBackends } from "./nginx-dynamic-backends.js";
import type { PodRole } from "./pod-spec.js";
import type { ManagedProcess, ProcessSupervisor } from "./supervisor.js";
import type { TerminationTarget } from "./termination.js";

// The "container" of one sandbox pod: a real nginx master (NGINX ingress pods) or an echo
// server process (echoserver pods) on a loopback port of its own. It starts, proves it
// serves (an HTTP check, like a readiness probe), reloads (nginx), stops gracefully
// (SIGQUIT = `nginx -s quit`; SIGTERM) or is killed with its whole process group.

export interface PodProcessSpec {
  role: PodRole;
  uid: string;
  namespace: string;
  name: string;
  /** The pod's own directory under the state dir. */
  dir: string;
  containerPort: number;
  nginxBinary: string;
  /** [node executable, echo-server script]. */
  echoCommand: readonly [string, string];
  /** Marker in every command line so a later agent can tell these processes are ours. */
  stateDir: string;
}

/** What an nginx pod runs: its config (no endpoints) and the endpoint lists it is sent. */
export interface NginxRender {
  conf: string;
  backends: string;
}

/** Renders an nginx pod's config for its traffic port and configuration port. */
export type NginxRenderer = (port: number, adminPort: number) => NginxRender;

/** A loopback port nothing listens on right now (the OS picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One HTTP GET to 127.0.0.1:port; resolves with the status code (bounded by timeoutMs). */
export function httpStatus(port: number, path: string, timeoutMs = 500): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "GET", agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

export class PodProcess implements TerminationTarget {
  port = 0;
  /** nginx: the configuration listener's port (endpoint lists). */
  adminPort = 0;
  private proc?: ManagedProcess;
  private readonly confFile: string;

  constructor(private readonly s: PodProcessSpec) {
    this.confFile = join(s.dir, "nginx.conf");
  }

  get dir(): string {
    return this.s.dir;
  }

  get processName(): string {
    return `${this.s.role === "nginx" ? "nginx" : "echo"}-${this.s.namespace}-${this.s.name}`;
  }

  get exited(): Promise<unknown> {
    return this.proc?.exited ?? Promise.resolve();
  }

  running(): boolean {
    return this.proc?.running() ?? false;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /**
   * Starts the process on a fresh loopback port and waits until it answers HTTP; retries
   * (bounded) when another process grabbed the port in between. `nginxConfig` renders the
   * config and endpoint lists for given ports (nginx pods only); nginx is serving once it
   * has its endpoints.
   */
  async start(
    supervisor: ProcessSupervisor,
    nginxConfig: NginxRenderer | undefined,
    timeoutMs = 10_000,
  ): Promise<void> {
    mkdirSync(join(this.s.dir, "tmp"), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.s.dir, "logs"), { recursive: true, mode: 0o700 });
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freeLoopbackPort();
      let backends: string | undefined;
      if (this.s.role === "nginx") {
        if (!nginxConfig) throw new Error("nginx pod without a config");
        this.adminPort = await freeLoopbackPort();
        const r = nginxConfig(this.port, this.adminPort);
        backends = r.backends;
        writeFileSync(this.confFile, r.conf, { mode: 0o600 });
        this.proc = supervisor.start({
          name: this.processName,
          command: this.s.nginxBinary,
          args: [
            "-p",
            `${this.s.dir}/`,
            "-c",
            this.confFile,
            "-e",
            join(this.s.dir, "logs", "error.log"),
            "-g",
            "daemon off;",
          ],
        });
      } else {
        this.proc = supervisor.start({
          name: this.processName,
          command: this.s.echoCommand[0],
          args: [
            this.s.echoCommand[1],
            "--port",
            String(this.port),
            "--pod-name",
            this.s.name,
            "--container-port",
            String(this.s.containerPort),
            "--state-dir",
            this.s.stateDir,
          ],
        });
      }
      try {
        await this.waitServing(timeoutMs, backends);
        return;
      } catch (err) {
        lastErr = err;
        this.kill();
        await Promise.race([this.exited, sleep(2_000)]);
      }
    }
    throw lastErr;
  }

  private async waitServing(timeoutMs: number, backends?: string): Promise<void> {
    const path = this.s.role === "nginx" ? "/healthz" : "/";
    const deadline = Date.now() + timeoutMs;
    let last = "";
    let configured = backends === undefined;
    while (Date.now() < deadline) {
      if (!this.running()) throw new Error(`${this.processName} exited at start; see its log`);
      try {
        const code = await httpStatus(this.port, path);
        if (code === 200 && configured) return;
        // Up but without endpoints (503 from /healthz): send them, as the controller does.
        if (!configured && backends !== undefined) {
          await this.setBackends(backends);
          configured = true;
          continue;
        }
        last = `HTTP ${code}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(10);
    }
    throw new Error(`${this.processName} did not serve on port ${this.port} (${last})`);
  }

  /** nginx: write the new config, then SIGHUP (what `nginx -s reload` sends). */
  reload(config: string): void {
    if (this.s.role !== "nginx" || !this.running()) return;
    writeFileSync(this.confFile, config, { mode: 0o600 });
    this.proc?.signal("SIGHUP");
  }

  /** nginx: replaces the endpoint lists, no reload (see nginx-dynamic-backends.ts). */
  setBackends(body: string): Promise<void> {
    if (this.s.role !== "nginx") return Promise.resolve();
    return postBackends(this.adminPort, body);
  }

  gracefulStop(): void {
    this.proc?.signal(this.s.role === "nginx" ? "SIGQUIT" : "SIGTERM");
  }

  kill(): void {
    this.proc?.killGroup();
  }
}
