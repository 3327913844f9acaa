import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DeleteAutoScalingGroupCommand,
  SetDesiredCapacityCommand,
} from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asgProbe } from "../../src/probes/asg-probe.js";
import { MOTO_CREDENTIALS, MOTO_DEFAULT_AMI, MOTO_REGION } from "../../src/sandbox/moto.js";
import { startTestSandbox, type TestSandbox } from "../helpers/sandbox.js";
import { ProbeRecorder } from "./probes-kit.js";

// The ASG probe against the sandbox's moto server: the same AWS SDK calls as on AWS,
// with an endpoint override.

let sb: TestSandbox;
let asg: AutoScalingClient;
const GROUP = "probe-asg-old";

beforeAll(async () => {
  sb = await startTestSandbox("asg");
  asg = new AutoScalingClient({
    region: MOTO_REGION,
    endpoint: sb.info.motoEndpoint,
    credentials: MOTO_CREDENTIALS,
  });
  await asg.send(
    new CreateLaunchConfigurationCommand({
      LaunchConfigurationName: `${GROUP}-lc`,
      ImageId: MOTO_DEFAULT_AMI,
      InstanceType: "t3.2xlarge",
    }),
  );
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: GROUP,
      LaunchConfigurationName: `${GROUP}-lc`,
      MinSize: 0,
      MaxSize: 5,
      DesiredCapacity: 0,
      AvailabilityZones: [`${MOTO_REGION}a`],
    }),
  );
});

afterAll(async () => {
  asg?.destroy();
  await sb?.stop();
});

describe("ASG probe on moto", () => {
  it("sees the group scaled up and down, then gone", async () => {
    const desired = new ProbeRecorder(asgProbe(asg, { groupName: GROUP, inService: "desired" }));
    const three = new ProbeRecorder(asgProbe(asg, { groupName: GROUP, inService: 3 }));
    const gone = new ProbeRecorder(asgProbe(asg, { groupName: GROUP, gone: true }));
    try {
      expect(await desired.until(() => true, 10_000)).toEqual({
        ok: true,
        reason: `ASG ${GROUP}: 0/0 InService (desired 0)`,
      });
      expect((await three.until(() => true, 10_000)).reason).toBe(
        `ASG ${GROUP}: 0/3 InService (desired 0); desired is 0, expected 3; no instances`,
      );
      expect((await gone.until(() => true, 10_000)).reason).toBe(
        `ASG ${GROUP} still exists: no instances`,
      );

      // Scale up
      await asg.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 3 }),
      );
      expect((await three.until((r) => r.ok, 10_000)).reason).toBe(
        `ASG ${GROUP}: 3/3 InService (desired 3)`,
      );
      await desired.until((r) => r.ok && r.reason.includes("3/3"), 10_000);

      // Scale down
      await asg.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 1 }),
      );
      expect(
        (await desired.until((r) => r.ok && r.reason.includes("desired 1"), 10_000)).reason,
      ).toBe(`ASG ${GROUP}: 1/1 InService (desired 1)`);
      const notThree = await three.until((r) => !r.ok, 10_000);
      expect(notThree.reason).toMatch(
        new RegExp(
          `^ASG ${GROUP}: 1/3 InService \\(desired 1\\); desired is 1, expected 3; InService: i-\\w+$`,
        ),
      );

      // Remove
      await asg.send(
        new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, ForceDelete: true }),
      );
      expect(await gone.until((r) => r.ok, 10_000)).toEqual({
        ok: true,
        reason: `ASG ${GROUP} is gone`,
      });
      expect((await desired.until((r) => !r.ok, 10_000)).reason).toBe(`ASG ${GROUP} not found`);
    } finally {
      await Promise.all([desired.stop(), three.stop(), gone.stop()]);
    }
  });

  it("reports an unreachable endpoint as a failing result, not an exception", async () => {
    const nowhere = new AutoScalingClient({
      region: MOTO_REGION,
      endpoint: "http://127.0.0.1:9",
      credentials: MOTO_CREDENTIALS,
      maxAttempts: 1,
    });
    const probe = new ProbeRecorder(asgProbe(nowhere, { groupName: GROUP, inService: "desired" }));
    try {
      const r = await probe.until(() => true, 15_000);
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(
        new RegExp(`^ASG ${GROUP}: Auto Scaling API call failed \\(.*ECONNREFUSED`),
      );
    } finally {
      await probe.stop();
      nowhere.destroy();
    }
  });
});
