import type { V1Node } from "@kubernetes/client-node";
import { NODE_GROUP_LABEL } from "../../infra/workload-names.js";
import { awsProviderID, buildFakeNode } from "../fake-node.js";
import { nodeResourcesFor } from "../instance-types.js";
import type { ObservedGroup } from "./asg-source.js";
import { resolveKubeletVersion } from "./kubelet-version.js";
import { privateDnsName, privateIpFor, regionOfZone } from "./private-dns.js";

// The node-group controller's decision, as a pure function: given the groups moto reports,
// the Nodes this controller made that still exist, and what it remembers, which Nodes to
// create and which to delete. Everything with side effects lives in controller.ts.

/** Annotations on every Node this controller creates (how it recognises its own). */
export const NODE_ANNOTATION = {
  cluster: "eks-runbook.dev/cluster",
  instanceId: "eks-runbook.dev/instance-id",
  asg: "eks-runbook.dev/auto-scaling-group",
  privateIp: "eks-runbook.dev/private-ip",
} as const;

export interface ManagedNode {
  name: string;
  instanceId: string;
  privateIp: string;
}

/** The managed-node view of a Node, or undefined when it is not this cluster's. */
export function managedNodeOf(node: V1Node, cluster: string): ManagedNode | undefined {
  const a = node.metadata?.annotations ?? {};
  const instanceId = a[NODE_ANNOTATION.instanceId];
  if (a[NODE_ANNOTATION.cluster] !== cluster || !instanceId || !node.metadata?.name) return;
  return { name: node.metadata.name, instanceId, privateIp: a[NODE_ANNOTATION.privateIp] ?? "" };
}

export interface NodePlanInput {
  cluster: string;
  groups: readonly ObservedGroup[];
  existing: readonly ManagedNode[];
  /** Instance ids whose Node was created once (a Node deleted later is not recreated). */
  createdOnce: ReadonlySet<string>;
  /** Instance id → when it was first seen InService (ms). */
  firstSeen: ReadonlyMap<string, number>;
  now: number;
  /** How long an instance boots before its Node registers (already scaled). */
  bootDelayMs: number;
}

export interface NodeToCreate {
  instanceId: string;
  group: string;
  asgName: string;
  node: V1Node;
}

export interface NodeProblem {
  asgName: string;
  /** Stable key so a problem is reported once, not on every poll. */
  key: string;
  reason: "InvalidNodeGroupTags" | "UnknownInstanceType" | "InvalidKubeletVersion";
  message: string;
}

export interface NodePlan {
  create: NodeToCreate[];
  delete: { name: string; instanceId: string }[];
  problems: NodeProblem[];
  /** Instances InService whose boot delay has not passed; ms until the earliest is due. */
  nextDueInMs?: number;
  /** Instance ids currently InService in any group. */
  inService: Set<string>;
  /** Instance ids in any group and not terminating (what is remembered is pruned to it). */
  present: Set<string>;
}

const GONE_STATES = /^(Terminating|Terminated)/;

export function planNodes(input: NodePlanInput): NodePlan {
  const present = new Set<string>();
  const plan: NodePlan = { create: [], delete: [], problems: [], inService: new Set(), present };
  const existingByInstance = new Map(input.existing.map((n) => [n.instanceId, n]));
  const taken = new Set(input.existing.map((n) => n.privateIp).filter(Boolean));

  for (const g of input.groups) {
    for (const i of g.instances) {
      if (!GONE_STATES.test(i.lifecycleState)) present.add(i.instanceId);
      if (i.lifecycleState === "InService") plan.inService.add(i.instanceId);
    }
    if (!g.tags) {
      plan.problems.push({
        asgName: g.asgName,
        key: `${g.asgName}:tags`,
        reason: "InvalidNodeGroupTags",
        message: g.tagError ?? `Auto Scaling group ${g.asgName} has invalid tags`,
      });
      continue;
    }
    const tags = g.tags;
    let resources: ReturnType<typeof nodeResourcesFor>;
    let kubeletVersion: string;
    try {
      resources = nodeResourcesFor(tags.instanceType);
    } catch (err) {
      plan.problems.push({
        asgName: g.asgName,
        key: `${g.asgName}:type:${tags.instanceType}`,
        reason: "UnknownInstanceType",
        message: `node group ${tags.nodeGroup} (${g.asgName}): ${(err as Error).message}`,
      });
      continue;
    }
    try {
      kubeletVersion = resolveKubeletVersion(tags.kubeletVersion);
    } catch (err) {
      plan.problems.push({
        asgName: g.asgName,
        key: `${g.asgName}:kubelet:${tags.kubeletVersion}`,
        reason: "InvalidKubeletVersion",
        message: `node group ${tags.nodeGroup} (${g.asgName}): ${(err as Error).message}`,
      });
      continue;
    }

    for (const i of g.instances) {
      if (i.lifecycleState !== "InService") continue;
      if (existingByInstance.has(i.instanceId) || input.createdOnce.has(i.instanceId)) continue;
      const seen = input.firstSeen.get(i.instanceId) ?? input.now;
      const dueIn = seen + input.bootDelayMs - input.now;
      if (dueIn > 0) {
        plan.nextDueInMs = Math.min(plan.nextDueInMs ?? dueIn, dueIn);
        continue;
      }
      const ip = privateIpFor(i.instanceId, taken);
      taken.add(ip);
      const name = privateDnsName(ip, regionOfZone(i.zone));
      const node = buildFakeNode({
        name,
        instanceType: tags.instanceType,
        kubeletVersion,
        capacity: resources.capacity,
        allocatable: resources.allocatable,
        zone: i.zone,
        providerID: awsProviderID(i.zone, i.instanceId),
        labels: { ...tags.labels, [NODE_GROUP_LABEL]: tags.nodeGroup },
        taints: tags.taints,
        annotations: {
          [NODE_ANNOTATION.cluster]: input.cluster,
          [NODE_ANNOTATION.instanceId]: i.instanceId,
          [NODE_ANNOTATION.asg]: g.asgName,
          [NODE_ANNOTATION.privateIp]: ip,
        },
      });
      // What a kubelet registers (kwok keeps addresses it finds).
      node.status = {
        ...node.status,
        addresses: [
          { type: "InternalIP", address: ip },
          { type: "InternalDNS", address: name },
          { type: "Hostname", address: name },
        ],
      };
      plan.create.push({
        instanceId: i.instanceId,
        group: tags.nodeGroup,
        asgName: g.asgName,
        node,
      });
    }
  }

  for (const n of input.existing) {
    if (!present.has(n.instanceId)) plan.delete.push({ name: n.name, instanceId: n.instanceId });
  }
  return plan;
}
