import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBinary } from "../../src/sandbox/agent.js";
import { EndpointPortMap } from "../../src/sandbox/dataplane/endpoint-map.js";
import { buildIngressModel } from "../../src/sandbox/dataplane/ingress-model.js";
import { LoadBalancer } from "../../src/sandbox/dataplane/load-balancer.js";
import { silentLog } from "../../src/sandbox/dataplane/log.js";
import {
  DEFAULT_NGINX_SETTINGS,
  renderNginxConfig,
} from "../../src/sandbox/dataplane/nginx-config.js";
import { renderBackends } from "../../src/sandbox/dataplane/nginx-dynamic-backends.js";
import {
  type NginxRender,
  type NginxRenderer,
  PodProcess,
} from "../../src/sandbox/dataplane/pod-process.js";
import { ProcessSupervisor, reapStaleProcesses } from "../../src/sandbox/dataplane/supervisor.js";
import { isPortFree } from "../../src/sandbox/ports.js";
import { isAlive } from "../../src/sandbox/processes.js";

// The data plane's real processes without a cluster: echo servers, an nginx configured like
// an ingress pod, and the HAProxy load balancer, wired by hand the way the data plane wires
// them from the API. Checks the chain carries traffic, follows changes without failing a
// request, and leaves no process or port behind.

const nginx = findBinary("nginx");
const haproxy = findBinary("haproxy");
const echoScript = fileURLToPath(
  new URL("../../src/sandbox/dataplane/echo-server-main.ts", import.meta.url),
);

const state = mkdtempSync(join(tmpdir(), "dp-proc-"));
const supervisor = new ProcessSupervisor(join(state, "pids"), join(state, "logs"), silentLog);
const echoes: PodProcess[] = [];
let ingressPod: PodProcess;
let lb: LoadBalancer;
const map = new EndpointPortMap();

function echoPod(name: string): PodProcess {
  return new PodProcess({
    role: "echo",
    uid: name,
    namespace: "apps",
    name,
    dir: join(state, "pods", name),
    containerPort: 8080,
    nginxBinary: nginx ?? "nginx",
    echoCommand: [process.execPath, echoScript],
    stateDir: state,
  });
}

/** The config and endpoint lists of an nginx pod (`pod` names its directory). */
function nginxConf(pod = "nginx-1"): NginxRenderer {
  return (port, adminPort) => nginxRender(pod, port, adminPort);
}

function nginxRender(pod: string, port: number, adminPort: number): NginxRender {
  const model = buildIngressModel({
    ingressClass: "nginx",
    ingresses: [
      {
        metadata: { name: "echo", namespace: "apps" },
        spec: {
          ingressClassName: "nginx",
          rules: [
            {
              host: "apps.example.com",
              http: {
                paths: [
                  {
                    path: "/echoserver",
                    pathType: "Prefix",
                    backend: { service: { name: "echoserver", port: { number: 8080 } } },
                  },
                ],
              },
            },
          ],
        },
      },
    ],
    services: [
      { metadata: { name: "echoserver", namespace: "apps" }, spec: { ports: [{ port: 8080 }] } },
    ],
    slices: [
      {
        addressType: "IPv4",
        metadata: { namespace: "apps", labels: { "kubernetes.io/service-name": "echoserver" } },
        ports: [{ name: "", port: 8080 }],
        endpoints: echoes.map((e, i) => ({
          addresses: [`10.244.0.${i + 1}`],
          conditions: { ready: true },
          targetRef: { uid: e.processName },
        })),
      },
    ],
    map,
  });
  const conf = renderNginxConfig({
    model,
    settings: { ...DEFAULT_NGINX_SETTINGS, workerShutdownTimeoutSeconds: 5 },
    listenPort: port,
    adminPort,
    containerPort: 80,
    dir: join(state, "pods", pod),
    pidFile: join(state, "pods", pod, "nginx.pid"),
    errorLog: join(state, "pods", pod, "logs", "error.log"),
    podName: `apps/${pod}`,
    runAsRoot: process.getuid?.() === 0,
  });
  return { conf, backends: renderBackends(model) };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(`${url}/echoserver`, {
    headers: { host: "apps.example.com" },
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  return { status: res.statusCode, body: await res.body.text() };
}

/** Sends requests back to back (8 in flight) until stop() is called; counts failures. */
function traffic(url: string) {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const workers = Array.from({ length: 8 }, async () => {
    while (running) {
      try {
        const r = await get(url);
        if (r.status === 200) ok++;
        else failures.push(`HTTP ${r.status}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return { ok, failures };
    },
  };
}

beforeAll(async () => {
  if (!nginx || !haproxy) {
    throw new Error(
      "nginx and haproxy are required for the sandbox data plane: run `npm run setup`",
    );
  }
  for (const name of ["echo-a", "echo-b"]) {
    const p = echoPod(name);
    await p.start(supervisor, undefined);
    echoes.push(p);
    map.set({
      uid: p.processName,
      podIP: `10.244.0.${echoes.length}`,
      containerPort: 8080,
      loopbackPort: p.port,
      accepting: true,
    });
  }
  ingressPod = new PodProcess({
    role: "nginx",
    uid: "nginx-1",
    namespace: "apps",
    name: "nginx-1",
    dir: join(state, "pods", "nginx-1"),
    containerPort: 80,
    nginxBinary: nginx,
    echoCommand: [process.execPath, echoScript],
    stateDir: state,
  });
  await ingressPod.start(supervisor, nginxConf());
  lb = new LoadBalancer({
    dir: join(state, "lb"),
    listenPort: await freePort(),
    supervisor,
    haproxyBinary: haproxy,
    log: silentLog,
    initialSlots: 2,
  });
  await lb.start();
}, 60_000);

async function freePort(): Promise<number> {
  const { freeLoopbackPort } = await import("../../src/sandbox/dataplane/pod-process.js");
  return freeLoopbackPort();
}

afterAll(async () => {
  try {
    await lb?.stop();
    await supervisor.stopAll(2_000);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

describe("data plane processes", () => {
  it("generates an nginx config that nginx itself accepts", () => {
    const out = execFileSync(
      nginx!,
      [
        "-t",
        "-p",
        `${join(state, "pods", "nginx-1")}/`,
        "-c",
        join(state, "pods", "nginx-1", "nginx.conf"),
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    expect(out).toBe("");
  });

  it("carries a request LB → nginx → echo server and answers with the echo pod's name", async () => {
    await lb.setBackends([ingressPod.port], 1_000);
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await get(`http://127.0.0.1:${lb.listenPort}`);
      expect(r.status).toBe(200);
      names.add(/^Hostname: (.*)$/m.exec(r.body)?.[1] ?? "");
      expect(r.body).toContain("x-forwarded-port=80");
      expect(r.body).toContain("x-original-uri=/echoserver");
    }
    expect([...names].sort()).toEqual(["echo-a", "echo-b"]);
  });

  it("follows target and upstream changes under load without a failed request", async () => {
    const url = `http://127.0.0.1:${lb.listenPort}`;
    const load = traffic(url);
    // A second nginx pod joins (the LB grows past its 2 slots: reload), then the first
    // leaves the LB; an echo server leaves nginx's upstream (reload), then stops (SIGTERM).
    const second = new PodProcess({
      role: "nginx",
      uid: "nginx-2",
      namespace: "apps",
      name: "nginx-2",
      dir: join(state, "pods", "nginx-2"),
      containerPort: 80,
      nginxBinary: nginx!,
      echoCommand: [process.execPath, echoScript],
      stateDir: state,
    });
    await second.start(supervisor, nginxConf("nginx-2"));
    await lb.setBackends([ingressPod.port, second.port], 200);
    // A third target (an echo server answers 200 too) makes the LB outgrow its 2 slots.
    await lb.setBackends([ingressPod.port, second.port, echoes[1]!.port], 200);
    await lb.setBackends([second.port], 200);
    map.setAccepting(echoes[0]!.processName, false);
    // The endpoint change reaches nginx without a reload, as in ingress-nginx.
    await second.setBackends(nginxRender("nginx-2", second.port, second.adminPort).backends);
    await new Promise((r) => setTimeout(r, 300));
    echoes[0]!.gracefulStop();
    await echoes[0]!.exited;
    await new Promise((r) => setTimeout(r, 300));
    const { ok, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    expect(lb.activePorts()).toEqual([second.port]);
  }, 30_000);

  it("fails requests when the only nginx is killed (grace 0), then stops everything cleanly", async () => {
    const url = `http://127.0.0.1:${lb.listenPort}`;
    const nginx2 = lb.activePorts()[0]!;
    const victim = supervisor.list().find((p) => p.name === "nginx-apps-nginx-2")!;
    victim.killGroup();
    await victim.exited;
    // With no NGINX left, a request fails: a 5xx from the LB or a broken connection.
    const failed = await get(url).then(
      (r) => r.status >= 500,
      () => true,
    );
    expect(failed).toBe(true);
    expect(await isPortFree(nginx2)).toBe(true);

    const lbPort = lb.listenPort;
    await lb.stop();
    await supervisor.stopAll(2_000);
    expect(supervisor.list()).toEqual([]);
    expect(await isPortFree(lbPort)).toBe(true);
    expect(readdirSync(join(state, "pids"))).toEqual([]);
    expect(existsSync(join(state, "logs", "lb-haproxy.log"))).toBe(true);
  });

  it("finds and stops what a crashed agent left behind, by its pid files", async () => {
    // Given a process started by an "agent" that then vanished without stopping it.
    const crashed = new ProcessSupervisor(join(state, "pids"), join(state, "logs"), silentLog);
    const orphan = crashed.start({
      name: "orphan",
      command: process.execPath,
      args: ["-e", "setInterval(() => {}, 1000)", state],
    });
    expect(isAlive(orphan.pid, state)).toBe(true);
    // When the next agent (or sandbox down) reaps the pid dir: it is gone, pid file too.
    expect(await reapStaleProcesses(join(state, "pids"), state, silentLog)).toBe(1);
    await orphan.exited;
    expect(isAlive(orphan.pid)).toBe(false);
    expect(readdirSync(join(state, "pids"))).toEqual([]);
  });
});
