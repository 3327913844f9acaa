import { describe, expect, it } from "vitest";
import { encodeNodeGroupTags } from "../../src/infra/asg-tags.js";
import { NODE_GROUP_LABEL } from "../../src/infra/workload-names.js";
import { INSTANCE_TYPES, nodeResourcesFor } from "../../src/sandbox/instance-types.js";
import { type ObservedGroup, observeGroup } from "../../src/sandbox/node-groups/asg-source.js";
import { resolveKubeletVersion } from "../../src/sandbox/node-groups/kubelet-version.js";
import {
  type ManagedNode,
  managedNodeOf,
  NODE_ANNOTATION,
  planNodes,
} from "../../src/sandbox/node-groups/node-plan.js";
import { privateDnsName, privateIpFor } from "../../src/sandbox/node-groups/private-dns.js";

function group(
  asgName: string,
  instances: [id: string, state?: string][],
  over: Partial<Parameters<typeof encodeNodeGroupTags>[0]> = {},
): ObservedGroup {
  const tags = encodeNodeGroupTags({
    cluster: "c1",
    nodeGroup: asgName.replace(/-asg$/, ""),
    instanceType: "c5.4xlarge",
    kubeletVersion: "1.33",
    labels: { role: "ingress" },
    taints: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
    ...over,
  });
  const g = observeGroup(
    {
      AutoScalingGroupName: asgName,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      Instances: instances.map(([InstanceId, state]) => ({
        InstanceId,
        AvailabilityZone: "us-east-1b",
        LifecycleState: (state ?? "InService") as "InService",
        HealthStatus: "Healthy",
        ProtectedFromScaleIn: false,
      })),
      MinSize: 0,
      MaxSize: 5,
      DesiredCapacity: instances.length,
      DefaultCooldown: 0,
      AvailabilityZones: ["us-east-1b"],
      HealthCheckType: "EC2",
      CreatedTime: new Date(),
    },
    "c1",
  );
  if (!g) throw new Error("group not observed");
  return g;
}

const base = {
  cluster: "c1",
  existing: [] as ManagedNode[],
  createdOnce: new Set<string>(),
  firstSeen: new Map<string, number>(),
  now: 10_000,
  bootDelayMs: 1_000,
};

describe("node plan", () => {
  it("creates a Node per InService instance once its boot delay has passed", () => {
    const groups = [group("new-asg", [["i-aaa"], ["i-bbb", "Pending"]])];
    // Given i-aaa was first seen 500 ms ago (boot delay 1 s): nothing yet, due in 500 ms.
    const early = planNodes({ ...base, groups, firstSeen: new Map([["i-aaa", 9_500]]) });
    expect(early.create).toEqual([]);
    expect(early.nextDueInMs).toBe(500);
    // When the delay has passed: exactly one Node, for the InService instance.
    const plan = planNodes({ ...base, groups, firstSeen: new Map([["i-aaa", 8_000]]) });
    expect(plan.create.map((c) => c.instanceId)).toEqual(["i-aaa"]);
    const node = plan.create[0]!.node;
    const ip = privateIpFor("i-aaa");
    expect(node.metadata?.name).toBe(privateDnsName(ip, "us-east-1"));
    expect(node.metadata?.name).toMatch(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
    expect(node.spec?.providerID).toBe("aws:///us-east-1b/i-aaa");
    expect(node.metadata?.labels).toMatchObject({
      "node.kubernetes.io/instance-type": "c5.4xlarge",
      "topology.kubernetes.io/zone": "us-east-1b",
      [NODE_GROUP_LABEL]: "new",
      role: "ingress",
    });
    expect(node.metadata?.annotations).toMatchObject({
      "kwok.x-k8s.io/node": "fake",
      [NODE_ANNOTATION.instanceId]: "i-aaa",
      [NODE_ANNOTATION.cluster]: "c1",
    });
    expect(node.spec?.taints).toEqual([{ key: "nginx", value: "true", effect: "NoSchedule" }]);
    expect(node.status?.capacity).toMatchObject({ cpu: "16", memory: "32768Mi", pods: "234" });
    expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.33.5");
    expect(node.status?.addresses).toContainEqual({ type: "InternalIP", address: ip });
  });

  it("deletes the Node of an instance that left its group, and only that one", () => {
    const existing = [
      { name: "ip-10-0-0-1.ec2.internal", instanceId: "i-keep", privateIp: "10.0.0.1" },
      { name: "ip-10-0-0-2.ec2.internal", instanceId: "i-gone", privateIp: "10.0.0.2" },
      { name: "ip-10-0-0-3.ec2.internal", instanceId: "i-term", privateIp: "10.0.0.3" },
    ];
    const groups = [group("old-asg", [["i-keep"], ["i-term", "Terminating:Wait"]])];
    const plan = planNodes({ ...base, groups, existing });
    expect(plan.delete.map((d) => d.instanceId).sort()).toEqual(["i-gone", "i-term"]);
    expect(plan.create).toEqual([]);
  });

  it("does not recreate a Node deleted while its instance is still InService", () => {
    const groups = [group("old-asg", [["i-1"]])];
    const plan = planNodes({ ...base, groups, createdOnce: new Set(["i-1"]) });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.present.has("i-1")).toBe(true);
  });

  it("deletes every Node of a group scaled to 0 or removed", () => {
    const existing = [
      { name: "a", instanceId: "i-1", privateIp: "10.0.0.1" },
      { name: "b", instanceId: "i-2", privateIp: "10.0.0.2" },
    ];
    expect(planNodes({ ...base, groups: [group("old-asg", [])], existing }).delete).toHaveLength(2);
    expect(planNodes({ ...base, groups: [], existing }).delete).toHaveLength(2);
  });

  it("refuses an unknown instance type with a clear problem and keeps existing Nodes", () => {
    const existing = [{ name: "a", instanceId: "i-1", privateIp: "10.0.0.1" }];
    const groups = [group("odd-asg", [["i-1"], ["i-2"]], { instanceType: "x9.huge" })];
    const plan = planNodes({ ...base, groups, existing });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]!.reason).toBe("UnknownInstanceType");
    expect(plan.problems[0]!.message).toContain('"x9.huge"');
    expect(plan.problems[0]!.message).toContain("t3.medium");
  });

  it("reports a group tagged for the cluster whose tags do not decode", () => {
    const g = group("bad-asg", [["i-1"]]);
    const raw = observeGroup(
      {
        AutoScalingGroupName: "bad-asg",
        Tags: [
          { Key: "eks-runbook/cluster", Value: "c1" },
          { Key: "eks-runbook/node-group", Value: "bad" },
          { Key: "eks-runbook/instance-type", Value: "t3.medium" },
          { Key: "eks-runbook/kubelet-version", Value: "1.33" },
          { Key: "eks-runbook/labels", Value: "{not json" },
        ],
        Instances: g.instances.map((i) => ({
          InstanceId: i.instanceId,
          AvailabilityZone: i.zone,
          LifecycleState: "InService",
          HealthStatus: "Healthy",
          ProtectedFromScaleIn: false,
        })),
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 1,
        DefaultCooldown: 0,
        AvailabilityZones: [],
        HealthCheckType: "EC2",
        CreatedTime: new Date(),
      },
      "c1",
    );
    const plan = planNodes({ ...base, groups: [raw!] });
    expect(plan.problems.map((p) => p.reason)).toEqual(["InvalidNodeGroupTags"]);
    expect(plan.create).toEqual([]);
  });

  it("ignores groups of other clusters", () => {
    expect(
      observeGroup(
        {
          AutoScalingGroupName: "x",
          Tags: [{ Key: "eks-runbook/cluster", Value: "other" }],
          MinSize: 0,
          MaxSize: 1,
          DesiredCapacity: 0,
          DefaultCooldown: 0,
          AvailabilityZones: [],
          HealthCheckType: "EC2",
          CreatedTime: new Date(),
        },
        "c1",
      ),
    ).toBeUndefined();
  });

  it("recognises only its own cluster's Nodes", () => {
    const node = planNodes({ ...base, groups: [group("g-asg", [["i-9"]])], bootDelayMs: 0 })
      .create[0]!.node;
    expect(managedNodeOf(node, "c1")).toMatchObject({ instanceId: "i-9" });
    expect(managedNodeOf(node, "c2")).toBeUndefined();
  });
});

describe("kubelet version", () => {
  it("turns a minor into the patch its AMI ships and passes full versions through", () => {
    expect(resolveKubeletVersion("1.32")).toBe("v1.32.9");
    expect(resolveKubeletVersion("1.33")).toBe("v1.33.5");
    expect(resolveKubeletVersion("v1.31.2")).toBe("v1.31.2");
    expect(resolveKubeletVersion("1.30.1-eks-1")).toBe("v1.30.1-eks-1");
    expect(resolveKubeletVersion("1.40")).toBe("v1.40.0");
    expect(() => resolveKubeletVersion("latest")).toThrow(/minor like "1.32"/);
  });
});

describe("private DNS names", () => {
  it("are stable per instance and avoid addresses taken by other instances", () => {
    const a = privateIpFor("i-0123456789abcdef0");
    expect(privateIpFor("i-0123456789abcdef0")).toBe(a);
    expect(a).toMatch(/^10\.0\.\d{1,3}\.\d{1,3}$/);
    const b = privateIpFor("i-0123456789abcdef0", new Set([a]));
    expect(b).not.toBe(a);
    expect(privateDnsName("10.0.1.23", "us-east-1")).toBe("ip-10-0-1-23.ec2.internal");
    expect(privateDnsName("10.0.1.23", "eu-west-1")).toBe(
      "ip-10-0-1-23.eu-west-1.compute.internal",
    );
  });
});

describe("instance types", () => {
  it("covers the runbook's types and computes EKS allocatable below capacity", () => {
    for (const t of ["t3.medium", "t3.2xlarge", "c5.4xlarge"])
      expect(INSTANCE_TYPES[t]).toBeDefined();
    const r = nodeResourcesFor("t3.medium");
    expect(r.capacity).toMatchObject({ cpu: "2", memory: "4096Mi", pods: "17" });
    // 2 vCPU: 60m + 10m reserved; memory: 255 + 11×17 = 442 MiB reserved + 100 MiB eviction.
    expect(r.allocatable).toMatchObject({ cpu: "1930m", memory: "3554Mi", pods: "17" });
    expect(() => nodeResourcesFor("z1.tiny")).toThrow(/not known to the local sandbox/);
  });
});
