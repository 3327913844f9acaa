import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateClusterCommand,
  CreateNodegroupCommand,
  DescribeNodegroupCommand,
  EKSClient,
} from "@aws-sdk/client-eks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/engine/ports.js";
import { findAsgName } from "../../src/migrations/own-stack/asg-discovery.js";
import { asgProbe } from "../../src/probes/asg-probe.js";
import {
  MOTO_CREDENTIALS,
  MOTO_DEFAULT_AMI,
  MOTO_REGION,
  type MotoPaths,
  motoEndpoint,
  motoPaths,
  startMoto,
  stopMoto,
} from "../../src/sandbox/moto.js";
import { allocatePortBlock } from "../../src/sandbox/ports.js";
import { toolchain } from "../../src/sandbox/toolchain.js";
import { requireForTest, uniqueName } from "../helpers/sandbox.js";

// How a plan's ASG gates find your node groups' Auto Scaling groups, against moto's EKS and
// Auto Scaling APIs (the same SDK calls as on AWS): an EKS managed node group through
// DescribeNodegroup (its resources.autoScalingGroups), a self-managed one by its tags
// (exactly one group must match); then the ASG gate on the group found through EKS.

let dir: string;
let paths: MotoPaths;
let endpoint: string;
let asg: AutoScalingClient;
const signal = new AbortController().signal;
const eksClient = () =>
  new EKSClient({ region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS });
const clients = () => ({ asg, eks: eksClient });

async function createGroup(name: string, tags: Record<string, string>, desired = 0) {
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchConfigurationName: "discovery-lc",
      MinSize: 0,
      MaxSize: 5,
      DesiredCapacity: desired,
      AvailabilityZones: ["us-east-1a"],
      Tags: Object.entries(tags).map(([Key, Value]) => ({
        Key,
        Value,
        PropagateAtLaunch: true,
        ResourceId: name,
        ResourceType: "auto-scaling-group",
      })),
    }),
  );
}

/** The probe's first passing report (or its last one when the time runs out). */
async function firstPass(observe: (s: AbortSignal, r: (p: ProbeResult) => void) => Promise<void>) {
  const stop = new AbortController();
  let last: ProbeResult | undefined;
  const timer = setTimeout(() => stop.abort(), 15_000);
  await new Promise<void>((resolve) => {
    stop.signal.addEventListener("abort", () => resolve(), { once: true });
    void observe(stop.signal, (r) => {
      last = r;
      if (r.ok) stop.abort();
    }).catch(() => resolve());
  });
  clearTimeout(timer);
  return last;
}

beforeAll(async () => {
  await requireForTest(["moto"]);
  dir = mkdtempSync(join(tmpdir(), "own-stack-asg-"));
  paths = motoPaths(dir, dir);
  const [port] = (await allocatePortBlock(uniqueName("own-stack-asg"), 1)) as [number];
  await startMoto(toolchain(), paths, port);
  endpoint = motoEndpoint(port);
  asg = new AutoScalingClient({ region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS });
  await asg.send(
    new CreateLaunchConfigurationCommand({
      LaunchConfigurationName: "discovery-lc",
      ImageId: MOTO_DEFAULT_AMI,
      InstanceType: "m5.large",
    }),
  );
});

afterAll(async () => {
  asg?.destroy();
  if (paths) await stopMoto(paths);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("own stack: finding a node group's Auto Scaling group", () => {
  it("by tags: exactly one group must carry them", async () => {
    await createGroup("shop-blue-asg", {
      "eks:cluster-name": "shop",
      "eks:nodegroup-name": "blue",
    });
    await createGroup("shop-green-asg", {
      "eks:cluster-name": "shop",
      "eks:nodegroup-name": "green",
    });
    await createGroup("lab-blue-asg", { "eks:cluster-name": "lab", "eks:nodegroup-name": "blue" });

    const found = await findAsgName(
      { tags: { "eks:cluster-name": "shop", "eks:nodegroup-name": "blue" } },
      clients(),
      signal,
    );
    expect(found).toBe("shop-blue-asg");
    await expect(
      findAsgName({ tags: { "eks:nodegroup-name": "blue" } }, clients(), signal),
    ).rejects.toThrow(
      /^2 Auto Scaling groups carry the tags \{"eks:nodegroup-name":"blue"\}: (shop|lab)-blue-asg, (shop|lab)-blue-asg; exactly one must$/,
    );
    await expect(
      findAsgName({ tags: { "eks:nodegroup-name": "purple" } }, clients(), signal),
    ).rejects.toThrow(/^0 Auto Scaling groups carry the tags/);
  });

  it("through EKS DescribeNodegroup, then the ASG gate on the group it names", async () => {
    const eks = eksClient();
    try {
      await eks.send(
        new CreateClusterCommand({
          name: "shop",
          roleArn: "arn:aws:iam::123456789012:role/shop-cluster",
          resourcesVpcConfig: { subnetIds: ["subnet-0a1b2c3d"] },
        }),
      );
      await eks.send(
        new CreateNodegroupCommand({
          clusterName: "shop",
          nodegroupName: "green",
          nodeRole: "arn:aws:iam::123456789012:role/shop-nodes",
          subnets: ["subnet-0a1b2c3d"],
          scalingConfig: { minSize: 0, maxSize: 5, desiredSize: 2 },
          instanceTypes: ["m6i.large"],
        }),
      );
      const described = await eks.send(
        new DescribeNodegroupCommand({ clusterName: "shop", nodegroupName: "green" }),
      );
      const expected = described.nodegroup?.resources?.autoScalingGroups?.[0]?.name;
      expect(expected).toMatch(/^eks-/);

      const found = await findAsgName(
        { eksNodegroup: { cluster: "shop", nodegroup: "green" } },
        clients(),
        signal,
      );
      expect(found).toBe(expected);

      // On AWS, EKS creates that group; here the test does, with the node group's size.
      await createGroup(found!, { "eks:cluster-name": "shop", "eks:nodegroup-name": "green" }, 2);
      const gate = await firstPass((s, r) =>
        asgProbe(asg, { groupName: found!, inService: 2 }).observe(s, r),
      );
      expect(gate?.ok).toBe(true);
      expect(gate?.reason).toContain(found!);

      await expect(
        findAsgName({ eksNodegroup: { cluster: "shop", nodegroup: "purple" } }, clients(), signal),
      ).rejects.toThrow(/^EKS has no node group purple in cluster shop \(DescribeNodegroup: /);
    } finally {
      eks.destroy();
    }
  });

  it("by name, or none (Karpenter: the ASG gates are off)", async () => {
    expect(await findAsgName({ name: "given" }, clients(), signal)).toBe("given");
    expect(await findAsgName("none", clients(), signal)).toBeUndefined();
    expect(await findAsgName(undefined, clients(), signal)).toBeUndefined();
  });
});
