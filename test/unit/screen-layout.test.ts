import { describe, expect, it } from "vitest";
import { collapseSteps, computeLayout } from "../../src/ui/layout.js";

const steps = Array.from({ length: 9 }, (_, i) => ({
  index: i + 1,
  status: i < 3 ? "done" : i === 3 ? "verifying" : "pending",
}));

/** Rows the app spends: header + body + status + hints. */
function frameRows(l: ReturnType<typeof computeLayout>) {
  return l.kind === "too-small" ? l.height : 1 + l.bodyRows + 2;
}

describe("screen layout", () => {
  it.each([
    [80, 24, "stacked"],
    [100, 30, "stacked"],
    [119, 40, "stacked"],
    [120, 24, "wide"],
    [160, 48, "wide"],
    [200, 50, "wide"],
    [250, 70, "wide"],
  ] as const)("%i×%i is %s and exactly fills the terminal's height", (cols, rows, kind) => {
    const l = computeLayout(cols, rows, 9);
    expect(l.kind).toBe(kind);
    expect(frameRows(l)).toBe(rows);
    expect(l.width).toBe(cols - 1);
    if (l.kind === "wide") {
      // Steps | border pad detail pad border | traffic = the frame's width.
      expect(l.stepsWidth + l.detailWidth + 4 + l.trafficWidth).toBe(l.width);
      expect(l.viewportRows + 1).toBe(l.bodyRows);
      expect(l.stepRows).toBeLessThanOrEqual(l.bodyRows - 1);
    }
    if (l.kind === "stacked") {
      expect(l.trafficRows + l.stepRows + 1 + l.viewportRows).toBe(l.bodyRows);
      // The detail (what is confirmed) gets most of the rows.
      expect(l.viewportRows).toBeGreaterThanOrEqual(10);
      expect(l.detailWidth).toBe(cols - 1);
    }
  });

  it("at 80×24 the detail viewport has 13 rows and the steps 5", () => {
    expect(computeLayout(80, 24)).toMatchObject({ kind: "stacked", stepRows: 5, viewportRows: 13 });
  });

  it("below 80×24 it says the terminal is too small", () => {
    expect(computeLayout(79, 40).kind).toBe("too-small");
    expect(computeLayout(200, 23).kind).toBe("too-small");
    expect(computeLayout(60, 20)).toMatchObject({ kind: "too-small", columns: 60, rows: 20 });
  });

  it("collapses the step list around the current step with summaries above and below", () => {
    const all = collapseSteps(steps, 3, 9);
    expect(all).toHaveLength(9);
    const five = collapseSteps(steps, 3, 5);
    expect(five).toHaveLength(5);
    expect(five[0]).toEqual({ kind: "more", text: "✔ steps 1–2 done" });
    expect(five.slice(1, 4).map((e) => (e.kind === "step" ? e.step.index : 0))).toEqual([3, 4, 5]);
    expect(five[4]).toEqual({ kind: "more", text: "○ steps 6–9 to do" });
    // At either end the window takes the summary's place.
    const first = collapseSteps(steps, 0, 5);
    expect(first.map((e) => (e.kind === "step" ? e.step.index : e.text))).toEqual([
      1,
      2,
      3,
      4,
      "○ steps 5–9 to do",
    ]);
    const last = collapseSteps(steps, 8, 3);
    expect(last.map((e) => (e.kind === "step" ? e.step.index : e.text))).toEqual([
      "· steps 1–7",
      8,
      9,
    ]);
    for (let rows = 1; rows <= 10; rows++)
      for (let ci = 0; ci < 9; ci++) {
        const c = collapseSteps(steps, ci, rows);
        expect(c.length).toBeLessThanOrEqual(rows);
        // The current step is always shown.
        expect(c.some((e) => e.kind === "step" && e.step.index === ci + 1)).toBe(true);
      }
  });
});
