import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NodeGroup, NodeGroupProvider } from "./node-groups.ts";

// The shop's cluster capacity and workloads. Two node groups — blue (today's) and green
// (tomorrow's) — and the two workloads that carry the storefront's traffic: the ingress
// controller and the echo backend, both pinned to one pool by a node selector.
//
// The migration (migration.yaml) is: grow green (config greenSize), move the workloads to
// green (an edit of `workloadPool` below, by you), drain and delete the blue nodes, shrink
// blue to 0 (config blueSize).

const config = new pulumi.Config();
// The cluster's kubeconfig (a secret). Exported too, so a migration plan can reach the
// cluster through the stack: `cluster: { kubeconfigOutput: kubeconfig }`.
export const kubeconfig = config.requireSecret("kubeconfig");
const asgEndpoint = config.require("asgEndpoint");
const cluster = config.require("clusterName");
const region = config.get("region") ?? "us-east-1";
const kubeletVersion = config.get("kubeletVersion") ?? "1.33";
const blueSize = config.getNumber("blueSize") ?? 2;
const greenSize = config.getNumber("greenSize") ?? 0;

/** The node label that tells our pools apart. */
const POOL = "shop.example.com/pool";
/** Where the workloads run. */
const workloadPool = "blue";

const nodeGroups = new NodeGroupProvider("node-groups");
const groups = {
  blue: new NodeGroup(
    "pool-blue",
    {
      name: `${cluster}-shop-blue`,
      endpoint: asgEndpoint,
      region,
      cluster,
      instanceType: "m5.large",
      kubeletVersion,
      size: blueSize,
      labels: { [POOL]: "blue" },
    },
    { provider: nodeGroups },
  ),
  green: new NodeGroup(
    "pool-green",
    {
      name: `${cluster}-shop-green`,
      endpoint: asgEndpoint,
      region,
      cluster,
      instanceType: "m6i.large",
      kubeletVersion,
      size: greenSize,
      labels: { [POOL]: "green" },
    },
    { provider: nodeGroups },
  ),
};

const provider = new k8s.Provider("cluster", { kubeconfig, enableServerSideApply: true });
const opts = { provider, dependsOn: [groups.blue, groups.green] };
const ns = "apps";
new k8s.core.v1.Namespace("apps", { metadata: { name: ns } }, opts);

// Graceful shutdown, sized to the load balancer (the rules eks-runbook's rehearsal checks):
// keep serving until the balancer can no longer send anything — preStop 60 s ≥ connection
// draining 30 s + unhealthy detection 3 × 10 s —, then finish in-flight requests (NGINX's
// worker-shutdown-timeout 60 s) within the grace period (130 s > 60 + 60). NGINX closes
// client connections older than 20 s (keepalive_time) so none outlives the draining.
const graceful = {
  terminationGracePeriodSeconds: 130,
  preStop: { sleep: { seconds: 60 } },
};

function app(name: string, port: number, image: string, replicas: number, args?: string[]) {
  const labels = { app: name };
  new k8s.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    {
      metadata: { name, namespace: ns },
      spec: { minAvailable: 1, selector: { matchLabels: labels } },
    },
    opts,
  );
  return new k8s.apps.v1.Deployment(
    name,
    {
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { [POOL]: workloadPool },
            terminationGracePeriodSeconds: graceful.terminationGracePeriodSeconds,
            containers: [
              {
                name,
                image,
                ...(args ? { args } : {}),
                ports: [{ name: "http", containerPort: port }],
                readinessProbe: { httpGet: { path: "/", port } },
                lifecycle: { preStop: graceful.preStop },
              },
            ],
          },
        },
      },
    },
    opts,
  );
}

app("echoserver", 8080, "registry.k8s.io/e2e-test-images/agnhost:2.53", 2, [
  "netexec",
  "--http-port=8080",
]);
new k8s.core.v1.Service(
  "echoserver",
  {
    metadata: { name: "echoserver", namespace: ns },
    spec: { selector: { app: "echoserver" }, ports: [{ port: 8080, targetPort: 8080 }] },
  },
  opts,
);

const nginx = "nginx-ing-cntlr";
app(nginx, 80, "registry.k8s.io/ingress-nginx/controller:v1.15.1", 2);
new k8s.core.v1.ConfigMap(
  nginx,
  {
    metadata: { name: nginx, namespace: ns },
    data: { "worker-shutdown-timeout": "60s", "http-snippet": "keepalive_time 20s;" },
  },
  opts,
);
new k8s.core.v1.Service(
  nginx,
  {
    metadata: {
      name: nginx,
      namespace: ns,
      annotations: {
        "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled": "true",
        "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout": "30",
        // The load balancer's address is published by the cloud (or the sandbox) later.
        "pulumi.com/skipAwait": "true",
      },
    },
    spec: {
      type: "LoadBalancer",
      selector: { app: nginx },
      ports: [{ name: "http", port: 80, targetPort: 80 }],
    },
  },
  opts,
);
new k8s.networking.v1.Ingress(
  "storefront",
  {
    metadata: {
      name: "storefront",
      namespace: ns,
      annotations: { "pulumi.com/skipAwait": "true" },
    },
    spec: {
      ingressClassName: "nginx",
      rules: [
        {
          host: "shop.example.com",
          http: {
            paths: [
              {
                path: "/echo",
                pathType: "Prefix",
                backend: { service: { name: "echoserver", port: { number: 8080 } } },
              },
            ],
          },
        },
      ],
    },
  },
  opts,
);

export const pools = { blue: groups.blue.id, green: groups.green.id };
