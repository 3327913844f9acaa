import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AppsV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  type V1Deployment,
  type V1EndpointSlice,
  type V1Pod,
  type V1Service,
} from "@kubernetes/client-node";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRACEFUL_SHUTDOWN } from "../../src/infra/graceful-shutdown.js";
import { loadBalancerAnnotations, NLB_IP_TARGETS } from "../../src/infra/load-balancer-model.js";
import { nginxSettings } from "../../src/infra/nginx-controller.js";
import { makeKubeClients } from "../../src/kube/clients.js";
import { drainNodes } from "../../src/ops/drain.js";
import { type AgentHandle, startAgent } from "../../src/sandbox/agent.js";
import { loadBalancerUrl } from "../../src/sandbox/dataplane/lb-url.js";
import { isPortFree } from "../../src/sandbox/ports.js";
import { createLoadGenerator } from "../../src/traffic/load-generator.js";
import { startTestSandbox, type TestSandbox, watchUntil } from "../helpers/sandbox.js";
import {
  createReadyNodes,
  describePods,
  isPodReady,
  nodeSpec,
  PAUSE_IMAGE,
} from "../helpers/sandbox-workloads.js";

// The data plane against the real control plane: LB → NGINX pod → echoserver pod carries
// the traffic; a correct rolling update and a PDB-respecting drain fail no request; deleting
// every NGINX pod with grace 0 does; the LB follows scale-up and scale-down within a second.

const NS = "apps";
const HOST = "apps.example.com";
let sb: TestSandbox;
let agent: AgentHandle;
let agentDir: string;
let apps: AppsV1Api;
let url: string;

const nginxLabels = { app: "nginx-ing-cntlr" };
const echoLabels = { app: "echoserver" };

function nginxDeployment(replicas: number): V1Deployment {
  return {
    metadata: { name: "nginx-ing-cntlr", namespace: NS, labels: nginxLabels },
    spec: {
      replicas,
      selector: { matchLabels: nginxLabels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: nginxLabels },
        spec: {
          nodeSelector: { role: "ingress" },
          // The derived timings (infra/graceful-shutdown.ts), ×0.2 in the sandbox: preStop
          // 10 s, grace 24 s. The balancer (an NLB, L4) no longer hides shorter ones.
          terminationGracePeriodSeconds: GRACEFUL_SHUTDOWN.terminationGracePeriodSeconds,
          containers: [
            {
              name: "controller",
              image: "registry.k8s.io/ingress-nginx/controller:v1.13.3",
              ports: [{ name: "http", containerPort: 80 }],
              lifecycle: {
                preStop: {
                  exec: {
                    command: ["/bin/sh", "-c", `sleep ${GRACEFUL_SHUTDOWN.preStopSleepSeconds}`],
                  },
                },
              },
            },
          ],
        },
      },
    },
  };
}

function echoDeployment(replicas: number): V1Deployment {
  return {
    metadata: { name: "echoserver", namespace: NS, labels: echoLabels },
    spec: {
      replicas,
      selector: { matchLabels: echoLabels },
      template: {
        metadata: { labels: echoLabels },
        spec: {
          nodeSelector: { role: "apps" },
          containers: [
            {
              name: "echoserver",
              image: PAUSE_IMAGE,
              ports: [{ name: "http", containerPort: 8080 }],
            },
          ],
        },
      },
    },
  };
}

async function createWorkload(): Promise<void> {
  await sb.core.createNamespace({ body: { metadata: { name: NS } } });
  await sb.core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: "nginx-ing-cntlr" }, data: nginxSettings(GRACEFUL_SHUTDOWN) },
  });
  await sb.core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: {
        name: "nginx-ing-cntlr",
        // The AWS program's annotations: the sandbox plays the NLB they describe.
        annotations: loadBalancerAnnotations(NLB_IP_TARGETS),
      },
      spec: {
        type: "LoadBalancer",
        selector: nginxLabels,
        ports: [{ name: "http", port: 80, targetPort: "http" }],
      },
    },
  });
  await sb.core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: "echoserver" },
      spec: { selector: echoLabels, ports: [{ name: "http", port: 8080, targetPort: "http" }] },
    },
  });
  await sb.policy.createNamespacedPodDisruptionBudget({
    namespace: NS,
    body: {
      metadata: { name: "nginx-ing-cntlr" },
      spec: { minAvailable: 2, selector: { matchLabels: nginxLabels } },
    },
  });
  await sb.kc.makeApiClient(NetworkingV1Api).createNamespacedIngress({
    namespace: NS,
    body: {
      metadata: { name: "echoserver" },
      spec: {
        ingressClassName: "nginx",
        rules: [
          {
            host: HOST,
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
  });
  await apps.createNamespacedDeployment({ namespace: NS, body: echoDeployment(2) });
  await apps.createNamespacedDeployment({ namespace: NS, body: nginxDeployment(3) });
}

function pods(selector: string) {
  return sb.core.listNamespacedPod({ namespace: NS, labelSelector: selector });
}

/** Waits until the app has exactly `n` pods, all Ready, and the data plane serves them all. */
async function waitServing(app: "nginx-ing-cntlr" | "echoserver", n: number, timeoutMs = 30_000) {
  const role = app === "echoserver" ? "echo" : "nginx";
  const m = await watchUntil<V1Pod>(sb.kc, {
    path: `/api/v1/namespaces/${NS}/pods`,
    list: () => pods(`app=${app}`),
    labelSelector: `app=${app}`,
    until: (m) => m.size === n && [...m.values()].every(isPodReady),
    describe: (m) => describePods(m.values()),
    timeoutMs,
  });
  const ready = [...m.values()].map((p) => p.metadata!.name!).sort();
  // The agent reacts to the same events: wait (in-process) until it serves exactly these.
  const serving = () =>
    agent
      .status()
      .dataPlane!.pods.filter((p) => p.role === role && p.phase === "serving")
      .map((p) => p.name)
      .sort();
  await until(
    () =>
      JSON.stringify(serving()) === JSON.stringify(ready) &&
      (role !== "nginx" || agent.dataPlane.status().lbBackends.length === n),
    timeoutMs,
    () => `pods ${ready.join(",")}; data plane ${JSON.stringify(agent.status().dataPlane?.pods)}`,
  );
}

/** Re-checks a condition on agent state every 10 ms (in-process, no API calls). */
async function until(cond: () => boolean, timeoutMs: number, describe: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every terminating NGINX pod's process has stopped (preStop and drain are over). */
async function terminationsDone(timeoutMs = 60_000): Promise<void> {
  await until(
    () =>
      !agent.status().dataPlane!.pods.some((p) => p.role === "nginx" && p.phase === "terminating"),
    timeoutMs,
    () => JSON.stringify(agent.status().dataPlane?.pods),
  );
}

async function rolloutComplete(name: string, timeoutMs = 60_000): Promise<void> {
  await watchUntil<V1Deployment>(sb.kc, {
    path: `/apis/apps/v1/namespaces/${NS}/deployments`,
    list: () => apps.listNamespacedDeployment({ namespace: NS }),
    fieldSelector: `metadata.name=${name}`,
    until: (m) => {
      const d = m.get(`${NS}/${name}`);
      const want = d?.spec?.replicas ?? 0;
      const s = d?.status;
      return (
        !!d &&
        (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
        s?.updatedReplicas === want &&
        s?.replicas === want &&
        s?.availableReplicas === want
      );
    },
    describe: (m) => JSON.stringify(m.get(`${NS}/${name}`)?.status),
    timeoutMs,
  });
}

interface LogLine {
  time: number;
  msg: string;
  pod?: string;
  [k: string]: unknown;
}

/** The agent's log (pino JSON lines). */
function agentLog(): LogLine[] {
  return readFileSync(join(agentDir, "logs", "agent.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
}

async function withLoad<T>(fn: () => Promise<T>) {
  const gen = createLoadGenerator({ connections: 8, timeoutMs: 2_000 });
  await gen.start({ url, host: HOST, path: "/echoserver" }, new AbortController().signal);
  try {
    await fn();
  } finally {
    await gen.stop();
  }
  return gen.finished();
}

beforeAll(async () => {
  sb = await startTestSandbox("dataplane");
  apps = sb.kc.makeApiClient(AppsV1Api);
  agentDir = mkdtempSync(join(tmpdir(), "dp-agent-"));
  agent = await startAgent({
    kubeconfig: sb.info.kubeconfigPath,
    motoEndpoint: sb.info.motoEndpoint,
    stateDir: agentDir,
    cluster: sb.name,
    timeFactor: 0.2,
  });
  await createReadyNodes(sb, [
    nodeSpec("apps-1", "t3.medium", "v1.33.5", { labels: { role: "apps" } }),
    nodeSpec("old-1", "t3.2xlarge", "v1.32.9", { labels: { role: "ingress" } }),
    nodeSpec("old-2", "t3.2xlarge", "v1.32.9", { labels: { role: "ingress" } }),
    // The drain's destination, closed until the drain test opens it.
    nodeSpec("new-1", "c5.4xlarge", "v1.33.5", {
      labels: { role: "ingress" },
      unschedulable: true,
    }),
    nodeSpec("new-2", "c5.4xlarge", "v1.33.5", {
      labels: { role: "ingress" },
      unschedulable: true,
    }),
  ]);
  await createWorkload();
  await waitServing("echoserver", 2);
  await waitServing("nginx-ing-cntlr", 3);
  const svc = await watchUntil<V1Service>(sb.kc, {
    path: `/api/v1/namespaces/${NS}/services`,
    list: () => sb.core.listNamespacedService({ namespace: NS }),
    until: (m) => loadBalancerUrl(m.get(`${NS}/nginx-ing-cntlr`) ?? {}) !== undefined,
    timeoutMs: 15_000,
  });
  url = loadBalancerUrl(svc.get(`${NS}/nginx-ing-cntlr`)!)!;
}, 240_000);

afterAll(async () => {
  try {
    await agent?.stop();
    await sb?.stop();
  } finally {
    if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  }
});

describe("sandbox data plane", () => {
  it("publishes the LB in the Service status and carries LB → NGINX → echoserver", async () => {
    expect(url).toBe(agent.lbUrl);
    // The Service is published as soon as the LB listens; NGINX and echo backends join as
    // each process passes its health check. So: until both echo pods have answered
    // (bounded), 503s are tolerated before the first 200, and every answer after it must
    // be a 200 echo from one of the pods.
    const echoPods = (await pods("app=echoserver")).items.map((p) => p.metadata!.name!);
    const seen = new Set<string>();
    const deadline = Date.now() + 20_000;
    while (seen.size < 2 && Date.now() < deadline) {
      const res = await request(`${url}/echoserver`, { headers: { host: HOST } });
      const body = await res.body.text();
      if (seen.size === 0 && res.statusCode === 503) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      expect(res.statusCode).toBe(200);
      const hostname = /^Hostname: (.+)$/m.exec(body)?.[1];
      expect(echoPods).toContain(hostname);
      seen.add(hostname!);
      expect(body).toContain("x-forwarded-host=apps.example.com");
    }
    expect(seen.size).toBe(2);
    // Another host is not routed (ingress-nginx's default backend answers 404).
    const other = await request(`${url}/echoserver`, { headers: { host: "other.example.com" } });
    await other.body.text();
    expect(other.statusCode).toBe(404);
    // The published map has one loopback port per running pod.
    expect(Object.keys(agent.dataPlane.endpointMap())).toHaveLength(5);
  });

  it("fails no request during a correct rolling update of NGINX", async () => {
    const before = new Set((await pods("app=nginx-ing-cntlr")).items.map((p) => p.metadata!.name!));
    const summary = await withLoad(async () => {
      await apps.patchNamespacedDeployment({
        name: "nginx-ing-cntlr",
        namespace: NS,
        body: [
          {
            op: "add",
            path: "/spec/template/metadata/annotations",
            value: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() },
          },
        ],
      });
      await rolloutComplete("nginx-ing-cntlr");
      await waitServing("nginx-ing-cntlr", 3);
      // The old pods' shutdown is when requests would fail: measure it too.
      await terminationsDone();
    });
    const after = (await pods("app=nginx-ing-cntlr")).items.map((p) => p.metadata!.name!);
    expect(after.some((n) => before.has(n))).toBe(false);
    console.log("rolling update under load:", JSON.stringify(summary));
    // Every old pod went through the node's sequence: out of the LB first, then the preStop
    // wait (50 s × 0.2), then a graceful stop it completed within its grace period.
    const log = agentLog();
    for (const pod of before) {
      const term = log.find((l) => l.msg === "pod terminating" && l.pod === pod);
      const stop = log.find((l) => l.msg === "graceful stop sent" && l.pod === pod);
      const done = log.find((l) => l.msg === "pod process stopped" && l.pod === pod);
      expect(term && stop && done, `log lines for ${pod}`).toBeTruthy();
      const lbOut = log.find(
        (l) =>
          l.msg === "load balancer targets changed" &&
          l.time >= term!.time &&
          !(l.backends as number[]).includes(term!.port as number),
      );
      expect(lbOut, `LB change without ${pod}`).toBeTruthy();
      expect(lbOut!.time).toBeLessThan(stop!.time);
      expect(stop!.time - term!.time).toBeGreaterThanOrEqual(950);
      expect(done!.outcome).toBe("graceful");
    }
    expect(summary.requests.total).toBeGreaterThan(500);
    expect(summary.errors).toEqual({});
    expect(summary.requests.failed).toBe(0);
  }, 120_000);

  it("fails no request during a PDB-respecting drain of the NGINX nodes", async () => {
    for (const n of ["new-1", "new-2"]) {
      await sb.core.patchNode({
        name: n,
        body: [{ op: "replace", path: "/spec/unschedulable", value: false }],
      });
    }
    const kube = makeKubeClients(sb.kc);
    let blocked = 0;
    const summary = await withLoad(async () => {
      await drainNodes(kube, ["old-1", "old-2"], new AbortController().signal, {
        timeoutMs: 90_000,
        onEvent: (e) => {
          if (e.type === "blocked") blocked++;
        },
      });
      await waitServing("nginx-ing-cntlr", 3);
      await terminationsDone();
    });
    await kube.close();
    const placed = (await pods("app=nginx-ing-cntlr")).items.map((p) => p.spec?.nodeName);
    expect(placed.every((n) => n === "new-1" || n === "new-2")).toBe(true);
    console.log("drain under load:", JSON.stringify(summary), "PDB refusals:", blocked);
    expect(summary.requests.total).toBeGreaterThan(500);
    expect(summary.errors).toEqual({});
    expect(summary.requests.failed).toBe(0);
  }, 150_000);

  it("follows scale-up and scale-down within a second", async () => {
    const scale = (replicas: number) =>
      apps.patchNamespacedDeploymentScale({
        name: "nginx-ing-cntlr",
        namespace: NS,
        body: [{ op: "replace", path: "/spec/replicas", value: replicas }],
      });
    /** Ms from the Service's EndpointSlice showing `n` ready endpoints to the LB having `n`. */
    const lag = async (n: number) => {
      await watchUntil<V1EndpointSlice>(sb.kc, {
        path: `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`,
        list: () =>
          sb.kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
            namespace: NS,
            labelSelector: "kubernetes.io/service-name=nginx-ing-cntlr",
          }),
        labelSelector: "kubernetes.io/service-name=nginx-ing-cntlr",
        until: (m) =>
          [...m.values()].flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready)
            .length === n,
        timeoutMs: 30_000,
      });
      const t0 = performance.now();
      await until(
        () => agent.dataPlane.status().lbBackends.length === n,
        5_000,
        () => JSON.stringify(agent.dataPlane.status().lbBackends),
      );
      return performance.now() - t0;
    };
    await scale(5);
    const up = await lag(5);
    await scale(3);
    const down = await lag(3);
    console.log(
      `LB lag after the EndpointSlice: scale-up ${up.toFixed(0)} ms, scale-down ${down.toFixed(0)} ms`,
    );
    expect(up).toBeLessThan(1_000);
    expect(down).toBeLessThan(1_000);
  }, 90_000);

  it("fails requests when every NGINX pod is deleted at once with grace 0", async () => {
    await waitServing("nginx-ing-cntlr", 3);
    const summary = await withLoad(async () => {
      const victims = (await pods("app=nginx-ing-cntlr")).items;
      await Promise.all(
        victims.map((p) =>
          sb.core.deleteNamespacedPod({
            name: p.metadata!.name!,
            namespace: NS,
            gracePeriodSeconds: 0,
          }),
        ),
      );
      await rolloutComplete("nginx-ing-cntlr");
      await waitServing("nginx-ing-cntlr", 3);
    });
    console.log("grace-0 deletion under load:", JSON.stringify(summary));
    expect(summary.requests.failed).toBeGreaterThan(0);
  }, 90_000);

  it("stops every process and frees every port when the agent stops", async () => {
    const st = agent.dataPlane.status();
    const ports = [st.lbPort, ...st.pods.map((p) => p.loopbackPort)];
    await agent.stop();
    for (const p of ports) expect(await isPortFree(p)).toBe(true);
    expect(readdirSync(join(agentDir, "dataplane", "pids"))).toEqual([]);
    expect(existsSync(join(agentDir, "dataplane", "logs", "lb-haproxy.log"))).toBe(true);
  });
});
