import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A real Debian nginx on a free loopback port with a given server block, for tests and
// benchmarks. Everything lives in a temporary prefix (config, logs, pid, temp paths); stop()
// quits nginx gracefully and removes the prefix. The access log records one status code per
// line, unbuffered, so tests can compare their counts with what nginx saw.

export interface NginxOptions {
  /** Directives inside `server { listen 127.0.0.1:<port>; … }`. */
  server: string;
  /** Extra directives inside `http { … }` (split_clients, maps…). */
  http?: string;
  /** Default 1: deterministic for tests; benchmarks pass "auto". */
  workerProcesses?: number | "auto";
  /** Log every request's status (default true; benchmarks turn it off). */
  accessLog?: boolean;
}

export interface NginxServer {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  prefix: string;
  pid: number;
  /** Requests nginx logged, by status code ("200", "503", "444"…). */
  statusCounts(): Promise<Record<string, number>>;
  /** Waits (bounded) until nginx has logged at least `n` requests, then returns the counts. */
  waitForLogged(n: number, timeoutMs?: number): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export function nginxBinary(): string {
  for (const p of ["/usr/sbin/nginx", "/usr/bin/nginx"]) if (existsSync(p)) return p;
  try {
    return execFileSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("nginx is not installed: run `npm run setup` (it installs nginx, wrk and hey)");
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function renderConfig(prefix: string, port: number, o: NginxOptions): string {
  const log = o.accessLog === false ? "access_log off;" : `access_log ${prefix}/access.log status;`;
  return `worker_processes ${o.workerProcesses ?? 1};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  log_format status '$status';
  ${log}
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  # Connections are closed only when a test asks for it (return 444, 500), never by
  # keep-alive limits racing a request, so counts stay exact.
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  ${o.http ?? ""}
  server {
    listen 127.0.0.1:${port};
    ${o.server}
  }
}
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function startOnce(bin: string, o: NginxOptions): Promise<NginxServer | "port-taken"> {
  const prefix = await mkdtemp(join(tmpdir(), "eks-runbook-nginx-"));
  await mkdir(join(prefix, "tmp"));
  const port = await freePort();
  const conf = join(prefix, "nginx.conf");
  await writeFile(conf, renderConfig(prefix, port, o));
  await writeFile(join(prefix, "access.log"), "");
  const child = spawn(bin, ["-p", prefix, "-e", join(prefix, "error.log"), "-c", conf], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited(child);
      const log = await readFile(join(prefix, "error.log"), "utf8").catch(() => "");
      await rm(prefix, { recursive: true, force: true });
      if (/Address already in use/.test(stderr + log)) return "port-taken";
      throw new Error(`nginx did not start on 127.0.0.1:${port}:\n${stderr}${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const statusCounts = async () => {
    const counts: Record<string, number> = {};
    const text = await readFile(join(prefix, "access.log"), "utf8");
    for (const line of text.split("\n")) {
      if (line) counts[line] = (counts[line] ?? 0) + 1;
    }
    return counts;
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    prefix,
    pid: child.pid ?? 0,
    statusCounts,
    async waitForLogged(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const counts = await statusCounts();
        const logged = Object.values(counts).reduce((a, b) => a + b, 0);
        if (logged >= n || Date.now() > until) return counts;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      child.kill("SIGQUIT");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited(child);
      clearTimeout(killer);
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

/** Starts nginx on a free loopback port; throws naming `npm run setup` if nginx is missing. */
export async function startNginx(o: NginxOptions): Promise<NginxServer> {
  const bin = nginxBinary();
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = await startOnce(bin, o);
    if (started !== "port-taken") return started;
  }
  throw new Error("nginx: could not find a free loopback port in 3 attempts");
}
