import { describe, expect, it } from "vitest";
import { InputError } from "../../src/engine/errors.js";
import { DEFAULT_CONFIG, validateConfig } from "../../src/migrations/eks-nodegroups/config.js";

// The drain's settings in the config: defaults are today's behaviour, bad values are refused
// naming the field, and groups may be as large as a self-managed group allows.

describe("config: drain", () => {
  it("defaults to 5 minutes per node, one node at a time, no pause", () => {
    expect(DEFAULT_CONFIG.drain).toEqual({
      nodeTimeoutSeconds: 300,
      parallelism: 1,
      pauseSeconds: 0,
    });
    expect(validateConfig({ drain: { parallelism: 4 } }, "c.yaml").drain).toEqual({
      nodeTimeoutSeconds: 300,
      parallelism: 4,
      pauseSeconds: 0,
    });
  });

  it.each([
    [{ parallelism: 0 }, "drain.parallelism: must be ≥ 1"],
    [{ nodeTimeoutSeconds: 5 }, "drain.nodeTimeoutSeconds: must be ≥ 10"],
    [{ pauseSeconds: -1 }, "drain.pauseSeconds: must be ≥ 0"],
    [{ pauseSeconds: 1.5 }, "drain.pauseSeconds"],
    [{ nodeTimeout: 60 }, 'drain: unknown key "nodeTimeout"'],
  ])("refuses %j naming the field", (drain, message) => {
    const err = (() => {
      try {
        validateConfig({ drain }, "c.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(message);
  });

  it("accepts groups of 1,000 nodes and refuses more than 5,000", () => {
    const big = { ...DEFAULT_CONFIG.groups.old, desired: 1000, min: 1000, max: 1000 };
    expect(validateConfig({ groups: { old: big } }, "c.yaml").groups.old.desired).toBe(1000);
    expect(() =>
      validateConfig({ groups: { old: { ...big, desired: 5001, max: 5001 } } }, "c.yaml"),
    ).toThrow(/groups\.old\.desired: must be ≤ 5000/);
  });
});
