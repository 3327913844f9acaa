import { describe, expect, it } from "vitest";
import { InputError } from "../../src/engine/errors.js";
import type {
  ProbeResult,
  TrafficCounts,
  TrafficSample,
  TrafficSource,
  TrafficStats,
} from "../../src/engine/ports.js";
import { DEFAULT_CONFIG, validateConfig } from "../../src/migrations/eks-nodegroups/config.js";
import {
  evaluateTraffic,
  judgeZeroFailures,
  trafficProbe,
  userVisible,
} from "../../src/probes/traffic-probe.js";

// The traffic gate's policy: which failure classes are user-visible. Strict by default.

const counts = (requests: number, errors: Record<string, number>): TrafficCounts => {
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return { requests, ok: requests - failed, failed, errors };
};
const statsOf = (c: TrafficCounts): TrafficStats => ({
  requests: c.requests,
  ok: c.ok,
  failed: c.failed,
  successRate: c.requests ? c.ok / c.requests : 0,
});

/** A source whose whole run (and "since" any mark) is the given counts. */
function source(c: TrafficCounts, withBreakdown = true): TrafficSource & { emit(): void } {
  const listeners = new Set<(s: TrafficSample) => void>();
  const sample: TrafficSample = { at: 1000, ...c, p50Ms: 1, p99Ms: 2 };
  return {
    running: true,
    start: async () => {},
    stop: async () => {},
    mark: () => {},
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    window: () => statsOf(c),
    since: () => statsOf(c),
    total: () => statsOf(c),
    timeline: () => ({ samples: [sample], marks: [] }),
    ...(withBreakdown ? { sinceCounts: () => c, totalCounts: () => c } : {}),
    emit: () => {
      for (const l of listeners) l(sample);
    },
  };
}

describe("traffic gate policy", () => {
  it("strict by default: every class counts, keep-alive races included", () => {
    expect(DEFAULT_CONFIG.gates.ignoreFailureClasses).toEqual([]);
    const c = counts(1000, { "keepalive-race": 2 });
    expect(evaluateTraffic(statsOf(c), c.errors, { windowSeconds: 5 }).ok).toBe(false);
    expect(judgeZeroFailures(source(c))).toMatchObject({ ok: false, terminal: true });
  });

  it("ignored classes are subtracted and named in the reason; others still fail", () => {
    const c = counts(1000, { "keepalive-race": 2 });
    const ignore = ["keepalive-race"];
    expect(userVisible(c, c.errors, ignore)).toMatchObject({ failed: 0, ignored: 2, ok: 1000 });
    expect(
      evaluateTraffic(statsOf(c), c.errors, { windowSeconds: 5, ignoreFailureClasses: ignore }),
    ).toEqual({
      ok: true,
      reason:
        "100.00% ok over 5s (1,000 requests; 2 failed in ignored classes (gates.ignoreFailureClasses))",
    });
    const mixed = counts(1000, { "keepalive-race": 2, "http-503": 1 });
    const r = evaluateTraffic(statsOf(mixed), mixed.errors, {
      windowSeconds: 5,
      ignoreFailureClasses: ignore,
    });
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("1 failed");
    expect(judgeZeroFailures(source(c), ignore).ok).toBe(true);
    expect(judgeZeroFailures(source(mixed), ignore)).toMatchObject({ ok: false });
  });

  it("since the step's start, the policy applies too; without a breakdown everything counts", async () => {
    const c = counts(500, { "keepalive-race": 3 });
    const run = async (src: ReturnType<typeof source>) => {
      const reports: ProbeResult[] = [];
      const ac = new AbortController();
      const done = trafficProbe(src, {
        windowSeconds: 1,
        sinceMark: "drain",
        ignoreFailureClasses: ["keepalive-race"],
      }).observe(ac.signal, (r) => reports.push(r));
      src.emit();
      ac.abort();
      await done;
      return reports.at(-1)!;
    };
    expect((await run(source(c))).ok).toBe(true);
    expect(await run(source(c, false))).toMatchObject({ ok: false, terminal: true });
  });

  it("configuration validates the class names and says which are allowed", () => {
    const ok = validateConfig(
      { gates: { ignoreFailureClasses: ["keepalive-race", "http-502"] } },
      "t.yaml",
    );
    expect(ok.gates.ignoreFailureClasses).toEqual(["keepalive-race", "http-502"]);
    let err: unknown;
    try {
      validateConfig({ gates: { ignoreFailureClasses: ["connect"] } }, "t.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(String((err as InputError).message)).toMatch(/ignoreFailureClasses/);
    expect(String((err as InputError).message)).toMatch(/keepalive-race/);
  });
});
