import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
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

export async function findAsgName(
  d: AsgDiscovery | undefined,
  asg: AutoScalingClient,
  region: string | undefined,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (d === undefined || d === "none") return undefined;
  if ("name" in d) return d.name;
  if ("tags" in d) {
    const { DescribeAutoScalingGroupsCommand } = await import("@aws-sdk/client-auto-scaling");
    const out = await asg.send(
      new DescribeAutoScalingGroupsCommand({
        Filters: Object.entries(d.tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
      }),
      { abortSignal: signal },
    );
    const names = (out.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName ?? "");
    if (names.length !== 1) {
      throw new Error(
        `${names.length} Auto Scaling groups carry the tags ${JSON.stringify(d.tags)}${names.length ? `: ${names.join(", ")}` : ""}; exactly one must`,
      );
    }
    return names[0];
  }
  const { EKSClient, DescribeNodegroupCommand } = await import("@aws-sdk/client-eks");
  const eks = new EKSClient(region ? { region } : {});
  try {
    const out = await eks.send(
      new DescribeNodegroupCommand({
        clusterName: d.eksNodegroup.cluster,
        nodegroupName: d.eksNodegroup.nodegroup,
      }),
      { abortSignal: signal },
    );
    const name = out.nodegroup?.resources?.autoScalingGroups?.[0]?.name;
    if (!name)
      throw new Error(`EKS node group ${d.eksNodegroup.nodegroup} has no Auto Scaling group`);
    return name;
  } finally {
    eks.destroy();
  }
}
