import type { NodeResources } from "./fake-node.js";

// What a sandbox Node reports for an EC2 instance type: capacity from the type's vCPUs and
// memory, the pod limit EKS derives from the type's ENIs (eni-max-pods), and allocatable
// after the reservations the EKS AMI's bootstrap makes. Only types listed here can back a
// sandbox node group; any other type is refused with the list of known ones.

export interface InstanceTypeInfo {
  vcpu: number;
  memoryMiB: number;
  /** EKS max pods (VPC CNI, no prefix delegation). */
  maxPods: number;
}

export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeInfo>> = {
  "t2.medium": { vcpu: 2, memoryMiB: 4096, maxPods: 17 },
  "t3.small": { vcpu: 2, memoryMiB: 2048, maxPods: 11 },
  "t3.medium": { vcpu: 2, memoryMiB: 4096, maxPods: 17 },
  "t3.large": { vcpu: 2, memoryMiB: 8192, maxPods: 35 },
  "t3.xlarge": { vcpu: 4, memoryMiB: 16384, maxPods: 58 },
  "t3.2xlarge": { vcpu: 8, memoryMiB: 32768, maxPods: 58 },
  "m5.large": { vcpu: 2, memoryMiB: 8192, maxPods: 29 },
  "m5.xlarge": { vcpu: 4, memoryMiB: 16384, maxPods: 58 },
  "m5.2xlarge": { vcpu: 8, memoryMiB: 32768, maxPods: 58 },
  "m5.4xlarge": { vcpu: 16, memoryMiB: 65536, maxPods: 234 },
  "m6i.large": { vcpu: 2, memoryMiB: 8192, maxPods: 29 },
  "m6i.xlarge": { vcpu: 4, memoryMiB: 16384, maxPods: 58 },
  "c5.large": { vcpu: 2, memoryMiB: 4096, maxPods: 29 },
  "c5.xlarge": { vcpu: 4, memoryMiB: 8192, maxPods: 58 },
  "c5.2xlarge": { vcpu: 8, memoryMiB: 16384, maxPods: 58 },
  "c5.4xlarge": { vcpu: 16, memoryMiB: 32768, maxPods: 234 },
  "c6i.4xlarge": { vcpu: 16, memoryMiB: 32768, maxPods: 234 },
  "r5.large": { vcpu: 2, memoryMiB: 16384, maxPods: 29 },
  "r5.xlarge": { vcpu: 4, memoryMiB: 32768, maxPods: 58 },
};

export class UnknownInstanceTypeError extends Error {
  constructor(readonly instanceType: string) {
    super(
      `instance type "${instanceType}" is not known to the local sandbox; use one of: ${Object.keys(
        INSTANCE_TYPES,
      ).join(", ")} (or add it to src/sandbox/instance-types.ts)`,
    );
    this.name = "UnknownInstanceTypeError";
  }
}

export function instanceTypeInfo(instanceType: string): InstanceTypeInfo {
  const info = INSTANCE_TYPES[instanceType];
  if (!info) throw new UnknownInstanceTypeError(instanceType);
  return info;
}

/** The root volume of an EKS node group launch template (20 GiB gp3), in KiB. */
const EPHEMERAL_STORAGE_KI = 20 * 1024 * 1024;

/** kube-reserved CPU as the EKS AMI computes it: 6% of the first core, 1% of the second,
 * 0.5% of the next two, 0.25% of every further core. */
export function kubeReservedMillicores(vcpu: number): number {
  let m = 0;
  for (let core = 1; core <= vcpu; core++) {
    m += core === 1 ? 60 : core === 2 ? 10 : core <= 4 ? 5 : 2.5;
  }
  return Math.ceil(m);
}

/** kube-reserved memory as the EKS AMI computes it: 255 MiB + 11 MiB per pod. */
export function kubeReservedMemoryMiB(maxPods: number): number {
  return 255 + 11 * maxPods;
}

/** Hard eviction threshold memory.available the EKS AMI configures. */
const EVICTION_MEMORY_MIB = 100;

export function nodeResourcesFor(instanceType: string): {
  capacity: NodeResources;
  allocatable: NodeResources;
} {
  const t = instanceTypeInfo(instanceType);
  const capacity: NodeResources = {
    cpu: String(t.vcpu),
    memory: `${t.memoryMiB}Mi`,
    pods: String(t.maxPods),
    "ephemeral-storage": `${EPHEMERAL_STORAGE_KI}Ki`,
  };
  const allocatable: NodeResources = {
    cpu: `${t.vcpu * 1000 - kubeReservedMillicores(t.vcpu)}m`,
    memory: `${t.memoryMiB - kubeReservedMemoryMiB(t.maxPods) - EVICTION_MEMORY_MIB}Mi`,
    pods: String(t.maxPods),
    // kube-reserved ephemeral storage (1 GiB) and the 10% nodefs eviction threshold.
    "ephemeral-storage": `${Math.floor(EPHEMERAL_STORAGE_KI * 0.9) - 1024 * 1024}Ki`,
  };
  return { capacity, allocatable };
}
