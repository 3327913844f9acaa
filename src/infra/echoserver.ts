import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { GracefulShutdown } from "./graceful-shutdown.js";
import { ECHO_IMAGE } from "./images.js";
import { minAvailableFor } from "./nginx-controller.js";
import { NODE_GROUP_LABEL, WORKLOAD } from "./workload-names.js";

// The app behind NGINX: Deployment, Service and the networking.k8s.io/v1 Ingress that
// routes host + path to it through the "nginx" IngressClass.

const E = WORKLOAD.echoserver;
export const ECHO_SELECTOR = { app: E.appLabel } as const;

export interface EchoArgs {
  namespace: string;
  replicas: number;
  /** Pin to this node group (required affinity on the group label); anywhere when unset. */
  nodeGroup: string | undefined;
  host: string;
  path: string;
  shutdown: GracefulShutdown;
  ingressAnnotations: Record<string, string>;
}

export function echoDeploymentSpec(a: EchoArgs): k8s.types.input.apps.v1.DeploymentSpec {
  const affinity: k8s.types.input.core.v1.Affinity | undefined = a.nodeGroup
    ? {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: NODE_GROUP_LABEL, operator: "In", values: [a.nodeGroup] },
                ],
              },
            ],
          },
        },
      }
    : undefined;
  return {
    replicas: a.replicas,
    selector: { matchLabels: { ...ECHO_SELECTOR } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { ...ECHO_SELECTOR } },
      spec: {
        // The echo server itself stops at once; the preStop wait covers endpoint removal.
        terminationGracePeriodSeconds: a.shutdown.preStopSleepSeconds + 10,
        ...(affinity ? { affinity } : {}),
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: { ...ECHO_SELECTOR } },
          },
        ],
        containers: [
          {
            name: E.name,
            image: ECHO_IMAGE,
            imagePullPolicy: "IfNotPresent",
            args: ["netexec", `--http-port=${E.port}`],
            ports: [{ name: "http", containerPort: E.port, protocol: "TCP" }],
            readinessProbe: {
              httpGet: { path: "/", port: "http" },
              periodSeconds: 5,
              failureThreshold: 2,
            },
            livenessProbe: {
              httpGet: { path: "/", port: "http" },
              periodSeconds: 10,
              failureThreshold: 3,
            },
            lifecycle: { preStop: { sleep: { seconds: a.shutdown.preStopSleepSeconds } } },
            resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
              runAsNonRoot: true,
              runAsUser: 65534,
              seccompProfile: { type: "RuntimeDefault" },
            },
          },
        ],
      },
    },
  };
}

export function echoIngressSpec(a: EchoArgs): k8s.types.input.networking.v1.IngressSpec {
  return {
    ingressClassName: WORKLOAD.ingressClass,
    rules: [
      {
        host: a.host,
        http: {
          paths: [
            {
              path: a.path,
              pathType: "Prefix",
              backend: { service: { name: E.name, port: { number: E.port } } },
            },
          ],
        },
      },
    ],
  };
}

export function createEchoserver(
  a: EchoArgs,
  opts: pulumi.CustomResourceOptions,
  dependsOn: pulumi.Resource[],
): { deployment: k8s.apps.v1.Deployment; ingress: k8s.networking.v1.Ingress } {
  const meta = { name: E.name, namespace: a.namespace, labels: { ...ECHO_SELECTOR } };
  const withDeps = { ...opts, dependsOn };
  const deployment = new k8s.apps.v1.Deployment(
    E.name,
    { metadata: meta, spec: echoDeploymentSpec(a) },
    withDeps,
  );
  new k8s.policy.v1.PodDisruptionBudget(
    `${E.name}-pdb`,
    {
      metadata: meta,
      spec: {
        minAvailable: minAvailableFor(a.replicas),
        selector: { matchLabels: { ...ECHO_SELECTOR } },
      },
    },
    withDeps,
  );
  const service = new k8s.core.v1.Service(
    `${E.name}-svc`,
    {
      metadata: meta,
      spec: {
        type: "ClusterIP",
        selector: { ...ECHO_SELECTOR },
        ports: [{ name: "http", port: E.port, targetPort: "http", protocol: "TCP" }],
      },
    },
    withDeps,
  );
  const ingress = new k8s.networking.v1.Ingress(
    `${E.name}-ingress`,
    { metadata: { ...meta, annotations: a.ingressAnnotations }, spec: echoIngressSpec(a) },
    { ...opts, dependsOn: [...dependsOn, service] },
  );
  return { deployment, ingress };
}
