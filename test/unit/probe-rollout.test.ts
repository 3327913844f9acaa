import { describe, expect, it } from "vitest";
import { isTerminalResult } from "../../src/probes/report-changes.js";
import { evaluateRollout } from "../../src/probes/rollout-probe.js";
import { deployment } from "./probe-fixtures.js";

const exp = { namespace: "apps", name: "nginx" };

describe("evaluateRollout", () => {
  it("passes a complete rollout", () => {
    expect(evaluateRollout(deployment({}), exp)).toEqual({
      ok: true,
      reason:
        "deployment apps/nginx rolled out: 3/3 updated, 3/3 ready, 3/3 available (generation 2)",
    });
  });

  it("waits for the controller to observe the new generation", () => {
    const r = evaluateRollout(deployment({ generation: 3, observed: 2 }), exp);
    expect(r).toEqual({
      ok: false,
      reason: "deployment apps/nginx: waiting for the controller to observe generation 3",
    });
  });

  it("reports updated, old and available replicas", () => {
    expect(evaluateRollout(deployment({ updated: 1, total: 4 }), exp).reason).toBe(
      "deployment apps/nginx: 1/3 updated, 3/3 ready, 3/3 available",
    );
    expect(evaluateRollout(deployment({ total: 4 }), exp).reason).toBe(
      "deployment apps/nginx: 3/3 updated, 3/3 ready, 3/3 available, 1 old replica pending termination",
    );
    expect(evaluateRollout(deployment({ available: 2 }), exp).ok).toBe(false);
    expect(evaluateRollout(deployment({ ready: 2 }), exp).ok).toBe(false);
  });

  it("fails fast, as terminal, with the message of ProgressDeadlineExceeded", () => {
    const r = evaluateRollout(
      deployment({ updated: 1, deadline: 'ReplicaSet "nginx-5d" has timed out progressing.' }),
      exp,
    );
    expect(r.ok).toBe(false);
    expect(isTerminalResult(r)).toBe(true);
    expect(r.reason).toBe(
      'deployment apps/nginx exceeded its progress deadline: ReplicaSet "nginx-5d" has timed out progressing.',
    );
  });

  it("fails a missing or paused deployment", () => {
    expect(evaluateRollout(undefined, exp)).toEqual({
      ok: false,
      reason: "deployment apps/nginx not found",
    });
    expect(evaluateRollout(deployment({ paused: true }), exp).reason).toBe(
      "deployment apps/nginx is paused",
    );
  });
});
