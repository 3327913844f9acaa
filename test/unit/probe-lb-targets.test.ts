import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  capacityNode,
  evaluateLbTargets,
  type LbTargetsView,
} from "../../src/probes/lb-targets-probe.js";

// The lb-targets gate's verdict from what ELBv2 DescribeTargetHealth and the cluster say.

const node = (name: string, ip: string, instance: string): V1Node => ({
  metadata: { name },
  spec: { providerID: `aws:///us-east-1a/${instance}` },
  status: { addresses: [{ type: "InternalIP", address: ip }] },
});
const old1 = capacityNode(node("old-1", "10.0.1.10", "i-old1"));
const new1 = capacityNode(node("new-1", "10.0.2.10", "i-new1"));

function view(targets: LbTargetsView["targets"]): LbTargetsView {
  return {
    targets,
    oldNodes: [old1],
    nodes: [old1, new1],
    podNodes: new Map([
      ["10.0.1.55", "old-1"],
      ["10.0.2.55", "new-1"],
    ]),
  };
}

describe("lb-targets verdict", () => {
  it("passes when every target is a pod on new capacity", () => {
    const r = evaluateLbTargets(
      view([{ id: "10.0.2.55", port: 80, state: "healthy" }]),
      "group old",
    );
    expect(r).toEqual({ ok: true, reason: "load balancer: 1 target(s), none on group old" });
  });

  it("fails on an IP target whose pod runs on an old node, draining or not", () => {
    const r = evaluateLbTargets(
      view([
        { id: "10.0.2.55", port: 80, state: "healthy" },
        { id: "10.0.1.55", port: 80, state: "draining" },
      ]),
      "group old",
    );
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("10.0.1.55:80 (draining) on old-1");
  });

  it("fails on an instance target of an old node", () => {
    const r = evaluateLbTargets(view([{ id: "i-old1", port: 31080, state: "healthy" }]), "x");
    expect(r.reason).toContain("i-old1:31080 (healthy) on old-1");
  });

  it("fails on a target that belongs to no current pod or node (a drained pod still draining)", () => {
    const r = evaluateLbTargets(view([{ id: "10.0.9.9", port: 80, state: "draining" }]), "x");
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("10.0.9.9:80 (draining) belongs to no current pod or node");
  });

  it("ignores unused targets (not routed)", () => {
    expect(evaluateLbTargets(view([{ id: "10.0.1.55", state: "unused" }]), "x").ok).toBe(true);
  });
});
