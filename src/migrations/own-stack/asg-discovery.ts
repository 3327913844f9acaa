import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EKSClient } from "@aws-sdk/client-eks";
import type { AsgDiscovery } from "./plan-schema.js";

// Finding a node group's Auto Scaling group, as the plan says:
// - by name;
// - through EKS: a managed node group's ASG is `nodegroup.resources.autoScalingGroups[].name`
//   of DescribeNodegroup (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeNodegroup.html,
//   NodegroupResources.autoScalingGroups);
// - by tags: DescribeAutoScalingGroups with `tag:<key>` filters
//   (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html,
//   Filters: "tag:<key>"); exactly one group must match.
// Undefined: the plan names no ASG (Karpenter, or not asked): the ASG gates are off.

export interface AsgDiscoveryClients {
  asg: AutoScalingClient;
  /** An EKS client for the same account, region and endpoint; destroyed after use. */
  eks: () => EKSClient;
}

export async function findAsgName(
  d: AsgDiscovery | undefined,
  clients: AsgDiscoveryClients,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (d === undefined || d === "none") return undefined;
  if ("name" in d) return d.name;
  if ("tags" in d) {
    const { DescribeAutoScalingGroupsCommand } = await import("@aws-sdk/client-auto-scaling");
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const out = await clients.asg.send(
        new DescribeAutoScalingGroupsCommand({
          Filters: Object.entries(d.tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
          ...(NextToken ? { NextToken } : {}),
        }),
        { abortSignal: signal },
      );
      for (const g of out.AutoScalingGroups ?? []) names.push(g.AutoScalingGroupName ?? "");
      NextToken = out.NextToken;
    } while (NextToken);
    if (names.length !== 1) {
      throw new Error(
        `${names.length} Auto Scaling groups carry the tags ${JSON.stringify(d.tags)}${names.length ? `: ${names.join(", ")}` : ""}; exactly one must`,
      );
    }
    return names[0];
  }
  const { DescribeNodegroupCommand } = await import("@aws-sdk/client-eks");
  const { cluster, nodegroup } = d.eksNodegroup;
  const eks = clients.eks();
  try {
    const out = await eks.send(
      new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }),
      { abortSignal: signal },
    );
    const groups = (out.nodegroup?.resources?.autoScalingGroups ?? []).flatMap((g) =>
      g.name ? [g.name] : [],
    );
    if (groups.length !== 1) {
      throw new Error(
        `EKS node group ${nodegroup} of cluster ${cluster} has ${groups.length} Auto Scaling groups${groups.length ? ` (${groups.join(", ")})` : ""}; the ASG gates need exactly one`,
      );
    }
    return groups[0];
  } catch (err) {
    if (err instanceof Error && err.name === "ResourceNotFoundException") {
      throw new Error(
        `EKS has no node group ${nodegroup} in cluster ${cluster} (DescribeNodegroup: ${err.message})`,
      );
    }
    throw err;
  } finally {
    eks.destroy();
  }
}
