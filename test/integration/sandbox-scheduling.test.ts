import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, watchUntil } from "../helpers/sandbox.js";
import {
  createReadyNodes,
  deployment,
  describePods,
  isPodReady,
  nodeSpec,
  podsOf,
} from "../helpers/sandbox-workloads.js";

// The real scheduler places pods on kwok fake nodes by instance-type affinity, taints and
// hostname anti-affinity, and kwok makes the placed pods Running/Ready.

let sb: TestSandbox;
const ns = "default";

beforeAll(async () => {
  sb = await startTestSandbox("sched");
  // Given: an old group (kubelet one minor behind), a tainted new group, a standard group.
  await createReadyNodes(sb, [
    nodeSpec("old-1", "t3.2xlarge", "v1.32.9"),
    nodeSpec("old-2", "t3.2xlarge", "v1.32.9"),
    nodeSpec("new-1", "c5.4xlarge", "v1.33.13", {
      taints: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
      capacity: { cpu: "16", memory: "32Gi", pods: "110" },
      allocatable: { cpu: "15890m", memory: "30Gi", pods: "110" },
      providerID: "aws:///us-east-1a/i-0123456789abcdef0",
      internalIP: "10.0.1.23",
    }),
    nodeSpec("new-2", "c5.4xlarge", "v1.33.13", {
      taints: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
    }),
    nodeSpec("std-1", "t3.medium", "v1.33.13", {
      capacity: { cpu: "2", memory: "4Gi", pods: "17" },
    }),
  ]);
});

afterAll(async () => {
  await sb?.stop();
});

describe("scheduling on fake nodes", () => {
  it("keeps the node's instance type, taints, capacity and kubelet version as created", async () => {
    const node = await sb.core.readNode({ name: "new-1" });
    expect(node.metadata?.labels?.["node.kubernetes.io/instance-type"]).toBe("c5.4xlarge");
    expect(node.metadata?.annotations?.["kwok.x-k8s.io/node"]).toBe("fake");
    expect(node.spec?.taints).toEqual([{ key: "nginx", value: "true", effect: "NoSchedule" }]);
    expect(node.spec?.providerID).toBe("aws:///us-east-1a/i-0123456789abcdef0");
    expect(node.status?.capacity).toMatchObject({ cpu: "16", memory: "32Gi", pods: "110" });
    expect(node.status?.allocatable).toMatchObject({ cpu: "15890m", memory: "30Gi" });
    expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.33.13");
    expect(node.status?.addresses).toContainEqual({ type: "InternalIP", address: "10.0.1.23" });
    const old = await sb.core.readNode({ name: "old-1" });
    expect(old.status?.nodeInfo?.kubeletVersion).toBe("v1.32.9");
  });

  it("puts tolerating, affine, anti-affine pods one per new node and leaves the extra one Pending", async () => {
    // When: 3 replicas must run on c5.4xlarge (2 nodes), tolerate the taint, one per host.
    await sb.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment({
        name: "nginx",
        replicas: 3,
        instanceTypes: ["c5.4xlarge"],
        tolerations: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
        spreadByHostname: true,
      }),
    });
    // Then: two Ready pods on new-1 and new-2, the third unschedulable.
    const pods = await watchUntil<V1Pod>(sb.kc, {
      path: `/api/v1/namespaces/${ns}/pods`,
      labelSelector: "app=nginx",
      list: () => sb.core.listNamespacedPod({ namespace: ns, labelSelector: "app=nginx" }),
      until: (m) => {
        const all = [...m.values()];
        const unschedulable = all.filter((p) =>
          p.status?.conditions?.some(
            (c) => c.type === "PodScheduled" && c.reason === "Unschedulable",
          ),
        );
        return (
          all.length === 3 && all.filter(isPodReady).length === 2 && unschedulable.length === 1
        );
      },
      describe: (m) => describePods(m.values()),
      timeoutMs: 60_000,
    });
    const ready = [...pods.values()].filter(isPodReady);
    expect(ready.map((p) => p.spec?.nodeName).sort()).toEqual(["new-1", "new-2"]);
    for (const p of ready) {
      // Ordinary pod IPs from the sandbox's pod CIDR, never loopback.
      expect(p.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
      expect(p.status?.containerStatuses?.[0]?.ready).toBe(true);
    }
  });

  it("keeps pods without the toleration off the tainted nodes", async () => {
    await sb.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment({ name: "plain", replicas: 6 }),
    });
    await watchUntil<V1Pod>(sb.kc, {
      path: `/api/v1/namespaces/${ns}/pods`,
      labelSelector: "app=plain",
      list: () => sb.core.listNamespacedPod({ namespace: ns, labelSelector: "app=plain" }),
      until: (m) => [...m.values()].filter(isPodReady).length === 6,
      describe: (m) => describePods(m.values()),
    });
    const nodes = new Set((await podsOf(sb.core, ns, "plain")).map((p) => p.spec?.nodeName));
    expect([...nodes].every((n) => n === "old-1" || n === "old-2" || n === "std-1")).toBe(true);
  });
});
