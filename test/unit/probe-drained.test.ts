import { describe, expect, it } from "vitest";
import { evaluateDrained } from "../../src/probes/drained-probe.js";
import { node, pod } from "./probe-fixtures.js";

const nodes = [
  node("old-1", { group: "old" }),
  node("old-2", { group: "old" }),
  node("new-1", { group: "new" }),
];

describe("evaluateDrained", () => {
  it("passes when only DaemonSet and mirror pods remain on the group's nodes", () => {
    const pods = [
      pod("ds", { node: "old-1", owner: "DaemonSet" }),
      pod("static", { node: "old-2", owner: null, mirror: true }),
      pod("web", { node: "new-1" }),
    ];
    expect(evaluateDrained(pods, nodes, { selector: { group: "old" } })).toEqual({
      ok: true,
      reason: "no evictable pods on 2 nodes of group old (2 DaemonSet/mirror pods stay)",
    });
  });

  it("names what is left, terminating and unmanaged pods included", () => {
    const pods = [
      pod("web-1", { node: "old-1" }),
      pod("web-2", { node: "old-2", terminating: true }),
      pod("bare", { node: "old-1", owner: null }),
    ];
    const r = evaluateDrained(pods, nodes, { selector: { group: "old" } });
    expect(r).toEqual({
      ok: false,
      reason:
        "3 evictable pods left on 2 nodes of group old: apps/bare on old-1 (Running), apps/web-1 on old-1 (Running), apps/web-2 on old-2 (Terminating)",
    });
  });

  it("fails on a group with no nodes unless told that is fine", () => {
    expect(evaluateDrained([], nodes, { selector: { group: "gone" } }).ok).toBe(false);
    expect(
      evaluateDrained([], nodes, { selector: { group: "gone" }, passWhenNoNodes: true }),
    ).toEqual({
      ok: true,
      reason: "no nodes of group gone: nothing to drain",
    });
  });
});
