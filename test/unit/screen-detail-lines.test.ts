import { describe, expect, it } from "vitest";
import { filterLines, sortedItems, stepDetailLines } from "../../src/ui/detail-lines.js";
import { initialState, reduce } from "../../src/ui/state.js";
import { wrapText } from "../../src/ui/wrap.js";
import { at, bigPreview, confirmAt } from "../helpers/screen-events.js";

describe("detail lines", () => {
  it("wraps long values to the width instead of cutting them", () => {
    const lines = wrapText(`a → ${"b".repeat(50)} c`, 20, 4);
    expect(lines.every((l) => [...l].length <= 20)).toBe(true);
    expect(lines.join("").replace(/\s/g, "")).toBe(`a→${"b".repeat(50)}c`);
    expect(wrapText("one two three four", 9)).toEqual(["one two", "three", "four"]);
  });

  it("lists every resource and every full value of a 40-resource preview", () => {
    let s = initialState(0);
    for (const e of confirmAt(1)) s = reduce(s, e, 0);
    s = reduce(s, bigPreview("provision", 40), 0);
    const step = s.steps[0]!;
    const lines = stepDetailLines(step, s.awaiting, 60);
    expect(lines.every((l) => [...l.text].length <= 60)).toBe(true);
    const text = lines.map((l) => l.text).join("\n");
    for (let i = 1; i <= 40; i++) {
      expect(text).toContain(`apps/resource-${String(i).padStart(2, "0")}`);
      expect(text.replace(/\n\s*/g, "")).toContain(`-end-${i}`);
    }
    expect(filterLines(lines, "RESOURCE-40").map((l) => l.text.trim())).toEqual([
      "+ apps/resource-40  ConfigMap",
    ]);
  });

  it("puts drain blockers first and explains a destructive confirmation and a failure", () => {
    expect(
      sortedItems([
        { kind: "evict", target: "apps/a" },
        { kind: "skip", target: "kube-system/ds" },
        { kind: "block", target: "apps/z", detail: "PDB apps/pdb allows 0 disruptions" },
      ]).map((i) => i.kind),
    ).toEqual(["block", "evict", "skip"]);
    let s = initialState(0);
    for (const e of confirmAt(5, {
      destructive: { reason: "this step removes capacity: evict 6 pods", confirmWith: "5" },
    }))
      s = reduce(s, e, 0);
    s = reduce(
      s,
      {
        type: "preview",
        step: "drain-old-nodes",
        changes: { create: 0, update: 0, replace: 0, delete: 0 },
        resources: [],
        action: {
          summary: "cordon 3 nodes, evict 2 pods",
          items: [
            { kind: "evict", target: "apps/echo-1" },
            { kind: "block", target: "apps/echo-2", detail: "PDB apps/echo allows 0" },
          ],
        },
        at,
      },
      0,
    );
    const text = stepDetailLines(s.steps[4]!, s.awaiting, 80).map((l) => l.text);
    expect(text).toContain("⚠ this step removes capacity: evict 6 pods.");
    expect(text).toContain("To apply, press y, then type 5 and Enter.");
    const plan = text.indexOf("Plan: 2 items, 1 blocked (listed first)");
    expect(text[plan + 1]).toBe("  block apps/echo-2  PDB apps/echo allows 0");
    s = reduce(s, {
      type: "awaiting",
      step: "drain-old-nodes",
      kind: "failure",
      options: ["retry", "rollback", "stop"],
      reason: "drained: 1 pod left on old nodes",
      at,
    });
    const failed = stepDetailLines(s.steps[4]!, s.awaiting, 80).map((l) => l.text);
    expect(failed).toContain("✘ Step failed: drained: 1 pod left on old nodes");
    expect(failed).toContain("Choose: [r] retry gates · [b] roll back · [s] stop");
  });

  it("keeps a gate's history of verdict changes", () => {
    let s = initialState(0);
    for (const e of confirmAt(1)) s = reduce(s, e, 0);
    const gate = (passed: boolean, settled: boolean, reason: string) =>
      reduce(s, {
        type: "gate",
        step: "provision",
        gate: "nodes",
        title: "nodes",
        passed,
        settled,
        reason,
        at,
      });
    s = gate(false, false, "1/3 Ready");
    s = gate(false, false, "2/3 Ready");
    s = gate(true, false, "3/3 Ready");
    s = gate(true, true, "3/3 Ready");
    expect(s.steps[0]!.gateHistory.map((h) => h.verdict)).toEqual(["waiting", "holding", "passed"]);
    const text = stepDetailLines(s.steps[0]!, undefined, 80).map((l) => l.text);
    expect(text).toContain("Gate history");
    expect(text).toContain("  10:00:00 nodes holding: 3/3 Ready");
  });
});
