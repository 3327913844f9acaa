import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { GracefulShutdown } from "./graceful-shutdown.js";
import { NGINX_CONTROLLER_IMAGE } from "./images.js";
import { INSTANCE_TYPE_LABEL, WORKLOAD } from "./workload-names.js";

// The NGINX ingress controller: ServiceAccount + RBAC (the rules of the upstream chart for
// this release, minus the admission webhook), the tutorial's ConfigMap, the Deployment
// pinned by instance type, its PDB and the LoadBalancer Service. Everything is named
// explicitly (no auto-naming) so the probes, the drain and the sandbox find it.

const N = WORKLOAD.nginx;
export const NGINX_SELECTOR = { app: N.appLabel } as const;
const LABELS = { ...NGINX_SELECTOR, "app.kubernetes.io/component": "controller" };
const ELECTION_ID = `${N.name}-leader`;
/** The controller serves /healthz and metrics here, not on the traffic port. */
const STATUS_PORT = 10254;

/** Leaves at least one replica free to move: 3+ → 2 (the tutorial's), 2 → 1, 1 → 0. */
export function minAvailableFor(replicas: number): number {
  return Math.max(0, Math.min(2, replicas - 1));
}

/** Required affinity on the instance-type label: the knob step 4 turns. */
export function nginxAffinity(instanceTypes: readonly string[]): k8s.types.input.core.v1.Affinity {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: INSTANCE_TYPE_LABEL, operator: "In", values: [...instanceTypes] },
            ],
          },
        ],
      },
    },
    // One replica per node: losing a node never takes two replicas with it.
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchLabels: { ...NGINX_SELECTOR } },
          topologyKey: "kubernetes.io/hostname",
        },
      ],
    },
  };
}

export const NGINX_TOLERATIONS: k8s.types.input.core.v1.Toleration[] = [
  { ...WORKLOAD.nginxTaint, operator: "Equal" },
];

/** The tutorial's tuning (timeouts, retries on the next upstream) + the derived shutdown
 * and keep-alive timings (graceful-shutdown.ts). */
export function nginxSettings(shutdown: GracefulShutdown): Record<string, string> {
  return {
    "keep-alive": String(shutdown.keepAliveSeconds),
    "keep-alive-requests": "10000",
    "proxy-connect-timeout": "10",
    "proxy-read-timeout": "120",
    "proxy-send-timeout": "120",
    // A request that hits an upstream while it goes away is retried on another one.
    "proxy-next-upstream": "error timeout http_502 http_503 http_504",
    "upstream-keepalive-connections": "128",
    "upstream-keepalive-timeout": String(shutdown.upstreamKeepAliveSeconds),
    "upstream-keepalive-requests": "1000000",
    "worker-processes": "8",
    "worker-shutdown-timeout": `${shutdown.workerShutdownTimeoutSeconds}s`,
    // ingress-nginx has no ConfigMap key for nginx's keepalive_time; the http snippet is
    // the supported way to set an http-level directive.
    ...(shutdown.keepAliveMaxAgeSeconds > 0
      ? { "http-snippet": `keepalive_time ${shutdown.keepAliveMaxAgeSeconds}s;` }
      : {}),
  };
}

const clusterRules: k8s.types.input.rbac.v1.PolicyRule[] = [
  {
    apiGroups: [""],
    resources: ["configmaps", "endpoints", "nodes", "pods", "secrets", "namespaces"],
    verbs: ["list", "watch"],
  },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["list", "watch"] },
  { apiGroups: [""], resources: ["nodes"], verbs: ["get"] },
  { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"] },
  {
    apiGroups: ["networking.k8s.io"],
    resources: ["ingressclasses"],
    verbs: ["get", "list", "watch"],
  },
  {
    apiGroups: ["discovery.k8s.io"],
    resources: ["endpointslices"],
    verbs: ["list", "watch", "get"],
  },
];

const namespaceRules: k8s.types.input.rbac.v1.PolicyRule[] = [
  { apiGroups: [""], resources: ["namespaces"], verbs: ["get"] },
  {
    apiGroups: [""],
    resources: ["configmaps", "pods", "secrets", "endpoints"],
    verbs: ["get", "list", "watch"],
  },
  { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"] },
  {
    apiGroups: ["networking.k8s.io"],
    resources: ["ingressclasses"],
    verbs: ["get", "list", "watch"],
  },
  // Leader election (only the leader writes Ingress status).
  {
    apiGroups: ["coordination.k8s.io"],
    resources: ["leases"],
    resourceNames: [ELECTION_ID],
    verbs: ["get", "update"],
  },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  {
    apiGroups: ["discovery.k8s.io"],
    resources: ["endpointslices"],
    verbs: ["list", "watch", "get"],
  },
];

export interface NginxArgs {
  namespace: string;
  replicas: number;
  instanceTypes: readonly string[];
  shutdown: GracefulShutdown;
  serviceAnnotations: Record<string, string>;
}

export function nginxDeploymentSpec(a: NginxArgs): k8s.types.input.apps.v1.DeploymentSpec {
  return {
    replicas: a.replicas,
    selector: { matchLabels: { ...NGINX_SELECTOR } },
    // Surge one new pod before any old one goes: capacity never drops during a rollout.
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { ...LABELS } },
      spec: {
        serviceAccountName: N.name,
        terminationGracePeriodSeconds: a.shutdown.terminationGracePeriodSeconds,
        affinity: nginxAffinity(a.instanceTypes),
        tolerations: NGINX_TOLERATIONS,
        nodeSelector: { "kubernetes.io/os": "linux" },
        containers: [
          {
            name: "controller",
            image: NGINX_CONTROLLER_IMAGE,
            imagePullPolicy: "IfNotPresent",
            args: [
              "/nginx-ingress-controller",
              `--publish-service=$(POD_NAMESPACE)/${N.name}`,
              `--election-id=${ELECTION_ID}`,
              "--controller-class=k8s.io/ingress-nginx",
              `--ingress-class=${WORKLOAD.ingressClass}`,
              `--configmap=$(POD_NAMESPACE)/${N.name}`,
            ],
            env: [
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              {
                name: "POD_NAMESPACE",
                valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
              },
              { name: "LD_PRELOAD", value: "/usr/local/lib/libmimalloc.so" },
            ],
            ports: [
              { name: "http", containerPort: N.httpPort, protocol: "TCP" },
              { name: "metrics", containerPort: STATUS_PORT, protocol: "TCP" },
            ],
            readinessProbe: {
              httpGet: { path: N.healthPath, port: STATUS_PORT, scheme: "HTTP" },
              initialDelaySeconds: 10,
              periodSeconds: 10,
              timeoutSeconds: 1,
              successThreshold: 1,
              failureThreshold: 3,
            },
            livenessProbe: {
              httpGet: { path: N.healthPath, port: STATUS_PORT, scheme: "HTTP" },
              initialDelaySeconds: 10,
              periodSeconds: 10,
              timeoutSeconds: 1,
              successThreshold: 1,
              failureThreshold: 5,
            },
            // Keep serving while the load balancer stops sending (see graceful-shutdown.ts).
            lifecycle: { preStop: { sleep: { seconds: a.shutdown.preStopSleepSeconds } } },
            resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
              readOnlyRootFilesystem: false,
              runAsNonRoot: true,
              runAsUser: 101,
              runAsGroup: 82,
              seccompProfile: { type: "RuntimeDefault" },
            },
          },
        ],
      },
    },
  };
}

export interface NginxResources {
  deployment: k8s.apps.v1.Deployment;
  service: k8s.core.v1.Service;
}

export function createNginx(
  a: NginxArgs,
  opts: pulumi.CustomResourceOptions,
  dependsOn: pulumi.Resource[],
): NginxResources {
  const meta = { name: N.name, namespace: a.namespace, labels: { ...LABELS } };
  const sa = new k8s.core.v1.ServiceAccount(`${N.name}-sa`, { metadata: meta }, opts);
  const clusterRole = new k8s.rbac.v1.ClusterRole(
    `${N.name}-clusterrole`,
    { metadata: { name: N.name, labels: { ...LABELS } }, rules: clusterRules },
    opts,
  );
  new k8s.rbac.v1.ClusterRoleBinding(
    `${N.name}-clusterrolebinding`,
    {
      metadata: { name: N.name, labels: { ...LABELS } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: N.name },
      subjects: [{ kind: "ServiceAccount", name: N.name, namespace: a.namespace }],
    },
    { ...opts, dependsOn: [clusterRole, sa] },
  );
  const role = new k8s.rbac.v1.Role(
    `${N.name}-role`,
    { metadata: meta, rules: namespaceRules },
    {
      ...opts,
      dependsOn,
    },
  );
  const roleBinding = new k8s.rbac.v1.RoleBinding(
    `${N.name}-rolebinding`,
    {
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: N.name },
      subjects: [{ kind: "ServiceAccount", name: N.name, namespace: a.namespace }],
    },
    { ...opts, dependsOn: [role, sa] },
  );
  const config = new k8s.core.v1.ConfigMap(
    `${N.name}-config`,
    { metadata: meta, data: nginxSettings(a.shutdown) },
    { ...opts, dependsOn },
  );
  const deployment = new k8s.apps.v1.Deployment(
    N.name,
    { metadata: meta, spec: nginxDeploymentSpec(a) },
    { ...opts, dependsOn: [...dependsOn, sa, roleBinding, config] },
  );
  new k8s.policy.v1.PodDisruptionBudget(
    `${N.name}-pdb`,
    {
      metadata: meta,
      spec: {
        minAvailable: minAvailableFor(a.replicas),
        selector: { matchLabels: { ...NGINX_SELECTOR } },
      },
    },
    { ...opts, dependsOn },
  );
  const service = new k8s.core.v1.Service(
    `${N.name}-svc`,
    {
      metadata: { ...meta, annotations: a.serviceAnnotations },
      spec: {
        type: "LoadBalancer",
        selector: { ...NGINX_SELECTOR },
        ports: [{ name: "http", port: N.httpPort, targetPort: "http", protocol: "TCP" }],
      },
    },
    { ...opts, dependsOn },
  );
  return { deployment, service };
}
