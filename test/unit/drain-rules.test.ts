import { describe, expect, it } from "vitest";
import { selectorMatches } from "../../src/kube/label-selector.js";
import { classifyForDrain } from "../../src/kube/pods.js";
import { concurrencyLimit, forEachBounded, mapBounded } from "../../src/ops/limit.js";
import { pod } from "./probe-fixtures.js";

describe("classifyForDrain", () => {
  it("skips DaemonSet, mirror and finished pods", () => {
    expect(classifyForDrain(pod("d", { owner: "DaemonSet" }))).toEqual({
      kind: "skip",
      why: "DaemonSet",
    });
    expect(classifyForDrain(pod("m", { owner: null, mirror: true }))).toEqual({
      kind: "skip",
      why: "mirror pod",
    });
    expect(classifyForDrain(pod("j", { owner: "Job", phase: "Succeeded" }))).toEqual({
      kind: "skip",
      why: "finished",
    });
  });

  it("evicts controller-managed pods, warning about emptyDir data", () => {
    expect(classifyForDrain(pod("r"))).toEqual({ kind: "evict", warnings: [] });
    expect(classifyForDrain(pod("e", { emptyDir: true }))).toEqual({
      kind: "evict",
      warnings: ["emptyDir data is lost"],
    });
  });

  it("blocks bare pods unless forced", () => {
    expect(classifyForDrain(pod("b", { owner: null })).kind).toBe("block");
    expect(classifyForDrain(pod("b", { owner: null }), { force: true })).toEqual({
      kind: "evict",
      warnings: ["not managed by a controller: it will not come back"],
    });
  });
});

describe("selectorMatches (PDB selectors)", () => {
  const labels = { app: "nginx", tier: "edge" };
  it("follows the API server's rules", () => {
    expect(selectorMatches({ matchLabels: { app: "nginx" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "echo" } }, labels)).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(
      selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "In", values: ["edge"] }] },
        labels,
      ),
    ).toBe(true);
    expect(
      selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["edge"] }] },
        labels,
      ),
    ).toBe(false);
    expect(
      selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels),
    ).toBe(false);
    expect(
      selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels),
    ).toBe(true);
  });
});

describe("bounded parallelism", () => {
  it("concurrencyLimit (p-limit) never runs more than its limit", async () => {
    const limit = concurrencyLimit(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limit(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setImmediate(r));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(() => concurrencyLimit(0)).toThrow(RangeError);
  });

  it("mapBounded keeps the input order and the limit", async () => {
    let active = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (i) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, i));
      active--;
      return i * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it("forEachBounded visits every item and stops starting new ones when told", async () => {
    const seen: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5], 2, async (i) => {
      seen.push(i);
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
    const some: number[] = [];
    await forEachBounded(
      [1, 2, 3, 4, 5],
      1,
      async (i) => {
        some.push(i);
      },
      () => some.length >= 2,
    );
    expect(some).toEqual([1, 2]);
  });
});
