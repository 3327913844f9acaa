import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { ASG_TAG, decodeNodeGroupTags, type NodeGroupTags } from "../../infra/asg-tags.js";

// One look at the Auto Scaling groups of a cluster, as the node-group controller needs it.
// The Auto Scaling API has no watch, so the controller calls this on a short interval; the
// answer is either complete (every page read) or an error, never a partial list, because a
// partial list would look like terminated instances.

export interface ObservedInstance {
  instanceId: string;
  zone: string;
  /** Pending, InService, Terminating, Terminated, Standby, … (moto 5.2.5 removes instances
   * from the group at once on scale-in, so it only ever shows InService). */
  lifecycleState: string;
}

export interface ObservedGroup {
  asgName: string;
  /** Undefined when the group is tagged for the cluster but its other tags do not decode. */
  tags?: NodeGroupTags;
  tagError?: string;
  instances: ObservedInstance[];
}

function tagMap(g: AutoScalingGroup): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of g.Tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

/** Turns one described group into what the controller uses; undefined if not the cluster's. */
export function observeGroup(g: AutoScalingGroup, cluster: string): ObservedGroup | undefined {
  const tags = tagMap(g);
  if (tags[ASG_TAG.cluster] !== cluster) return undefined;
  const asgName = g.AutoScalingGroupName ?? "";
  const instances = (g.Instances ?? []).map((i) => ({
    instanceId: i.InstanceId ?? "",
    zone: i.AvailabilityZone ?? "",
    lifecycleState: String(i.LifecycleState ?? ""),
  }));
  try {
    const decoded = decodeNodeGroupTags(tags);
    if (!decoded) {
      return {
        asgName,
        tagError: `Auto Scaling group ${asgName} is tagged for cluster ${cluster} but lacks ${ASG_TAG.nodeGroup}, ${ASG_TAG.instanceType} or ${ASG_TAG.kubeletVersion}`,
        instances,
      };
    }
    return { asgName, tags: decoded, instances };
  } catch (err) {
    return {
      asgName,
      tagError: `Auto Scaling group ${asgName}: tag ${ASG_TAG.labels} or ${ASG_TAG.taints} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      instances,
    };
  }
}

/** Every group of the cluster, all pages; throws on any error. */
export async function describeClusterGroups(
  client: AutoScalingClient,
  cluster: string,
  signal: AbortSignal,
): Promise<ObservedGroup[]> {
  const out: ObservedGroup[] = [];
  let token: string | undefined;
  // Bounded: 100 pages of 100 groups is far beyond any sandbox.
  for (let page = 0; page < 100; page++) {
    const res = await client.send(
      new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, NextToken: token }),
      { abortSignal: signal },
    );
    for (const g of res.AutoScalingGroups ?? []) {
      const o = observeGroup(g, cluster);
      if (o) out.push(o);
    }
    token = res.NextToken;
    if (!token) return out;
  }
  throw new Error("DescribeAutoScalingGroups returned more than 100 pages");
}
