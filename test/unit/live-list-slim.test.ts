import { describe, expect, it } from "vitest";
import { slimForCache } from "../../src/kube/live-list.js";

describe("slimForCache", () => {
  it("drops managedFields and a node's image list, and keeps everything a reader uses", () => {
    const node = {
      metadata: {
        name: "n1",
        labels: { "eks.amazonaws.com/nodegroup": "blue" },
        managedFields: [{ manager: "kubelet" }],
      },
      spec: { taints: [{ key: "k", effect: "NoSchedule" }], unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        nodeInfo: { kubeletVersion: "v1.33.13" },
        images: Array.from({ length: 50 }, (_, i) => ({ names: [`img-${i}`], sizeBytes: i })),
      },
    };
    expect(slimForCache(structuredClone(node))).toEqual({
      metadata: { name: "n1", labels: node.metadata.labels },
      spec: node.spec,
      status: { conditions: node.status.conditions, nodeInfo: node.status.nodeInfo },
    });
  });

  it("leaves objects without those fields as they are", () => {
    const dep = { metadata: { name: "d" }, spec: { replicas: 3 }, status: { readyReplicas: 3 } };
    expect(slimForCache(structuredClone(dep))).toEqual(dep);
    expect(slimForCache(null)).toBeNull();
  });
});
