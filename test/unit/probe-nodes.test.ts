import { describe, expect, it } from "vitest";
import { parseKubeVersion } from "../../src/kube/versions.js";
import { evaluateNodes } from "../../src/probes/nodes-probe.js";
import { node } from "./probe-fixtures.js";

const cp = parseKubeVersion("v1.33.13")!;

describe("evaluateNodes", () => {
  it("passes when exactly the expected nodes of the group are Ready at the control-plane version", () => {
    const nodes = [1, 2, 3].map((i) => node(`n${i}`, { group: "new" }));
    const r = evaluateNodes(nodes, { selector: { group: "new" }, count: 3 }, cp);
    expect(r).toEqual({
      ok: true,
      reason: "3/3 nodes of group new Ready, kubelet 1.33 (control plane 1.33)",
    });
  });

  it("names the nodes that are not Ready with their condition's reason", () => {
    const nodes = [
      node("n1", { group: "new" }),
      node("n3", { group: "new", ready: false, reason: "KubeletNotReady" }),
      node("n2", { group: "new", ready: "Unknown" }),
    ];
    const r = evaluateNodes(nodes, { selector: { group: "new" }, count: 3 }, cp);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe(
      "1/3 nodes of group new Ready: not Ready: n2 (NodeStatusUnknown), n3 (KubeletNotReady)",
    );
  });

  it("does not count a Ready node the control plane still taints not-ready (nothing schedules there yet)", () => {
    const tainted = node("n2", { group: "new" });
    tainted.spec = { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }] };
    const r = evaluateNodes(
      [node("n1", { group: "new" }), tainted],
      { selector: { group: "new" }, count: 2 },
      cp,
    );
    expect(r).toMatchObject({
      ok: false,
      reason:
        "1/2 nodes of group new Ready: not Ready: n2 (Ready, still tainted node.kubernetes.io/not-ready)",
    });
  });

  it("ignores nodes of other groups and fails on a count that differs", () => {
    const nodes = [node("a", { group: "new" }), node("b", { group: "old" })];
    const r = evaluateNodes(nodes, { selector: { group: "new" }, count: 2 }, cp);
    expect(r).toMatchObject({
      ok: false,
      reason: "1/2 nodes of group new Ready: 1 node found, expected 2",
    });
  });

  it("says so when the selector matches nothing (unknown group)", () => {
    const r = evaluateNodes(
      [node("a", { group: "old" })],
      { selector: { group: "nwe" }, count: 5 },
      cp,
    );
    expect(r).toEqual({
      ok: false,
      reason: "0/5 nodes of group nwe Ready: no node matches eks-runbook.dev/node-group=nwe",
    });
  });

  it("selects by instance type", () => {
    const nodes = [node("a", { type: "c5.4xlarge" }), node("b", { type: "t3.medium" })];
    const r = evaluateNodes(nodes, { selector: { instanceTypes: ["c5.4xlarge"] }, count: 1 }, cp);
    expect(r.ok).toBe(true);
    expect(r.reason).toContain("1/1 nodes of c5.4xlarge Ready");
  });

  it("absent mode passes with no nodes and names the ones that remain", () => {
    expect(
      evaluateNodes(
        [node("x", { group: "new" })],
        { selector: { group: "old" }, count: "absent" },
        cp,
      ),
    ).toEqual({
      ok: true,
      reason: "no nodes of group old in the API",
    });
    const r = evaluateNodes(
      [node("o2", { group: "old" }), node("o1", { group: "old" })],
      { selector: { group: "old" }, count: "absent" },
      cp,
    );
    expect(r).toEqual({ ok: false, reason: "2 nodes of group old still in the API: o1, o2" });
  });

  it("fails a kubelet newer than the control plane", () => {
    const r = evaluateNodes(
      [node("a", { group: "g", kubelet: "v1.34.1" })],
      { selector: { group: "g" }, count: 1 },
      cp,
    );
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("kubelet v1.34.1 on a is newer than the control plane 1.33");
  });

  it("fails a kubelet more than three minors behind, warns when one to three behind", () => {
    const tooOld = evaluateNodes(
      [node("a", { group: "g", kubelet: "v1.29.0" })],
      { selector: { group: "g" }, count: 1 },
      cp,
    );
    expect(tooOld.ok).toBe(false);
    expect(tooOld.reason).toContain("more than 3 minors behind");

    const behind = evaluateNodes(
      [
        node("a", { group: "g", kubelet: "v1.32.9-eks-113cf36" }),
        node("b", { group: "g", kubelet: "v1.32.9-eks-113cf36" }),
      ],
      { selector: { group: "g" }, count: 2 },
      cp,
    );
    expect(behind.ok).toBe(true);
    expect(behind.warnings).toEqual([
      "kubelet v1.32.9-eks-113cf36 on a, b is 1 minor behind the control plane 1.33",
    ]);
  });

  it("fails nodes not at the kubelet version the group must run", () => {
    const r = evaluateNodes(
      [node("a", { group: "new", kubelet: "v1.32.0" })],
      { selector: { group: "new" }, count: 1, kubeletVersion: "1.33" },
      cp,
    );
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("kubelet v1.32.0 on a, expected 1.33");
  });

  it("warns about a kubelet version it cannot parse", () => {
    const r = evaluateNodes(
      [node("a", { group: "g", kubelet: "kwok-v0.7.0" })],
      { selector: { group: "g" }, count: 1 },
      cp,
    );
    expect(r.ok).toBe(true);
    expect(r.warnings?.[0]).toContain('kubelet version "kwok-v0.7.0" on a cannot be compared');
  });
});

describe("evaluateNodes with more nodes than expected", () => {
  it("fails and says how many more", () => {
    const nodes = [1, 2, 3].map((i) => node(`n${i}`, { group: "g" }));
    expect(evaluateNodes(nodes, { selector: { group: "g" }, count: 2 }, cp)).toEqual({
      ok: false,
      reason: "3 nodes of group g, expected 2 (3 Ready): 1 more than expected",
    });
  });
});
