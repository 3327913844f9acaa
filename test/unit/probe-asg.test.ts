import {
  AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/engine/ports.js";
import { asgProbe, evaluateAsg } from "../../src/probes/asg-probe.js";

function group(desired: number, states: string[], status?: string): AutoScalingGroup {
  return {
    AutoScalingGroupName: "old",
    DesiredCapacity: desired,
    MinSize: 0,
    MaxSize: 10,
    ...(status ? { Status: status } : {}),
    Instances: states.map((s, i) => ({
      InstanceId: `i-${i}`,
      LifecycleState: s as "InService",
      AvailabilityZone: "us-east-1a",
      HealthStatus: "Healthy",
      ProtectedFromScaleIn: false,
    })),
  } as AutoScalingGroup;
}

describe("evaluateAsg", () => {
  it("passes when InService equals desired and nothing is in flight", () => {
    expect(
      evaluateAsg(group(2, ["InService", "InService"]), { groupName: "old", inService: "desired" }),
    ).toEqual({
      ok: true,
      reason: "ASG old: 2/2 InService (desired 2)",
    });
  });

  it("lists instances by lifecycle state while it converges", () => {
    const r = evaluateAsg(group(3, ["InService", "Pending", "Pending"]), {
      groupName: "old",
      inService: "desired",
    });
    expect(r).toEqual({
      ok: false,
      reason: "ASG old: 1/3 InService (desired 3); InService: i-0; Pending: i-1, i-2",
    });
    const leaving = evaluateAsg(group(1, ["InService", "Terminating"]), {
      groupName: "old",
      inService: "desired",
    });
    expect(leaving.ok).toBe(false);
    expect(leaving.reason).toContain("Terminating: i-1");
  });

  it("checks an explicit number against desired too", () => {
    const r = evaluateAsg(group(5, ["InService"]), { groupName: "old", inService: 0 });
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("desired is 5, expected 0");
    expect(evaluateAsg(group(0, []), { groupName: "old", inService: 0 }).ok).toBe(true);
  });

  it("gone mode", () => {
    expect(evaluateAsg(undefined, { groupName: "old", gone: true })).toEqual({
      ok: true,
      reason: "ASG old is gone",
    });
    expect(
      evaluateAsg(group(0, [], "Delete in progress"), { groupName: "old", gone: true }),
    ).toEqual({
      ok: false,
      reason: "ASG old still exists (Delete in progress): no instances",
    });
    expect(evaluateAsg(undefined, { groupName: "old", inService: "desired" })).toEqual({
      ok: false,
      reason: "ASG old not found",
    });
  });
});

describe("asgProbe", () => {
  const asg = mockClient(AutoScalingClient);
  afterEach(() => asg.reset());

  it("polls, reports each change once, and turns API errors into failing results", async () => {
    // Given a group that scales up, then an API outage, then is settled
    asg
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: [group(2, ["Pending", "Pending"])] })
      .resolvesOnce({ AutoScalingGroups: [group(2, ["Pending", "Pending"])] })
      .rejectsOnce(
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5000"), { name: "TimeoutError" }),
      )
      .resolves({ AutoScalingGroups: [group(2, ["InService", "InService"])] });
    const client = new AutoScalingClient({ region: "us-east-1" });
    const reports: ProbeResult[] = [];
    const ac = new AbortController();
    // When the probe observes it
    const done = asgProbe(
      client,
      { groupName: "old", inService: "desired" },
      { intervalMs: 5 },
    ).observe(ac.signal, (r) => {
      reports.push(r);
      if (r.ok) ac.abort();
    });
    await done;
    // Then each verdict is reported once, in order, and the outage is a failing result
    expect(reports.map((r) => r.ok)).toEqual([false, false, true]);
    expect(reports[0]!.reason).toContain("0/2 InService");
    expect(reports[1]!.reason).toContain(
      "Auto Scaling API call failed (TimeoutError: connect ECONNREFUSED",
    );
    expect(reports[2]!.reason).toBe("ASG old: 2/2 InService (desired 2)");
  });
});
