import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRACEFUL_SHUTDOWN, type GracefulShutdown } from "../../src/infra/graceful-shutdown.js";
import { NLB_IP_TARGETS } from "../../src/infra/load-balancer-model.js";
import { nginxSettings } from "../../src/infra/nginx-controller.js";
import { SHUTDOWN_MISTAKES } from "../../src/infra/shutdown-mistakes.js";
import { findBinary } from "../../src/sandbox/agent.js";
import { EndpointPortMap } from "../../src/sandbox/dataplane/endpoint-map.js";
import { buildIngressModel } from "../../src/sandbox/dataplane/ingress-model.js";
import { LoadBalancer } from "../../src/sandbox/dataplane/load-balancer.js";
import { silentLog } from "../../src/sandbox/dataplane/log.js";
import {
  nginxSettingsFromConfigMap,
  renderNginxConfig,
} from "../../src/sandbox/dataplane/nginx-config.js";
import { renderBackends } from "../../src/sandbox/dataplane/nginx-dynamic-backends.js";
import {
  freeLoopbackPort,
  type NginxRender,
  PodProcess,
} from "../../src/sandbox/dataplane/pod-process.js";
import { sandboxBalancer } from "../../src/sandbox/dataplane/service-timings.js";
import { ProcessSupervisor } from "../../src/sandbox/dataplane/supervisor.js";
import { realClock, runTermination } from "../../src/sandbox/dataplane/termination.js";
import { createLoadGenerator, type LoadSummary } from "../../src/traffic/load-generator.js";

// Negative controls at the data-plane level, without a cluster (seconds, not minutes): the
// sandbox NLB (HAProxy generated from the AWS program's load-balancer model) in front of
// three real nginx "pods" configured from the AWS program's own ConfigMap, replaced one
// after another the way step 4's rollout replaces them — the new pod joins the balancer,
// the old one leaves its endpoints (the balancer deregisters it: propagation, draining,
// connection termination) and runs the kubelet's termination (preStop wait, graceful stop,
// SIGKILL at the end of its grace period), exactly the calls the data plane makes. A strict
// closed-loop client (no retries, every connection always busy) counts every failure.
// Time factor 0.2, as in the sandbox. With the derived timings nothing fails; each
// production mistake fails requests.

const TF = 0.2;
const nginx = findBinary("nginx");
const haproxy = findBinary("haproxy");
const echoScript = fileURLToPath(
  new URL("../../src/sandbox/dataplane/echo-server-main.ts", import.meta.url),
);
const state = mkdtempSync(join(tmpdir(), "lb-controls-"));
const supervisor = new ProcessSupervisor(join(state, "pids"), join(state, "logs"), silentLog);
const map = new EndpointPortMap();
let echo: PodProcess;
let lb: LoadBalancer;
let podSeq = 0;

function nginxConf(
  s: GracefulShutdown,
  dir: string,
  port: number,
  adminPort: number,
  keepAliveRequests?: number,
): NginxRender {
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
        endpoints: [
          {
            addresses: ["10.244.0.1"],
            conditions: { ready: true },
            targetRef: { uid: echo.processName },
          },
        ],
      },
    ],
    map,
  });
  // The ConfigMap the AWS program deploys, read the way the sandbox reads it.
  const { settings, warnings } = nginxSettingsFromConfigMap(nginxSettings(s), TF);
  expect(warnings).toEqual([]);
  const conf = renderNginxConfig({
    model,
    settings: {
      ...settings,
      workerProcesses: 1,
      keepAliveRequests: keepAliveRequests ?? settings.keepAliveRequests,
    },
    listenPort: port,
    adminPort,
    containerPort: 80,
    dir,
    pidFile: join(dir, "nginx.pid"),
    errorLog: join(dir, "logs", "error.log"),
    podName: `apps/${dir}`,
    runAsRoot: process.getuid?.() === 0,
  });
  return { conf, backends: renderBackends(model) };
}

async function startNginxPod(sc: Scenario): Promise<PodProcess> {
  const s = sc.shutdown;
  const name = `nginx-${++podSeq}`;
  const dir = join(state, "pods", name);
  const p = new PodProcess({
    role: "nginx",
    uid: name,
    namespace: "apps",
    name,
    dir,
    containerPort: 80,
    nginxBinary: nginx ?? "nginx",
    echoCommand: [process.execPath, echoScript],
    stateDir: state,
  });
  await p.start(supervisor, (port, adminPort) =>
    nginxConf(s, dir, port, adminPort, sc.keepAliveRequests),
  );
  return p;
}

/** The pod's termination as the data plane runs it (pod-spec.ts → termination.ts). */
function terminate(p: PodProcess, s: GracefulShutdown) {
  return runTermination(
    {
      preStopMs: Math.round(s.preStopSleepSeconds * 1000 * TF),
      graceMs: Math.round(s.terminationGracePeriodSeconds * 1000 * TF),
    },
    p,
    realClock,
  );
}

interface Scenario {
  name: string;
  shutdown: GracefulShutdown;
  /**
   * NGINX keep-alive-requests. The closed-loop client sends ~1,000 requests/s on each
   * connection, ~100× a production client, so the ConfigMap's 10,000-request cap would
   * rotate connections here that in production live for minutes; the keep-alive control
   * lifts it to model connections that outlive the drain.
   */
  keepAliveRequests?: number;
}

/** Step 4's rollout (surge 1): three pods replaced one after another, under load. */
async function rollingReplacement(s: Scenario): Promise<LoadSummary> {
  const balancer = sandboxBalancer(NLB_IP_TARGETS, TF);
  await lb.configure(balancer);
  let pods = [await startNginxPod(s), await startNginxPod(s), await startNginxPod(s)];
  await lb.setBackends(pods.map((p) => p.port));
  const gen = createLoadGenerator({ connections: 4, timeoutMs: 2_000 });
  await gen.start(
    { url: `http://127.0.0.1:${lb.listenPort}`, host: "apps.example.com", path: "/echoserver" },
    new AbortController().signal,
  );
  const terminations: Promise<unknown>[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    for (const old of [...pods]) {
      const fresh = await startNginxPod(s);
      pods = [...pods.filter((p) => p !== old), fresh];
      // The new pod is Ready (joins), the old one leaves the endpoints and terminates.
      await lb.setBackends(pods.map((p) => p.port));
      terminations.push(terminate(old, s.shutdown));
      await new Promise((r) => setTimeout(r, 500));
    }
    await Promise.all(terminations);
    // Until the balancer has finished draining the last old target.
    await new Promise((r) =>
      setTimeout(r, balancer.propagationMs + balancer.deregistrationDelayMs + 500),
    );
  } finally {
    await gen.stop();
  }
  for (const p of pods) {
    p.gracefulStop();
    await p.exited;
  }
  await lb.setBackends([]);
  return gen.finished();
}

function report(s: Scenario, summary: LoadSummary): void {
  console.log(
    `[lb-controls] ${s.name}: requests ${summary.requests.total}, failed ${summary.requests.failed}, errors ${JSON.stringify(summary.errors)}`,
  );
}

beforeAll(async () => {
  if (!nginx || !haproxy) {
    throw new Error(
      "nginx and haproxy are required for the sandbox data plane: run `npm run setup`",
    );
  }
  echo = new PodProcess({
    role: "echo",
    uid: "echo-1",
    namespace: "apps",
    name: "echo-1",
    dir: join(state, "pods", "echo-1"),
    containerPort: 8080,
    nginxBinary: nginx,
    echoCommand: [process.execPath, echoScript],
    stateDir: state,
  });
  await echo.start(supervisor, undefined);
  map.set({
    uid: echo.processName,
    podIP: "10.244.0.1",
    containerPort: 8080,
    loopbackPort: echo.port,
    accepting: true,
  });
  lb = new LoadBalancer({
    dir: join(state, "lb"),
    listenPort: await freeLoopbackPort(),
    supervisor,
    haproxyBinary: haproxy,
    log: silentLog,
    balancer: sandboxBalancer(NLB_IP_TARGETS, TF),
  });
  await lb.start();
}, 60_000);

afterAll(async () => {
  try {
    await lb?.stop();
    await supervisor.stopAll(2_000);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

// The mistakes a rehearsal can play (config rehearsal.mistake), one source for both.
// The mistakes a rehearsal can play (config rehearsal.mistake), one source for both. This
// closed-loop client sends thousands of requests a second per connection, so nginx's
// keep-alive-requests (10,000) would recycle its connections within seconds; the
// rehearsal's 300/s over 8 connections needs 270 s for that. Raised where it matters.
const CONTROLS: Scenario[] = Object.entries(SHUTDOWN_MISTAKES).map(([id, m]) => ({
  name: m.title,
  shutdown: m.apply(GRACEFUL_SHUTDOWN),
  ...(id === "keepalive-outlives-deregistration-delay" ? { keepAliveRequests: 1_000_000 } : {}),
}));

describe("negative controls: NGINX rolling replacement behind the sandbox NLB", () => {
  it("fails no request with the derived timings", async () => {
    const s = { name: "derived timings", shutdown: GRACEFUL_SHUTDOWN };
    const summary = await rollingReplacement(s);
    report(s, summary);
    expect(summary.requests.total).toBeGreaterThan(500);
    expect(summary.errors).toEqual({});
    expect(summary.requests.failed).toBe(0);
  }, 60_000);

  for (const control of CONTROLS) {
    it(`${control.name}: fails requests`, async () => {
      const summary = await rollingReplacement(control);
      report(control, summary);
      expect(summary.requests.total).toBeGreaterThan(500);
      expect(summary.requests.failed).toBeGreaterThan(0);
    }, 60_000);
  }
});
