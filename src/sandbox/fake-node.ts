import type { CoreV1Api, V1Node, V1Taint } from "@kubernetes/client-node";
import type { Taint } from "../infra/spec.js";
import { nodeReadiness } from "../kube/nodes.js";

// A kwok fake Node: kwok simulates its kubelet (Ready condition, heartbeats, pods on it) but
// never creates nodes, so we do. Status may be set on create ("Nodes allow *all* fields,
// including status, to be set on create"), and kwok's node-initialize stage keeps the
// capacity, allocatable and nodeInfo it finds; later status changes would need /status.

/** Annotation that tells the sandbox's kwok controller this node is one of its fakes. */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type";
export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const REGION_LABEL = "topology.kubernetes.io/region";
export const HOSTNAME_LABEL = "kubernetes.io/hostname";

export interface NodeResources {
  cpu: string;
  memory: string;
  pods: string;
  /** Other resources (ephemeral-storage, …), as quantities. */
  [resource: string]: string;
}

export interface FakeNodeSpec {
  /** Node name (on EKS the instance's private DNS name, e.g. ip-10-0-1-23.ec2.internal). */
  name: string;
  instanceType: string;
  /** Full kubelet version reported in status.nodeInfo, e.g. "v1.32.9". */
  kubeletVersion: string;
  capacity: NodeResources;
  /** Defaults to capacity. */
  allocatable?: NodeResources;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  taints?: readonly Taint[];
  /** e.g. aws:///us-east-1a/i-0123456789abcdef0 (see awsProviderID). */
  providerID?: string;
  /** Availability zone; sets topology.kubernetes.io/zone and region labels. */
  zone?: string;
  /**
   * The node's private IP (status.addresses InternalIP, next to its Hostname). Never
   * loopback; kwok keeps addresses given at creation.
   */
  internalIP?: string;
  /** Pod CIDR for this node (kwok assigns pod IPs from its own pool either way). */
  podCIDR?: string;
  unschedulable?: boolean;
}

/** The providerID a real EKS node carries for an EC2 instance. */
export function awsProviderID(zone: string, instanceId: string): string {
  return `aws:///${zone}/${instanceId}`;
}

/** Normalises "1.32.9" to "v1.32.9"; a kubelet version must be a full semver. */
export function normaliseKubeletVersion(v: string): string {
  const s = v.startsWith("v") ? v : `v${v}`;
  if (!/^v\d+\.\d+\.\d+([-+].*)?$/.test(s)) {
    throw new Error(`kubelet version "${v}" must be a full version like v1.32.9`);
  }
  return s;
}

/** Builds the Node object (metadata, spec and status) without talking to the API. */
export function buildFakeNode(spec: FakeNodeSpec): V1Node {
  const kubeletVersion = normaliseKubeletVersion(spec.kubeletVersion);
  const labels: Record<string, string> = {
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/os": "linux",
    [HOSTNAME_LABEL]: spec.name,
    [INSTANCE_TYPE_LABEL]: spec.instanceType,
    type: "kwok",
  };
  if (spec.zone) {
    labels[ZONE_LABEL] = spec.zone;
    labels[REGION_LABEL] = spec.zone.replace(/[a-z]$/, "");
  }
  Object.assign(labels, spec.labels);
  const taints: V1Taint[] = (spec.taints ?? []).map((t) => ({
    key: t.key,
    value: t.value,
    effect: t.effect,
  }));
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: spec.name,
      labels,
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        ...spec.annotations,
        [KWOK_NODE_ANNOTATION]: "fake",
      },
    },
    spec: {
      taints: taints.length > 0 ? taints : undefined,
      providerID: spec.providerID,
      podCIDR: spec.podCIDR,
      podCIDRs: spec.podCIDR ? [spec.podCIDR] : undefined,
      unschedulable: spec.unschedulable,
    },
    status: {
      addresses: spec.internalIP
        ? [
            { type: "InternalIP", address: spec.internalIP },
            { type: "Hostname", address: spec.name },
          ]
        : undefined,
      capacity: { ...spec.capacity },
      allocatable: { ...(spec.allocatable ?? spec.capacity) },
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        osImage: "Amazon Linux 2023 (kwok)",
        kernelVersion: "6.1.0-kwok",
        containerRuntimeVersion: "kwok://fake",
        kubeletVersion,
        kubeProxyVersion: kubeletVersion,
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
    },
  };
}

/** Creates the fake Node; kwok marks it Ready within a moment (watch for it, do not sleep). */
export async function createFakeNode(core: CoreV1Api, spec: FakeNodeSpec): Promise<V1Node> {
  return core.createNode({ body: buildFakeNode(spec) });
}

/** True when the Node is Ready and the control plane has lifted its not-ready taint. */
export function isNodeReady(node: V1Node): boolean {
  return nodeReadiness(node).ready;
}
