import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeNodeGroupTags, encodeNodeGroupTags } from "../../src/infra/asg-tags.js";
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
import { allocatePortBlock, isPortFree } from "../../src/sandbox/ports.js";
import { toolchain } from "../../src/sandbox/toolchain.js";
import { requireForTest, uniqueName } from "../helpers/sandbox.js";

// The local node groups are Auto Scaling groups in moto, driven by the same AWS SDK code
// as on AWS: create a group against the local endpoint and read its instances.

let dir: string;
let paths: MotoPaths;
let port: number;
let asg: AutoScalingClient;

beforeAll(async () => {
  await requireForTest(["moto"]);
  dir = mkdtempSync(join(tmpdir(), "moto-test-"));
  paths = motoPaths(dir, dir);
  [port] = (await allocatePortBlock(uniqueName("moto"), 1)) as [number];
  await startMoto(toolchain(), paths, port);
  asg = new AutoScalingClient({
    endpoint: motoEndpoint(port),
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
  });
});

afterAll(async () => {
  asg?.destroy();
  if (paths) await stopMoto(paths);
  if (port) expect(await isPortFree(port)).toBe(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function instancesOf(name: string) {
  const res = await asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return res.AutoScalingGroups?.[0];
}

describe("moto Auto Scaling groups", () => {
  it("creates a tagged group and reports its InService instances", async () => {
    const name = "old-ng";
    await asg.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: `${name}-lc`,
        ImageId: MOTO_DEFAULT_AMI,
        InstanceType: "t3.2xlarge",
      }),
    );
    const tags = encodeNodeGroupTags({
      cluster: "dev",
      nodeGroup: "old",
      instanceType: "t3.2xlarge",
      kubeletVersion: "1.32",
      labels: { role: "old" },
      taints: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
    });
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchConfigurationName: `${name}-lc`,
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 3,
        AvailabilityZones: ["us-east-1a", "us-east-1b"],
        Tags: Object.entries(tags).map(([Key, Value]) => ({
          Key,
          Value,
          PropagateAtLaunch: true,
          ResourceId: name,
          ResourceType: "auto-scaling-group",
        })),
      }),
    );

    const group = await instancesOf(name);
    expect(group?.Instances).toHaveLength(3);
    for (const i of group?.Instances ?? []) {
      expect(i.LifecycleState).toBe("InService");
      expect(i.HealthStatus).toBe("Healthy");
      expect(i.InstanceId).toMatch(/^i-[0-9a-f]+$/);
      expect(i.InstanceType).toBe("t3.2xlarge");
    }
    const decoded = decodeNodeGroupTags(
      Object.fromEntries((group?.Tags ?? []).map((t) => [t.Key!, t.Value!])),
    );
    expect(decoded).toMatchObject({ cluster: "dev", nodeGroup: "old", labels: { role: "old" } });

    await asg.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: 0 }),
    );
    expect((await instancesOf(name))?.Instances ?? []).toHaveLength(0);

    await asg.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
    );
    expect(await instancesOf(name)).toBeUndefined();
  });
});
