import { describe, expect, it } from "vitest";
import {
  awsProviderID,
  buildFakeNode,
  isNodeReady,
  normaliseKubeletVersion,
} from "../../src/sandbox/fake-node.js";

describe("buildFakeNode", () => {
  const node = buildFakeNode({
    name: "ip-10-0-1-23.ec2.internal",
    instanceType: "c5.4xlarge",
    kubeletVersion: "1.33.13",
    capacity: { cpu: "16", memory: "32Gi", pods: "110" },
    labels: { "eks.amazonaws.com/nodegroup": "new" },
    taints: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
    providerID: awsProviderID("us-east-1b", "i-0abc"),
    zone: "us-east-1b",
    internalIP: "10.0.1.23",
  });

  it("marks the node for kwok and carries the EKS-style labels", () => {
    expect(node.metadata?.annotations?.["kwok.x-k8s.io/node"]).toBe("fake");
    expect(node.metadata?.labels).toMatchObject({
      "node.kubernetes.io/instance-type": "c5.4xlarge",
      "kubernetes.io/hostname": "ip-10-0-1-23.ec2.internal",
      "topology.kubernetes.io/zone": "us-east-1b",
      "topology.kubernetes.io/region": "us-east-1",
      "eks.amazonaws.com/nodegroup": "new",
    });
  });

  it("sets taints, providerID, capacity, allocatable and kubelet version at creation", () => {
    expect(node.spec?.taints).toEqual([{ key: "nginx", value: "true", effect: "NoSchedule" }]);
    expect(node.spec?.providerID).toBe("aws:///us-east-1b/i-0abc");
    expect(node.status?.capacity).toEqual({ cpu: "16", memory: "32Gi", pods: "110" });
    expect(node.status?.allocatable).toEqual(node.status?.capacity);
    expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.33.13");
    expect(node.status?.addresses).toContainEqual({ type: "InternalIP", address: "10.0.1.23" });
    expect(isNodeReady(node)).toBe(false);
  });

  it("rejects a kubelet version that is not a full version", () => {
    expect(() => normaliseKubeletVersion("1.33")).toThrow(/full version/);
    expect(normaliseKubeletVersion("v1.32.9")).toBe("v1.32.9");
  });
});
