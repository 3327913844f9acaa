import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { initialState, lastSeconds, reduce, sparkline, successRate } from "../../src/ui/state.js";

const run: EngineEvent = {
  type: "run",
  runId: "r1",
  stack: "dev",
  target: "local",
  dryRun: false,
  steps: [
    { id: "a", index: 1, title: "A", why: "a", status: "done" },
    { id: "b", index: 2, title: "B", why: "b", status: "pending" },
  ],
  at: "t",
};

describe("screen state", () => {
  it("tracks steps, gates, awaiting and traffic from events", () => {
    let s = reduce(initialState(0), run, 0);
    s = reduce(s, { type: "step", step: "b", index: 2, status: "previewing", at: "t" }, 1000);
    s = reduce(s, {
      type: "awaiting",
      step: "b",
      kind: "confirm",
      options: ["confirm", "stop"],
      at: "t",
    });
    expect(s.awaiting?.kind).toBe("confirm");
    s = reduce(s, { type: "step", step: "b", index: 2, status: "applying", at: "t" }, 2000);
    expect(s.awaiting).toBeUndefined();
    s = reduce(s, {
      type: "gate",
      step: "b",
      gate: "g",
      title: "g",
      passed: true,
      settled: false,
      reason: "2/3",
      at: "t",
    });
    expect(s.steps[1]?.gates.g?.reason).toBe("2/3");
    for (let i = 0; i < 12; i++) {
      s = reduce(s, {
        type: "traffic",
        at: new Date(i * 1000).toISOString(),
        requests: 100,
        ok: i === 11 ? 99 : 100,
        failed: i === 11 ? 1 : 0,
        errors: i === 11 ? { "502": 1 } : {},
        p50Ms: 1,
        p99Ms: 3,
        // The timeline's own running totals (the engine reads them from the traffic source)
        total: {
          requests: (i + 1) * 100,
          ok: (i + 1) * 100 - (i === 11 ? 1 : 0),
          failed: i === 11 ? 1 : 0,
        },
        step: {
          id: "b",
          requests: (i + 1) * 100,
          ok: (i + 1) * 100 - (i === 11 ? 1 : 0),
          failed: i === 11 ? 1 : 0,
        },
      });
    }
    expect(s.traffic.total).toEqual({ requests: 1200, ok: 1199, failed: 1 });
    expect(s.traffic.errors).toEqual({ "502": 1 });
    expect(successRate(lastSeconds(s.traffic, 10))).toBeCloseTo(99.9, 5);
    s = reduce(s, { type: "step", step: "b", index: 2, status: "done", at: "t" }, 5000);
    expect(s.steps[1]).toMatchObject({ status: "done", startedAt: 1000, endedAt: 5000 });
  });

  it("draws sparklines scaled to the range", () => {
    expect(sparkline([0, 50, 100], 10, 0, 100)).toBe("▁▅█");
    expect(sparkline([100, 100], 10, 99, 100)).toBe("██");
    expect(sparkline([1, 2, 3, 4], 2)).toHaveLength(2);
  });
});
