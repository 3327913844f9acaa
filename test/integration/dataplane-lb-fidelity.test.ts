import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  AppsV1Api,
  NetworkingV1Api,
  type V1Deployment,
  type V1DeploymentSpec,
  type V1Pod,
  type V1Service,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRACEFUL_SHUTDOWN, type GracefulShutdown } from "../../src/infra/graceful-shutdown.js";
import { loadBalancerAnnotations, NLB_IP_TARGETS } from "../../src/infra/load-balancer-model.js";
import { nginxDeploymentSpec, nginxSettings } from "../../src/infra/nginx-controller.js";
import { NODE_GROUP_LABEL } from "../../src/infra/workload-names.js";
import { makeKubeClients } from "../../src/kube/clients.js";
import {
  EXCLUDE_FROM_LB_LABEL,
  setExcludedFromLoadBalancers,
} from "../../src/ops/exclude-from-lb.js";
import { lbTargetsProbe } from "../../src/probes/lb-targets-probe.js";
import { type AgentHandle, startAgent } from "../../src/sandbox/agent.js";
import { loadBalancerUrl } from "../../src/sandbox/dataplane/lb-url.js";
import { MOTO_CREDENTIALS, MOTO_REGION } from "../../src/sandbox/moto.js";
import { createLoadGenerator, type LoadSummary } from "../../src/traffic/load-generator.js";
import { startTestSandbox, type TestSandbox, watchUntil } from "../helpers/sandbox.js";
import {
  createReadyNodes,
  describePods,
  isPodReady,
  nodeSpec,
  PAUSE_IMAGE,
} from "../helpers/sandbox-workloads.js";

// The sandbox NLB against the real control plane. (The negative controls run at the
// process level in dataplane-lb-controls.test.ts: here, with the cluster's extra moving
// parts on a shared machine, whether a mistake hits an in-flight request is too much a
// matter of timing to assert.) The sandbox's balancer is generated from the
// same model as the AWS one (an NLB: L4, IP targets, no retries, deregistration with
// propagation, draining and connection termination), and NGINX's manifests are the ones
// the AWS program deploys (src/infra/nginx-controller.ts). Under a strict closed-loop client
// (every connection always has a request in flight, no retries), a rolling replacement of
// every NGINX pod fails no request with the derived timings and fails requests with each
// production mistake below. Time factor 0.2: the derived preStop (50 s) runs 10 s here.

const NS = "apps";
const HOST = "apps.example.com";
const INSTANCE_TYPE = "c5.4xlarge";
const NGINX = "nginx-ing-cntlr";
let sb: TestSandbox;
let agent: AgentHandle;
let agentDir: string;
let apps: AppsV1Api;
let url: string;

/** What each control breaks, relative to the derived timings. */
interface Scenario {
  name: string;
  shutdown: GracefulShutdown;
  /** preStop as `sh -c "sleep N"` instead of the sleep action. */
  execPreStop?: boolean;
}

const DERIVED: Scenario = { name: "derived timings", shutdown: GRACEFUL_SHUTDOWN };

function nginxSpec(s: GracefulShutdown, execPreStop = false): V1DeploymentSpec {
  const spec = nginxDeploymentSpec({
    namespace: NS,
    replicas: 3,
    instanceTypes: [INSTANCE_TYPE],
    shutdown: s,
    serviceAnnotations: {},
  }) as unknown as V1DeploymentSpec;
  const pod = spec.template.spec!;
  // kwok runs no probes and no image; the data plane runs the pod's process.
  pod.serviceAccountName = undefined;
  for (const c of pod.containers) {
    c.readinessProbe = undefined;
    c.livenessProbe = undefined;
    if (s.preStopSleepSeconds === 0) c.lifecycle = undefined;
    else if (execPreStop) {
      c.lifecycle = {
        preStop: { exec: { command: ["/bin/sh", "-c", `sleep ${s.preStopSleepSeconds}`] } },
      };
    }
  }
  return spec;
}

async function createWorkload(): Promise<void> {
  await sb.core.createNamespace({ body: { metadata: { name: NS } } });
  await sb.core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: NGINX }, data: nginxSettings(GRACEFUL_SHUTDOWN) },
  });
  await sb.core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: NGINX, annotations: loadBalancerAnnotations(NLB_IP_TARGETS) },
      spec: {
        type: "LoadBalancer",
        selector: { app: NGINX },
        ports: [{ name: "http", port: 80, targetPort: "http" }],
      },
    },
  });
  await sb.core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: "echoserver" },
      spec: {
        selector: { app: "echoserver" },
        ports: [{ name: "http", port: 8080, targetPort: "http" }],
      },
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
  const echo: V1Deployment = {
    metadata: { name: "echoserver", namespace: NS },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "echoserver" } },
      template: {
        metadata: { labels: { app: "echoserver" } },
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
  await apps.createNamespacedDeployment({ namespace: NS, body: echo });
  await apps.createNamespacedDeployment({
    namespace: NS,
    body: { metadata: { name: NGINX, namespace: NS }, spec: nginxSpec(GRACEFUL_SHUTDOWN) },
  });
}

/** Re-checks a condition on agent state every 20 ms (in-process, no API calls). */
async function until(cond: () => boolean, timeoutMs: number, describe: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not met in ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Exactly `n` pods of the app, all Ready, none terminating, the data plane serving them all,
 * and the balancer holding exactly them (nothing still draining).
 */
async function settled(app: string, n: number, timeoutMs = 60_000): Promise<void> {
  const role = app === "echoserver" ? "echo" : "nginx";
  const m = await watchUntil<V1Pod>(sb.kc, {
    path: `/api/v1/namespaces/${NS}/pods`,
    list: () => sb.core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` }),
    labelSelector: `app=${app}`,
    until: (m) => m.size === n && [...m.values()].every(isPodReady),
    describe: (m) => describePods(m.values()),
    timeoutMs,
  });
  const ready = [...m.values()].map((p) => p.metadata!.name!).sort();
  await until(
    () => {
      const pods = agent.status().dataPlane?.pods.filter((p) => p.role === role) ?? [];
      const serving = pods.filter((p) => p.phase === "serving").map((p) => p.name);
      return (
        JSON.stringify(serving.sort()) === JSON.stringify(ready) &&
        pods.length === n &&
        (role !== "nginx" || agent.dataPlane.status().lbBackends.length === n)
      );
    },
    timeoutMs,
    () => JSON.stringify(agent.status().dataPlane?.pods),
  );
}

/** The rolling replacement the runbook's step 4 does, under a strict closed-loop client. */
async function replaceNginxUnderLoad(s: Scenario): Promise<LoadSummary> {
  // Give the pods this scenario's timings (a rollout of its own, unmeasured), then wait
  // until every old pod is gone and the balancer has drained it.
  await apps.replaceNamespacedDeployment({
    name: NGINX,
    namespace: NS,
    body: { metadata: { name: NGINX, namespace: NS }, spec: nginxSpec(s.shutdown, s.execPreStop) },
  });
  await sb.core.patchNamespacedConfigMap({
    name: NGINX,
    namespace: NS,
    body: [{ op: "replace", path: "/data", value: nginxSettings(s.shutdown) }],
  });
  await settled(NGINX, 3, 90_000);
  await drainedTargets(30_000);
  const gen = createLoadGenerator({ connections: 4, timeoutMs: 2_000 });
  await gen.start({ url, host: HOST, path: "/echoserver" }, new AbortController().signal);
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    await apps.patchNamespacedDeployment({
      name: NGINX,
      namespace: NS,
      body: [
        {
          op: "add",
          path: "/spec/template/metadata/annotations",
          value: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() },
        },
      ],
    });
    // Every replaced pod has left the balancer (drained) and stopped.
    await settled(NGINX, 3, 90_000);
    await drainedTargets(30_000);
  } finally {
    await gen.stop();
  }
  return gen.finished();
}

/** The mirrored target group lists exactly the balancer's 3 targets (none draining). */
async function drainedTargets(timeoutMs: number): Promise<void> {
  const elbv2 = new ElasticLoadBalancingV2Client({
    region: MOTO_REGION,
    endpoint: sb.info.motoEndpoint,
    credentials: MOTO_CREDENTIALS,
  });
  try {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    while (Date.now() < deadline) {
      await agent.elbv2Mirror.settled();
      const arn = agent.elbv2Mirror.targetGroupArn;
      if (arn) {
        const out = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
        last = out.TargetHealthDescriptions?.length ?? 0;
        if (last === 3) return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`target group still lists ${last} targets after ${timeoutMs} ms`);
  } finally {
    elbv2.destroy();
  }
}

beforeAll(async () => {
  sb = await startTestSandbox("lbfidelity");
  apps = sb.kc.makeApiClient(AppsV1Api);
  agentDir = mkdtempSync(join(tmpdir(), "lbf-agent-"));
  agent = await startAgent({
    kubeconfig: sb.info.kubeconfigPath,
    motoEndpoint: sb.info.motoEndpoint,
    stateDir: agentDir,
    cluster: sb.name,
    timeFactor: 0.2,
  });
  await createReadyNodes(sb, [
    nodeSpec("apps-1", "t3.medium", "v1.33.5", { labels: { role: "apps" } }),
    // One NGINX per node, surge 1: four nodes of the NGINX instance type.
    ...[1, 2, 3, 4].map((i) =>
      nodeSpec(`ingress-${i}`, INSTANCE_TYPE, "v1.33.5", {
        labels: { [NODE_GROUP_LABEL]: i === 4 ? "new" : "old" },
      }),
    ),
  ]);
  await createWorkload();
  await settled("echoserver", 2);
  await settled(NGINX, 3);
  const svc = await watchUntil<V1Service>(sb.kc, {
    path: `/api/v1/namespaces/${NS}/services`,
    list: () => sb.core.listNamespacedService({ namespace: NS }),
    until: (m) => loadBalancerUrl(m.get(`${NS}/${NGINX}`) ?? {}) !== undefined,
    timeoutMs: 15_000,
  });
  url = loadBalancerUrl(svc.get(`${NS}/${NGINX}`)!)!;
}, 240_000);

afterAll(async () => {
  try {
    await agent?.stop();
    await sb?.stop();
  } finally {
    if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  }
});

function report(s: Scenario, summary: LoadSummary): void {
  // The numbers the fidelity doc and the report quote.
  console.log(
    `[lb-fidelity] ${s.name}: requests ${summary.requests.total}, failed ${summary.requests.failed}, errors ${JSON.stringify(summary.errors)}`,
  );
}

describe("load-balancer fidelity: NGINX rolling replacement behind the sandbox NLB", () => {
  it("the balancer's targets are mirrored into moto's ELBv2 and the lb-targets gate reads them", async () => {
    await drainedTargets(20_000);
    const kube = makeKubeClients(sb.kc);
    const elbv2 = new ElasticLoadBalancingV2Client({
      region: MOTO_REGION,
      endpoint: sb.info.motoEndpoint,
      credentials: MOTO_CREDENTIALS,
    });
    const ac = new AbortController();
    const verdict = (group: string) =>
      new Promise<{ ok: boolean; reason: string }>((resolve) => {
        void lbTargetsProbe(elbv2, kube, {
          service: `${NS}/${NGINX}`,
          cluster: sb.name,
          oldCapacity: { group },
        }).observe(ac.signal, (r) => resolve(r));
      });
    try {
      // NGINX runs on three "old" nodes: the gate must refuse to let them go.
      const onOld = await verdict("old");
      expect(onOld.ok).toBe(false);
      expect(onOld.reason).toMatch(/still routes to [1-3] target/);
      const onOther = await verdict("no-such-group");
      expect(onOther).toEqual({
        ok: true,
        reason: "load balancer: 3 target(s), none on group no-such-group",
      });
    } finally {
      ac.abort();
      elbv2.destroy();
      await kube.close();
    }
  }, 60_000);

  it("labels a group's nodes out of instance-target load balancers, and back", async () => {
    const kube = makeKubeClients(sb.kc);
    const signal = new AbortController().signal;
    const labelled = async () =>
      (await sb.core.listNode({ labelSelector: EXCLUDE_FROM_LB_LABEL })).items
        .map((n) => n.metadata!.name!)
        .sort();
    try {
      const out = await setExcludedFromLoadBalancers(kube, { group: "old" }, true, signal);
      expect(out.summary).toBe("3 node(s) of group old excluded from external load balancers");
      expect(await labelled()).toEqual(["ingress-1", "ingress-2", "ingress-3"]);
      // Idempotent: nothing left to change.
      expect(
        (await setExcludedFromLoadBalancers(kube, { group: "old" }, true, signal)).summary,
      ).toMatch(/^0 node/);
      await setExcludedFromLoadBalancers(kube, { group: "old" }, false, signal);
      expect(await labelled()).toEqual([]);
    } finally {
      await kube.close();
    }
  }, 60_000);

  it("fails no request with the derived timings", async () => {
    const summary = await replaceNginxUnderLoad(DERIVED);
    report(DERIVED, summary);
    expect(summary.requests.total).toBeGreaterThan(500);
    expect(summary.errors).toEqual({});
    expect(summary.requests.failed).toBe(0);
  }, 240_000);
});
