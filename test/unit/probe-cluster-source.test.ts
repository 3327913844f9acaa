import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/engine/ports.js";
import { Backoff } from "../../src/kube/backoff.js";
import { observeSources, type ProbeSource } from "../../src/probes/cluster-probe.js";
import { reportChanges } from "../../src/probes/report-changes.js";

/** A source the test drives: set state, then call changed(). */
class FakeSourceState implements ProbeSource {
  synced = false;
  error: string | undefined;
  changed: () => void = () => {};
  run(signal: AbortSignal, onChange: () => void): Promise<void> {
    this.changed = onChange;
    return new Promise((r) => signal.addEventListener("abort", () => r()));
  }
}

describe("observeSources", () => {
  it("waits for every source, fails while one cannot reach the API, and survives a throwing verdict", async () => {
    const a = new FakeSourceState();
    const b = new FakeSourceState();
    const reports: ProbeResult[] = [];
    const ac = new AbortController();
    let verdict: () => ProbeResult = () => ({ ok: true, reason: "fine" });
    const done = observeSources(
      ac.signal,
      (r) => reports.push(r),
      "nodes of group new",
      [a, b],
      () => verdict(),
    );

    a.synced = true;
    a.changed(); // b not synced yet: nothing to say
    expect(reports).toEqual([]);

    b.synced = true;
    b.changed();
    b.changed(); // same verdict twice: reported once
    a.error = "API server unreachable (connect ECONNREFUSED 127.0.0.1:6443); retrying";
    a.changed();
    a.error = undefined;
    verdict = () => {
      throw new Error("boom");
    };
    a.changed();
    ac.abort();
    await done;
    expect(reports).toEqual([
      { ok: true, reason: "fine" },
      {
        ok: false,
        reason:
          "nodes of group new: cannot watch the cluster: API server unreachable (connect ECONNREFUSED 127.0.0.1:6443); retrying",
      },
      { ok: false, reason: "nodes of group new: probe error: boom" },
    ]);
  });
});

describe("observeSources at scale", () => {
  it("coalesces a burst of events once verdicts are expensive, and still reports the last state", async () => {
    const a = new FakeSourceState();
    const reports: ProbeResult[] = [];
    const ac = new AbortController();
    let state = 0;
    let evaluations = 0;
    const done = observeSources(
      ac.signal,
      (r) => reports.push(r),
      "pods",
      [a],
      () => {
        evaluations++;
        // An expensive verdict (thousands of pods): ~5 ms of work.
        const until = performance.now() + 5;
        while (performance.now() < until) {}
        return { ok: state >= 500, reason: `${state}/500 pods` };
      },
    );
    a.synced = true;
    // Given 500 watch events arriving in bursts
    for (let i = 1; i <= 500; i++) {
      state = i;
      a.changed();
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    // Then the final state is reported, from far fewer evaluations than events
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    await done;
    expect(reports.at(-1)).toEqual({ ok: true, reason: "500/500 pods" });
    expect(evaluations).toBeLessThan(100);
  });
});

describe("reportChanges", () => {
  it("drops repeats, keeps changes of reason or warnings", () => {
    const out: ProbeResult[] = [];
    const emit = reportChanges((r) => out.push(r));
    emit({ ok: false, reason: "1/3" });
    emit({ ok: false, reason: "1/3" });
    emit({ ok: false, reason: "2/3" });
    emit({ ok: true, reason: "3/3" });
    emit({ ok: true, reason: "3/3", warnings: ["behind"] });
    expect(out.map((r) => r.reason)).toEqual(["1/3", "2/3", "3/3", "3/3"]);
  });
});

describe("Backoff", () => {
  it("grows to its bound and resets", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
    const j = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.2 });
    for (let i = 0; i < 50; i++) expect(j.next()).toBeLessThanOrEqual(1000);
  });
});
