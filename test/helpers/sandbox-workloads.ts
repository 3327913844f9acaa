import type { CoreV1Api, V1Deployment, V1Node, V1Pod } from "@kubernetes/client-node";
import { createFakeNode, type FakeNodeSpec, isNodeReady } from "../../src/sandbox/fake-node.js";
import { type TestSandbox, watchUntil } from "./sandbox.js";

// Small builders for the integration tests' fake nodes and workloads.

export const PAUSE_IMAGE = "registry.k8s.io/pause:3.10";

export function nodeSpec(
  name: string,
  instanceType: string,
  kubeletVersion: string,
  extra: Partial<FakeNodeSpec> = {},
): FakeNodeSpec {
  return {
    name,
    instanceType,
    kubeletVersion,
    capacity: { cpu: "8", memory: "32Gi", pods: "110" },
    zone: "us-east-1a",
    ...extra,
  };
}

/** Creates the nodes and waits (watching) until kwok reports every one of them Ready. */
export async function createReadyNodes(sb: TestSandbox, specs: FakeNodeSpec[]): Promise<V1Node[]> {
  for (const s of specs) await createFakeNode(sb.core, s);
  const names = new Set(specs.map((s) => s.name));
  const nodes = await watchUntil<V1Node>(sb.kc, {
    path: "/api/v1/nodes",
    list: () => sb.core.listNode(),
    until: (m) =>
      [...m.values()].filter((n) => names.has(n.metadata!.name!) && isNodeReady(n)).length ===
      names.size,
    describe: (m) =>
      [...m.values()]
        .map((n) => `${n.metadata?.name}:${isNodeReady(n) ? "Ready" : "NotReady"}`)
        .join(", "),
    timeoutMs: 60_000,
  });
  return [...nodes.values()].filter((n) => names.has(n.metadata!.name!));
}

export function isPodReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === "Running" &&
    (pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false)
  );
}

export function describePods(pods: Iterable<V1Pod>): string {
  return [...pods]
    .map(
      (p) =>
        `${p.metadata?.name}@${p.spec?.nodeName ?? "-"}:${p.status?.phase}${p.metadata?.deletionTimestamp ? "(terminating)" : ""}${isPodReady(p) ? "+ready" : ""}`,
    )
    .join(", ");
}

export async function podsOf(core: CoreV1Api, namespace: string, app: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

export interface DeploymentOpts {
  name: string;
  namespace?: string;
  replicas: number;
  /** Required node affinity: node.kubernetes.io/instance-type In these. */
  instanceTypes?: string[];
  tolerations?: { key: string; value: string; effect: string }[];
  /** One pod per node (required hostname anti-affinity). */
  spreadByHostname?: boolean;
  maxSurge?: number;
  maxUnavailable?: number;
  terminationGracePeriodSeconds?: number;
}

export function deployment(o: DeploymentOpts): V1Deployment {
  const labels = { app: o.name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: o.name, namespace: o.namespace ?? "default", labels },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels },
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: o.maxSurge ?? 1, maxUnavailable: o.maxUnavailable ?? 0 },
      },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: o.terminationGracePeriodSeconds ?? 1,
          containers: [{ name: "main", image: PAUSE_IMAGE }],
          tolerations: o.tolerations?.map((t) => ({ ...t, operator: "Equal" })),
          affinity: {
            nodeAffinity: o.instanceTypes
              ? {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                      {
                        matchExpressions: [
                          {
                            key: "node.kubernetes.io/instance-type",
                            operator: "In",
                            values: o.instanceTypes,
                          },
                        ],
                      },
                    ],
                  },
                }
              : undefined,
            podAntiAffinity: o.spreadByHostname
              ? {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    {
                      labelSelector: { matchLabels: labels },
                      topologyKey: "kubernetes.io/hostname",
                    },
                  ],
                }
              : undefined,
          },
        },
      },
    },
  };
}
