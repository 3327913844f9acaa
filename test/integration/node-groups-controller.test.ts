import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import type { CoreV1Event, V1Node } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeNodeGroupTags } from "../../src/infra/asg-tags.js";
import { NODE_GROUP_LABEL } from "../../src/infra/workload-names.js";
import { type AgentHandle, startAgent } from "../../src/sandbox/agent.js";
import { isNodeReady } from "../../src/sandbox/fake-node.js";
import { MOTO_CREDENTIALS, MOTO_DEFAULT_AMI, MOTO_REGION } from "../../src/sandbox/moto.js";
import { startTestSandbox, type TestSandbox, watchUntil } from "../helpers/sandbox.js";

// The node-group controller against the real control plane and moto: Auto Scaling groups
// become kwok Nodes with the group's identity, scale-in and scale-to-0 remove them, a Node
// deleted by hand stays deleted, an unknown instance type is reported, not guessed.

let sb: TestSandbox;
let agent: AgentHandle;
let asg: AutoScalingClient;
let agentDir: string;
const cluster = `ng-${process.pid}`;

async function createGroup(
  name: string,
  desired: number,
  t: {
    instanceType: string;
    kubeletVersion: string;
    labels?: Record<string, string>;
    taints?: { key: string; value: string; effect: "NoSchedule" }[];
  },
): Promise<void> {
  await asg.send(
    new CreateLaunchConfigurationCommand({
      LaunchConfigurationName: `${name}-lc`,
      ImageId: MOTO_DEFAULT_AMI,
      InstanceType: t.instanceType,
    }),
  );
  const tags = encodeNodeGroupTags({
    cluster,
    nodeGroup: name,
    instanceType: t.instanceType,
    kubeletVersion: t.kubeletVersion,
    labels: t.labels ?? {},
    taints: t.taints ?? [],
  });
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: `${name}-asg`,
      LaunchConfigurationName: `${name}-lc`,
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: desired,
      AvailabilityZones: ["us-east-1a", "us-east-1b"],
      Tags: Object.entries(tags).map(([Key, Value]) => ({
        Key,
        Value,
        PropagateAtLaunch: true,
        ResourceId: `${name}-asg`,
        ResourceType: "auto-scaling-group",
      })),
    }),
  );
}

function groupNodes(m: Map<string, V1Node>, group: string): V1Node[] {
  return [...m.values()].filter((n) => n.metadata?.labels?.[NODE_GROUP_LABEL] === group);
}

const describeNodes = (m: Map<string, V1Node>) =>
  [...m.values()]
    .map(
      (n) =>
        `${n.metadata?.name}[${n.metadata?.labels?.[NODE_GROUP_LABEL]}]:${isNodeReady(n) ? "Ready" : "NotReady"}`,
    )
    .join(", ") || "no nodes";

function waitNodes(until: (m: Map<string, V1Node>) => boolean, timeoutMs = 30_000) {
  return watchUntil<V1Node>(sb.kc, {
    path: "/api/v1/nodes",
    list: () => sb.core.listNode(),
    until,
    describe: describeNodes,
    timeoutMs,
  });
}

beforeAll(async () => {
  sb = await startTestSandbox("nodegroups");
  agentDir = mkdtempSync(join(tmpdir(), "ng-agent-"));
  asg = new AutoScalingClient({
    region: MOTO_REGION,
    endpoint: sb.info.motoEndpoint,
    credentials: MOTO_CREDENTIALS,
  });
  agent = await startAgent({
    kubeconfig: sb.info.kubeconfigPath,
    motoEndpoint: sb.info.motoEndpoint,
    stateDir: agentDir,
    cluster,
    timeFactor: 0.2,
  });
});

afterAll(async () => {
  try {
    await agent?.stop();
    asg?.destroy();
    await sb?.stop();
  } finally {
    if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  }
});

describe("node-group controller", () => {
  it("turns every InService instance into a Ready Node carrying its group's identity", async () => {
    await createGroup("old", 3, {
      instanceType: "t3.2xlarge",
      kubeletVersion: "1.32",
      labels: { workload: "ingress" },
    });
    await createGroup("new", 2, {
      instanceType: "c5.4xlarge",
      kubeletVersion: "1.33",
      taints: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
    });
    const nodes = await waitNodes(
      (m) =>
        groupNodes(m, "old").filter(isNodeReady).length === 3 &&
        groupNodes(m, "new").filter(isNodeReady).length === 2,
    );
    for (const n of groupNodes(nodes, "old")) {
      expect(n.metadata?.name).toMatch(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
      expect(n.spec?.providerID).toMatch(/^aws:\/\/\/us-east-1[ab]\/i-[0-9a-f]+$/);
      expect(n.metadata?.labels).toMatchObject({
        "node.kubernetes.io/instance-type": "t3.2xlarge",
        workload: "ingress",
      });
      expect(n.metadata?.labels?.["topology.kubernetes.io/zone"]).toMatch(/^us-east-1[ab]$/);
      expect(n.status?.nodeInfo?.kubeletVersion).toBe("v1.32.9");
      expect(n.status?.capacity).toMatchObject({ cpu: "8", pods: "58" });
    }
    for (const n of groupNodes(nodes, "new")) {
      expect(n.status?.nodeInfo?.kubeletVersion).toBe("v1.33.5");
      expect(n.spec?.taints).toContainEqual({ key: "nginx", value: "true", effect: "NoSchedule" });
    }
  });

  it("reports an unknown instance type as a Warning Event and creates no Node for it", async () => {
    await createGroup("odd", 1, { instanceType: "m9.weird", kubeletVersion: "1.33" });
    const events = await watchUntil<CoreV1Event>(sb.kc, {
      path: "/api/v1/namespaces/default/events",
      list: () => sb.core.listNamespacedEvent({ namespace: "default" }),
      until: (m) => [...m.values()].some((e) => e.reason === "UnknownInstanceType"),
      describe: (m) => [...m.values()].map((e) => e.reason).join(", ") || "no events",
      timeoutMs: 15_000,
    });
    const ev = [...events.values()].find((e) => e.reason === "UnknownInstanceType")!;
    expect(ev.type).toBe("Warning");
    expect(ev.message).toContain('"m9.weird"');
    expect(ev.involvedObject.name).toBe("odd-asg");
    const nodes = await sb.core.listNode({ labelSelector: `${NODE_GROUP_LABEL}=odd` });
    expect(nodes.items).toEqual([]);
  });

  it("does not bring back a Node deleted while its instance is InService", async () => {
    const before = await sb.core.listNode({ labelSelector: `${NODE_GROUP_LABEL}=old` });
    const victim = before.items[0]!.metadata!.name!;
    await sb.core.deleteNode({ name: victim });
    await waitNodes((m) => !m.has(`/${victim}`));
    // Let the controller poll several more times (it records every successful poll).
    const polls = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 10_000;
      const tick = () => {
        const at = agent.nodeGroups.status().lastPollOk;
        if (at) polls.add(at);
        if (polls.size >= 4) resolve();
        else if (Date.now() > deadline) reject(new Error(`controller polled ${polls.size} times`));
        else setTimeout(tick, 50);
      };
      tick();
    });
    const after = await sb.core.listNode({ labelSelector: `${NODE_GROUP_LABEL}=old` });
    expect(after.items.map((n) => n.metadata?.name)).not.toContain(victim);
    expect(after.items).toHaveLength(2);
  });

  it("follows scale-in, scale-to-0 and scale-out of the groups", async () => {
    await asg.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: "new-asg", DesiredCapacity: 1 }),
    );
    await waitNodes((m) => groupNodes(m, "new").length === 1);
    await asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: "old-asg",
        DesiredCapacity: 0,
        MinSize: 0,
      }),
    );
    await waitNodes((m) => groupNodes(m, "old").length === 0);
    await asg.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: "new-asg", DesiredCapacity: 3 }),
    );
    const nodes = await waitNodes((m) => groupNodes(m, "new").filter(isNodeReady).length === 3);
    expect(groupNodes(nodes, "old")).toEqual([]);
  });
});
