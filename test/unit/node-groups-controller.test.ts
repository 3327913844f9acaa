import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type Instance,
} from "@aws-sdk/client-auto-scaling";
import type { CoreV1Api, CoreV1Event, V1Node } from "@kubernetes/client-node";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { encodeNodeGroupTags } from "../../src/infra/asg-tags.js";
import { silentLog } from "../../src/sandbox/dataplane/log.js";
import { NodeGroupController } from "../../src/sandbox/node-groups/controller.js";

// The controller's bookkeeping against a fake API (pure logic around the plan): created
// Nodes are remembered in a file, so neither a later poll nor a restarted agent recreates
// a Node someone deleted while its instance is still InService.

const asgMock = mockClient(AutoScalingClient);
afterEach(() => asgMock.reset());

function fakeCore() {
  const nodes = new Map<string, V1Node>();
  const events: CoreV1Event[] = [];
  const core = {
    listNode: async () => ({ items: [...nodes.values()] }),
    createNode: async ({ body }: { body: V1Node }) => {
      nodes.set(body.metadata!.name!, body);
      return body;
    },
    deleteNode: async ({ name }: { name: string }) => {
      nodes.delete(name);
      return {};
    },
    createNamespacedEvent: async ({ body }: { body: CoreV1Event }) => {
      events.push(body);
      return body;
    },
  };
  return { core: core as unknown as CoreV1Api, nodes, events };
}

function answer(instances: string[], instanceType = "t3.medium") {
  const tags = encodeNodeGroupTags({
    cluster: "c1",
    nodeGroup: "old",
    instanceType,
    kubeletVersion: "1.32",
    labels: {},
    taints: [],
  });
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: "old-asg",
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        Instances: instances.map(
          (InstanceId): Instance => ({
            InstanceId,
            AvailabilityZone: "us-east-1a",
            LifecycleState: "InService",
            HealthStatus: "Healthy",
            ProtectedFromScaleIn: false,
          }),
        ),
        MinSize: 0,
        MaxSize: 3,
        DesiredCapacity: instances.length,
        DefaultCooldown: 0,
        AvailabilityZones: ["us-east-1a"],
        HealthCheckType: "EC2",
        CreatedTime: new Date(),
      },
    ],
  });
}

describe("node-group controller", () => {
  it("remembers created Nodes across polls and restarts, and forgets terminated instances", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ngc-"));
    const stateFile = join(dir, "node-groups.json");
    const { core, nodes } = fakeCore();
    const asg = new AutoScalingClient({ region: "us-east-1" });
    const make = () =>
      new NodeGroupController({
        cluster: "c1",
        asg,
        core,
        stateFile,
        pollIntervalMs: 500,
        bootDelayMs: 0,
        log: silentLog,
      });
    const signal = new AbortController().signal;

    // Given two InService instances: two Nodes.
    answer(["i-1", "i-2"]);
    const c1 = make();
    await c1.pollOnce(signal);
    expect(nodes.size).toBe(2);

    // When someone deletes i-1's Node: neither the next poll nor a new agent recreates it.
    const i1 = [...nodes.values()].find((n) => n.spec?.providerID?.endsWith("/i-1"))!.metadata!
      .name!;
    nodes.delete(i1);
    await c1.pollOnce(signal);
    await make().pollOnce(signal);
    expect(nodes.size).toBe(1);
    expect(JSON.parse(readFileSync(stateFile, "utf8")).createdInstanceIds.sort()).toEqual([
      "i-1",
      "i-2",
    ]);

    // When the group scales to 0: the remaining Node goes and nothing is remembered.
    answer([]);
    await make().pollOnce(signal);
    expect(nodes.size).toBe(0);
    expect(JSON.parse(readFileSync(stateFile, "utf8")).createdInstanceIds).toEqual([]);
  });

  it("records an unknown instance type once as a Warning Event", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ngc-"));
    const { core, nodes, events } = fakeCore();
    const c = new NodeGroupController({
      cluster: "c1",
      asg: new AutoScalingClient({ region: "us-east-1" }),
      core,
      stateFile: join(dir, "s.json"),
      pollIntervalMs: 500,
      bootDelayMs: 0,
      log: silentLog,
    });
    answer(["i-1"], "q9.mega");
    await c.pollOnce(new AbortController().signal);
    await c.pollOnce(new AbortController().signal);
    expect(nodes.size).toBe(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "Warning", reason: "UnknownInstanceType" });
    expect(events[0]!.message).toContain('"q9.mega"');
    expect(c.status().problems[0]?.reason).toBe("UnknownInstanceType");
  });
});
