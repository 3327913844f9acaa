import type { V1Deployment, V1Node, V1NodeSystemInfo, V1Pod } from "@kubernetes/client-node";
import { INSTANCE_TYPE_LABEL, NODE_GROUP_LABEL } from "../../src/infra/workload-names.js";

// Plain-object builders for the verdict-function tests (no API server involved).

export function node(
  name: string,
  o: {
    group?: string;
    type?: string;
    ready?: boolean | "Unknown";
    reason?: string;
    kubelet?: string;
  } = {},
): V1Node {
  const labels: Record<string, string> = {};
  if (o.group) labels[NODE_GROUP_LABEL] = o.group;
  if (o.type) labels[INSTANCE_TYPE_LABEL] = o.type;
  const ready = o.ready ?? true;
  return {
    metadata: { name, labels },
    status: {
      conditions: [
        {
          type: "Ready",
          status: ready === true ? "True" : ready === false ? "False" : "Unknown",
          ...(o.reason ? { reason: o.reason } : {}),
        },
      ],
      // Only kubeletVersion matters to the probes; the other required fields are noise here.
      nodeInfo: { kubeletVersion: o.kubelet ?? "v1.33.13" } as V1NodeSystemInfo,
    },
  };
}

export function pod(
  name: string,
  o: {
    node?: string;
    ns?: string;
    phase?: string;
    ready?: boolean;
    terminating?: boolean;
    owner?: string | null;
    mirror?: boolean;
    emptyDir?: boolean;
    labels?: Record<string, string>;
  } = {},
): V1Pod {
  const owner = o.owner === undefined ? "ReplicaSet" : o.owner;
  return {
    metadata: {
      name,
      namespace: o.ns ?? "apps",
      uid: `uid-${name}`,
      labels: o.labels ?? { app: "nginx" },
      ...(o.terminating ? { deletionTimestamp: new Date() } : {}),
      ...(o.mirror ? { annotations: { "kubernetes.io/config.mirror": "abc" } } : {}),
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: owner, name: "x", uid: "o", controller: true },
            ],
          }
        : {}),
    },
    spec: {
      containers: [{ name: "c" }],
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.emptyDir ? { volumes: [{ name: "tmp", emptyDir: {} }] } : {}),
    },
    status: {
      phase: o.phase ?? "Running",
      conditions: [{ type: "Ready", status: (o.ready ?? true) ? "True" : "False" }],
    },
  };
}

export function deployment(o: {
  replicas?: number;
  generation?: number;
  observed?: number;
  updated?: number;
  total?: number;
  ready?: number;
  available?: number;
  deadline?: string;
  paused?: boolean;
}): V1Deployment {
  const r = o.replicas ?? 3;
  return {
    metadata: { name: "nginx", namespace: "apps", generation: o.generation ?? 2 },
    spec: {
      replicas: r,
      selector: {},
      template: {},
      ...(o.paused ? { paused: true } : {}),
    },
    status: {
      observedGeneration: o.observed ?? o.generation ?? 2,
      updatedReplicas: o.updated ?? r,
      replicas: o.total ?? r,
      readyReplicas: o.ready ?? r,
      availableReplicas: o.available ?? r,
      conditions: o.deadline
        ? [
            {
              type: "Progressing",
              status: "False",
              reason: "ProgressDeadlineExceeded",
              message: o.deadline,
            },
          ]
        : [{ type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" }],
    },
  };
}
