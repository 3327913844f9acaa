import { describe, expect, it } from "vitest";
import { deletePreview } from "../../src/ops/delete-nodes.js";
import { type DrainPlan, drainPlanPreview } from "../../src/ops/drain-preview.js";

const pdb = {
  namespace: "apps",
  name: "nginx-pdb",
  disruptionsAllowed: 1,
  currentHealthy: 3,
  desiredHealthy: 2,
};

describe("drainPlanPreview", () => {
  it("lists cordons, evictions, blockers with their PDB, and serialising budgets", () => {
    const plan: DrainPlan = {
      selector: { group: "old" },
      nodes: ["old-1", "old-2"],
      pods: [
        { pod: "apps/nginx-a", node: "old-1", action: "evict", pdbs: [pdb] },
        { pod: "apps/nginx-b", node: "old-2", action: "evict", pdbs: [pdb] },
        {
          pod: "apps/echo-x",
          node: "old-2",
          action: "block",
          detail: "Cannot evict pod as it would violate the pod's disruption budget.",
          pdbs: [
            {
              ...pdb,
              name: "echo-pdb",
              disruptionsAllowed: 0,
              currentHealthy: 2,
              desiredHealthy: 2,
            },
          ],
        },
        { pod: "kube-system/proxy-1", node: "old-1", action: "skip", detail: "DaemonSet" },
      ],
      serialisedBy: [{ pdb, pods: 2 }],
    };
    const p = drainPlanPreview(plan);
    expect(p.summary).toBe(
      "cordon 2 nodes of group old, evict 2 pods, 1 would block, 1 stay (DaemonSet/mirror/finished), PDB apps/nginx-pdb allows 1 of its 2 pods here to go now: the rest wait for replacements to be Ready",
    );
    expect(p.items).toContainEqual({ kind: "cordon", target: "old-1" });
    expect(p.items).toContainEqual({
      kind: "block",
      target: "apps/echo-x on old-2",
      detail:
        "Cannot evict pod as it would violate the pod's disruption budget.; PDB echo-pdb (disruptionsAllowed 0, 2/2 healthy)",
    });
    expect(p.items).toContainEqual({
      kind: "skip",
      target: "kube-system/proxy-1 on old-1",
      detail: "DaemonSet",
    });
  });

  it("says there is nothing to drain for an empty group", () => {
    expect(
      drainPlanPreview({ selector: { group: "old" }, nodes: [], pods: [], serialisedBy: [] }),
    ).toEqual({
      summary: "no nodes of group old: nothing to drain",
      items: [],
    });
  });
});

describe("deletePreview", () => {
  it("blocks nodes that still run evictable pods", () => {
    const p = deletePreview({ group: "old" }, [
      { node: "old-1", undrained: [] },
      { node: "old-2", undrained: ["apps/nginx-a"] },
    ]);
    expect(p).toEqual({
      summary: "delete 2 nodes of group old; 1 not drained (would block)",
      items: [
        { kind: "delete", target: "old-1" },
        { kind: "block", target: "old-2", detail: "not drained: apps/nginx-a" },
      ],
    });
  });
});
