import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ActionProgress, Probe, ProbeResult } from "../../src/engine/ports.js";
import { probeCheck } from "../../src/ops/between-nodes.js";
import { defaultDrainTimeoutMs } from "../../src/ops/drain.js";
import { type DrainPlan, drainPlanPreview } from "../../src/ops/drain-preview.js";
import { DrainProgress } from "../../src/ops/drain-progress.js";
import { DrainBlockedError } from "../../src/ops/ops-error.js";
import { readinessOf, workloadHealthy } from "../../src/ops/workload-health.js";

// Pure logic of the drain: the summarised progress line, the health verdict between nodes,
// the derived bound, the grouped preview. The drain against a real API server is covered by
// test/integration/drain-pdb.test.ts.

const pdb = (allowed: number) => ({
  namespace: "drain-t",
  name: "web-pdb",
  disruptionsAllowed: allowed,
  currentHealthy: 4,
  desiredHealthy: 4,
});

describe("DrainProgress", () => {
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());

  it("puts the blocker first while a PDB refuses, then clears it once the evictions go through", () => {
    const lines: ActionProgress[] = [];
    const p = new DrainProgress((l) => lines.push(l), { now: () => clock });
    // Given two nodes with four pods planned
    p.on({ type: "cordoned", nodes: ["old-1", "old-2"] });
    p.on({
      type: "planned",
      pods: ["drain-t/web-1", "drain-t/web-2", "drain-t/web-3", "drain-t/web-4"],
      nodes: 2,
    });
    // When the budget refuses two of them
    for (const pod of ["drain-t/web-1", "drain-t/web-2"]) {
      p.on({
        type: "blocked",
        node: "old-1",
        pod,
        message: "Cannot evict pod",
        pdbs: [pdb(0)],
        attempt: 1,
        retryInMs: 500,
      });
    }
    // Then the line says so at once, blocker first, with the budget and its allowance
    expect(lines.at(-1)?.message).toBe(
      "blocked: drain-t/web-1 refused by PDB web-pdb (disruptionsAllowed 0) (+1 more pod); retry in 0.5s · 0/4 pods gone · 0/2 nodes drained · 4 pods to evict",
    );
    // When the budget allows and every pod goes
    for (const [i, pod] of [
      "drain-t/web-1",
      "drain-t/web-2",
      "drain-t/web-3",
      "drain-t/web-4",
    ].entries()) {
      clock += 10;
      p.on({ type: "evicted", node: i < 2 ? "old-1" : "old-2", pod });
      p.on({ type: "gone", node: i < 2 ? "old-1" : "old-2", pod });
    }
    p.on({ type: "node-drained", node: "old-1", durationMs: 1200, evicted: 2 });
    p.on({ type: "node-drained", node: "old-2", durationMs: 900, evicted: 2 });
    p.close();
    // Then the last line has no blocker and counts every pod gone
    expect(lines.at(-1)).toEqual({
      done: 4,
      total: 4,
      message: "4/4 pods gone · 2/2 nodes drained · old-2 drained in 0.9s",
    });
    // and while web-1 went first, web-2 (still refused) took its place at the head
    expect(lines.some((l) => l.message.startsWith("blocked: drain-t/web-2 refused"))).toBe(true);
  });

  it("summarises thousands of pod events into a few lines per second", () => {
    const lines: ActionProgress[] = [];
    const p = new DrainProgress((l) => lines.push(l), { now: () => clock, intervalMs: 250 });
    const pods = Array.from({ length: 5000 }, (_, i) => `fill/p-${i}`);
    p.on({ type: "planned", pods, nodes: 300 });
    // 5,000 pods leave over 10 simulated seconds
    for (const [i, pod] of pods.entries()) {
      clock = i * 2;
      vi.advanceTimersByTime(2);
      p.on({ type: "evicting", node: "n", pod });
      p.on({ type: "evicted", node: "n", pod });
      p.on({ type: "gone", node: "n", pod });
    }
    p.close();
    // One line per 250 ms at most (plus the urgent "planned" one and the final flush)
    expect(lines.length).toBeLessThanOrEqual(10_000 / 250 + 3);
    expect(lines.at(-1)).toMatchObject({ done: 5000, total: 5000 });
  });

  it("says what the health check between nodes waits for, and the pause", () => {
    const lines: ActionProgress[] = [];
    const p = new DrainProgress((l) => lines.push(l), { now: () => clock });
    p.on({
      type: "health-waiting",
      node: "old-1",
      unhealthy: ["deployment fill/a 3/4 ready", "deployment fill/b 1/2 ready", "x"],
    });
    expect(lines.at(-1)?.message).toBe(
      "before the next node, waiting for deployment fill/a 3/4 ready, deployment fill/b 1/2 ready and 1 more",
    );
    p.on({ type: "pausing", node: "old-1", ms: 2000 });
    expect(lines.at(-1)?.message).toBe("pausing 2.0s after old-1");
  });
});

describe("health between nodes", () => {
  const deployment = (ready: number, desired: number, rv: string, observed = true) =>
    readinessOf({
      metadata: { generation: 2, resourceVersion: rv },
      spec: { replicas: desired, selector: {}, template: {} },
      status: { readyReplicas: ready, observedGeneration: observed ? 2 : 1 },
    });

  it("waits for ready = desired on a status that counted the eviction", () => {
    expect(workloadHealthy(deployment(3, 4, "11"), "10", false)).toBe(false);
    // Back at 4/4, and the status moved since the eviction: healthy
    expect(workloadHealthy(deployment(4, 4, "12"), "10", false)).toBe(true);
    // 4/4 but still the status seen before the eviction: not yet trusted…
    expect(workloadHealthy(deployment(4, 4, "10"), "10", false)).toBe(false);
    // …until the settle time passed
    expect(workloadHealthy(deployment(4, 4, "10"), "10", true)).toBe(true);
    // A controller that has not seen the latest spec is not healthy
    expect(workloadHealthy(deployment(4, 4, "12", false), "10", true)).toBe(false);
    // A workload deleted meanwhile leaves nothing to wait for
    expect(workloadHealthy(undefined, "10", false)).toBe(true);
  });

  it("turns a probe into the caller's check: the first ok verdict, or the last one seen", async () => {
    const fakeProbe = (verdicts: ProbeResult[]): Probe => ({
      observe: async (signal, report) => {
        for (const v of verdicts) {
          if (signal.aborted) return;
          report(v);
          await new Promise((r) => setTimeout(r, 1));
        }
        if (signal.aborted) return;
        await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      },
    });
    const okLater = probeCheck(
      fakeProbe([
        { ok: false, reason: "97% ok" },
        { ok: true, reason: "100% ok" },
      ]),
    );
    expect(await okLater(AbortSignal.timeout(5_000))).toEqual({ ok: true, reason: "100% ok" });
    const never = probeCheck(fakeProbe([{ ok: false, reason: "12 requests failed" }]));
    expect(await never(AbortSignal.timeout(50))).toEqual({
      ok: false,
      reason: "12 requests failed",
    });
  });

  it("bounds the whole drain by what every node may take, per round of parallel nodes", () => {
    const o = { nodeTimeoutMs: 300_000, nodeParallelism: 1, pauseMs: 0 };
    expect(defaultDrainTimeoutMs(3, o)).toBe(3 * 600_000);
    expect(defaultDrainTimeoutMs(300, { ...o, nodeParallelism: 10, pauseMs: 5_000 })).toBe(
      30 * 605_000,
    );
    expect(defaultDrainTimeoutMs(0, o)).toBe(600_000);
  });
});

describe("drain at scale: preview and error", () => {
  it("groups a 5,000-pod preview instead of one row per pod, blockers named first", () => {
    const nodes = Array.from({ length: 300 }, (_, i) => `old-${String(i).padStart(3, "0")}`);
    const pods: DrainPlan["pods"] = [];
    for (let i = 0; i < 5000; i++) {
      const node = nodes[i % 300]!;
      if (i < 3) {
        pods.push({
          pod: `fill/web-${i}`,
          node,
          action: "block",
          detail: "Cannot evict pod",
          pdbs: [pdb(0)],
        });
      } else if (i % 50 === 0) {
        pods.push({ pod: `kube-system/ds-${i}`, node, action: "skip", detail: "DaemonSet" });
      } else {
        pods.push({ pod: `fill/app-${i}`, node, action: "evict", pdbs: [pdb(1)] });
      }
    }
    const p = drainPlanPreview({ selector: { group: "old" }, nodes, pods, serialisedBy: [] });
    expect(p.summary).toBe(
      "cordon 300 nodes of group old, evict 4898 pods, 3 would block, 99 stay (DaemonSet/mirror/finished)",
    );
    expect(p.items.length).toBeLessThan(10);
    expect(p.items[0]).toEqual({
      kind: "block",
      target: "fill/web-0 on old-000",
      detail: "Cannot evict pod; PDB web-pdb (disruptionsAllowed 0, 4/4 healthy)",
    });
    expect(p.items).toContainEqual({
      kind: "evict",
      target: "4898 pods in namespace fill on 294 nodes",
      detail: "PDB web-pdb (disruptionsAllowed 1, 4/4 healthy)",
    });
    expect(p.items).toContainEqual({
      kind: "cordon",
      target: "300 nodes: old-000, old-001, old-002, …, old-298, old-299",
    });
  });

  it("DrainBlockedError names each budget once", () => {
    const b = (pod: string) => ({
      node: "old-1",
      pod,
      message: "refused",
      pdbs: [{ namespace: "drain-t", name: "web-pdb", disruptionsAllowed: 0 }],
    });
    const err = new DrainBlockedError("node old-1 not drained within 3s", "hint", [b("a"), b("b")]);
    expect(err.pdbNames).toEqual(["drain-t/web-pdb"]);
    expect(err.details).toMatchObject({ blockers: 2, pdbs: ["drain-t/web-pdb"] });
    expect(err.exitCode).toBe(1);
  });
});
