import { describe, expect, it } from "vitest";
import {
  evaluatePlacement,
  indexNodes,
  type PlacementExpectation,
} from "../../src/probes/placement-probe.js";
import { node, pod } from "./probe-fixtures.js";

const nodes = indexNodes([
  node("new-1", { group: "new", type: "c5.4xlarge" }),
  node("new-2", { group: "new", type: "c5.4xlarge" }),
  node("old-1", { group: "old", type: "t3.2xlarge" }),
]);
const exp: PlacementExpectation = {
  namespace: "apps",
  podSelector: "app=nginx",
  label: "nginx",
  on: { instanceTypes: ["c5.4xlarge"] },
  count: 3,
};

describe("evaluatePlacement", () => {
  it("passes when every pod is Running and Ready on the expected group", () => {
    const pods = [
      pod("a", { node: "new-1" }),
      pod("b", { node: "new-2" }),
      pod("c", { node: "new-1" }),
    ];
    expect(evaluatePlacement(pods, nodes, exp)).toEqual({
      ok: true,
      reason: "3/3 nginx pods Ready on c5.4xlarge",
    });
  });

  it("names misplaced pods and their nodes, terminating ones included", () => {
    const pods = [
      pod("a", { node: "new-1" }),
      pod("b", { node: "new-2" }),
      pod("c", { node: "new-1" }),
      pod("z", { node: "old-1", terminating: true }),
    ];
    const r = evaluatePlacement(pods, nodes, exp);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe(
      "3/3 nginx pods Ready on c5.4xlarge; elsewhere: z on old-1 (group old, t3.2xlarge) Terminating; 4 pods found, expected 3",
    );
  });

  it("names pods that are not Ready or not scheduled", () => {
    const pending = pod("p", { phase: "Pending", ready: false });
    pending.status!.conditions = [
      { type: "PodScheduled", status: "False", reason: "Unschedulable" },
    ];
    const pods = [pod("a", { node: "new-1" }), pod("b", { node: "new-2", ready: false }), pending];
    const r = evaluatePlacement(pods, nodes, exp);
    expect(r.reason).toBe(
      "1/3 nginx pods Ready on c5.4xlarge; not Ready: b Running, not Ready, p Pending (Unschedulable)",
    );
  });

  it("treats a pod on a node missing from the API as misplaced", () => {
    const r = evaluatePlacement([pod("a", { node: "ghost" })], nodes, { ...exp, count: undefined });
    expect(r).toEqual({
      ok: false,
      reason: "0/1 nginx pods Ready on c5.4xlarge; elsewhere: a on ghost (node not in the API)",
    });
  });

  it("fails with a clear reason when the selector matches nothing; finished pods do not count", () => {
    const r = evaluatePlacement([pod("done", { node: "old-1", phase: "Succeeded" })], nodes, exp);
    expect(r).toEqual({
      ok: false,
      reason: "no nginx pods: nothing matches app=nginx in namespace apps",
    });
  });

  it("accepts the group label as the target", () => {
    const r = evaluatePlacement([pod("a", { node: "old-1" })], nodes, {
      ...exp,
      on: { group: "old" },
      count: 1,
    });
    expect(r).toEqual({ ok: true, reason: "1/1 nginx pods Ready on group old" });
  });
});
