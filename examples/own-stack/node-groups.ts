import * as pulumi from "@pulumi/pulumi";

// Our node groups. In production each is an EKS self-managed group (launch template + Auto
// Scaling group); for the rehearsal they are Auto Scaling groups in the eks-runbook
// sandbox's AWS API emulator, whose node-group controller turns every InService instance
// into a Node carrying the labels below (read from the group's tags).
//
// A dynamic provider: its methods are serialised into the stack and run by the Pulumi
// engine later, so they load the AWS SDK themselves and capture only plain data.

export interface NodeGroupInputs {
  name: string;
  endpoint: string;
  region: string;
  cluster: string;
  instanceType: string;
  kubeletVersion: string;
  size: number;
  labels: Record<string, string>;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: NodeGroupInputs, news: NodeGroupInputs) {
    const replaces = ["name", "region", "cluster", "instanceType"].filter(
      (k) =>
        JSON.stringify(olds[k as keyof NodeGroupInputs]) !==
        JSON.stringify(news[k as keyof NodeGroupInputs]),
    );
    const changes =
      replaces.length > 0 ||
      ["size", "kubeletVersion", "labels", "endpoint"].some(
        (k) =>
          JSON.stringify(olds[k as keyof NodeGroupInputs]) !==
          JSON.stringify(news[k as keyof NodeGroupInputs]),
      );
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(p: NodeGroupInputs) {
    const sdk = require("@aws-sdk/client-auto-scaling");
    const c = new sdk.AutoScalingClient({
      region: p.region,
      endpoint: p.endpoint,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    const lc = `${p.name}-${p.instanceType}`;
    const have = await c.send(
      new sdk.DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [lc] }),
    );
    if ((have.LaunchConfigurations ?? []).length === 0) {
      await c.send(
        new sdk.CreateLaunchConfigurationCommand({
          LaunchConfigurationName: lc,
          ImageId: "ami-1e749f67",
          InstanceType: p.instanceType,
        }),
      );
    }
    const tags = {
      "eks-runbook/cluster": p.cluster,
      "eks-runbook/node-group": p.name,
      "eks-runbook/instance-type": p.instanceType,
      "eks-runbook/kubelet-version": p.kubeletVersion,
      "eks-runbook/labels": JSON.stringify(p.labels),
      "eks-runbook/taints": "[]",
    };
    const exists = await c.send(
      new sdk.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [p.name] }),
    );
    if ((exists.AutoScalingGroups ?? []).length === 0) {
      await c.send(
        new sdk.CreateAutoScalingGroupCommand({
          AutoScalingGroupName: p.name,
          LaunchConfigurationName: lc,
          MinSize: p.size,
          MaxSize: Math.max(p.size, 1),
          DesiredCapacity: p.size,
          AvailabilityZones: [`${p.region}a`, `${p.region}b`],
          Tags: Object.entries(tags).map(([Key, Value]) => ({
            Key,
            Value,
            PropagateAtLaunch: true,
            ResourceId: p.name,
            ResourceType: "auto-scaling-group",
          })),
        }),
      );
    }
    return { id: p.name, outs: p };
  },
  async update(_id: string, _olds: NodeGroupInputs, p: NodeGroupInputs) {
    const sdk = require("@aws-sdk/client-auto-scaling");
    const c = new sdk.AutoScalingClient({
      region: p.region,
      endpoint: p.endpoint,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    await c.send(
      new sdk.UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: p.name,
        MinSize: p.size,
        MaxSize: Math.max(p.size, 1),
        DesiredCapacity: p.size,
      }),
    );
    await c.send(
      new sdk.CreateOrUpdateTagsCommand({
        Tags: [
          ["eks-runbook/kubelet-version", p.kubeletVersion],
          ["eks-runbook/labels", JSON.stringify(p.labels)],
        ].map(([Key, Value]) => ({
          Key,
          Value,
          PropagateAtLaunch: true,
          ResourceId: p.name,
          ResourceType: "auto-scaling-group",
        })),
      }),
    );
    return { outs: p };
  },
  async delete(id: string, p: NodeGroupInputs) {
    const sdk = require("@aws-sdk/client-auto-scaling");
    const c = new sdk.AutoScalingClient({
      region: p.region,
      endpoint: p.endpoint,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    await c.send(
      new sdk.DeleteAutoScalingGroupCommand({ AutoScalingGroupName: id, ForceDelete: true }),
    );
    await c.send(
      new sdk.DeleteLaunchConfigurationCommand({
        LaunchConfigurationName: `${p.name}-${p.instanceType}`,
      }),
    );
  },
};

/**
 * An explicit provider for the node groups: the engine gives the *default* dynamic provider
 * the whole stack config as inputs, so every config change would show up as a provider
 * update in previews; this one has no inputs.
 */
export class NodeGroupProvider extends pulumi.ProviderResource {
  constructor(name: string, opts?: pulumi.ResourceOptions) {
    super("pulumi-nodejs", name, {}, opts);
  }
}

/** One node group: an Auto Scaling group whose instances join the cluster with `labels`. */
export class NodeGroup extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { [K in keyof NodeGroupInputs]: pulumi.Input<NodeGroupInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(provider, name, { ...args }, opts, "shop", "NodeGroup");
  }
}
