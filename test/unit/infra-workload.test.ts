import { describe, expect, it } from "vitest";
import { echoDeploymentSpec, echoIngressSpec } from "../../src/infra/echoserver.js";
import { assertShutdownOrdering, GRACEFUL_SHUTDOWN } from "../../src/infra/graceful-shutdown.js";
import { NGINX_CONTROLLER_IMAGE } from "../../src/infra/images.js";
import {
  minAvailableFor,
  nginxDeploymentSpec,
  nginxSettings,
} from "../../src/infra/nginx-controller.js";
import { serviceUrl } from "../../src/infra/workload.js";
import { INSTANCE_TYPE_LABEL, NODE_GROUP_LABEL } from "../../src/infra/workload-names.js";

// The workload's manifests as data: what makes NGINX move without dropping a request.

const nginx = nginxDeploymentSpec({
  namespace: "apps",
  replicas: 3,
  instanceTypes: ["c5.4xlarge"],
  shutdown: GRACEFUL_SHUTDOWN,
  serviceAnnotations: {},
});
// biome-ignore lint/suspicious/noExplicitAny: reads deep into manifests built as Pulumi inputs
type Manifest = any;
function podSpec(d: { template?: unknown }): Manifest {
  return (d.template as Manifest).spec;
}
const pod = podSpec(nginx);

describe("NGINX ingress controller", () => {
  it("is pinned by instance type, tolerates the new group's taint, one replica per node", () => {
    expect(
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    ).toEqual([
      { matchExpressions: [{ key: INSTANCE_TYPE_LABEL, operator: "In", values: ["c5.4xlarge"] }] },
    ]);
    expect(pod.tolerations).toEqual([
      { key: "nginx", value: "true", effect: "NoSchedule", operator: "Equal" },
    ]);
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        labelSelector: { matchLabels: { app: "nginx-ing-cntlr" } },
        topologyKey: "kubernetes.io/hostname",
      },
    ]);
  });

  it("rolls one surge pod at a time and never below the desired count", () => {
    expect(nginx.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  it("checks /healthz and outlives the load balancer's deregistration delay", () => {
    const c = pod.containers[0];
    expect(c.image).toBe(NGINX_CONTROLLER_IMAGE);
    expect(c.readinessProbe.httpGet.path).toBe("/healthz");
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    expect(c.lifecycle.preStop.sleep.seconds).toBe(GRACEFUL_SHUTDOWN.preStopSleepSeconds);
    expect(c.lifecycle.preStop.sleep.seconds).toBeGreaterThan(
      GRACEFUL_SHUTDOWN.deregistrationDelaySeconds,
    );
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      GRACEFUL_SHUTDOWN.preStopSleepSeconds + GRACEFUL_SHUTDOWN.workerShutdownTimeoutSeconds,
    );
    expect(c.args).toContain("--ingress-class=nginx");
    expect(c.args).toContain("--publish-service=$(POD_NAMESPACE)/nginx-ing-cntlr");
  });

  it("the shutdown numbers are ordered, and the check catches bad ones", () => {
    expect(() => assertShutdownOrdering(GRACEFUL_SHUTDOWN)).not.toThrow();
    expect(() => assertShutdownOrdering({ ...GRACEFUL_SHUTDOWN, preStopSleepSeconds: 30 })).toThrow(
      /preStop/,
    );
    expect(() =>
      assertShutdownOrdering({ ...GRACEFUL_SHUTDOWN, terminationGracePeriodSeconds: 100 }),
    ).toThrow(/grace/);
  });

  it("the ConfigMap carries the tutorial's settings and the worker shutdown timeout", () => {
    expect(nginxSettings(GRACEFUL_SHUTDOWN)).toMatchObject({
      "keep-alive": "200",
      "proxy-next-upstream": "error timeout http_502 http_503 http_504",
      "proxy-read-timeout": "120",
      "worker-shutdown-timeout": "60s",
    });
  });

  it("the PDB keeps 2 up (the tutorial's), clamped so a drain can always move one", () => {
    expect([1, 2, 3, 5].map(minAvailableFor)).toEqual([0, 1, 2, 2]);
  });
});

describe("echoserver", () => {
  const args = {
    namespace: "apps",
    replicas: 3,
    nodeGroup: "standard",
    host: "apps.example.com",
    path: "/echoserver",
    shutdown: GRACEFUL_SHUTDOWN,
    ingressAnnotations: {},
  };

  it("runs on its node group only", () => {
    const spec = podSpec(echoDeploymentSpec(args));
    expect(
      spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    ).toEqual([
      { matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: ["standard"] }] },
    ]);
    expect(podSpec(echoDeploymentSpec({ ...args, nodeGroup: undefined })).affinity).toBeUndefined();
  });

  it("is routed by a networking.k8s.io/v1 Ingress of class nginx for host + path", () => {
    expect(echoIngressSpec(args)).toEqual({
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
    });
  });
});

describe("load balancer URL", () => {
  it("from the Service status: AWS hostname, local ip:port, empty until published", () => {
    expect(
      serviceUrl({ loadBalancer: { ingress: [{ hostname: "a1.elb.amazonaws.com" }] } } as never),
    ).toBe("http://a1.elb.amazonaws.com");
    expect(
      serviceUrl({
        loadBalancer: { ingress: [{ ip: "127.0.0.1", ports: [{ port: 20480 }] }] },
      } as never),
    ).toBe("http://127.0.0.1:20480");
    expect(serviceUrl({ loadBalancer: {} } as never)).toBe("");
    expect(serviceUrl(undefined)).toBe("");
  });
});
