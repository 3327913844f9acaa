import type {
  ApplyResult,
  InfraDriver,
  PreviewResult,
  Probe,
  ProbeResult,
  ResourceChange,
  TrafficSample,
  TrafficSource,
  TrafficStats,
} from "../../src/engine/ports.js";
import type { Step } from "../../src/engine/step.js";
import type { MigrationSpec } from "../../src/infra/spec.js";

// In-test fakes for the engine's ports. Test-only: the shipped CLI has no fake mode.

export class FakeInfra implements InfraDriver<MigrationSpec> {
  applied: MigrationSpec[] = [];
  previews: MigrationSpec[] = [];
  recoveries = 0;
  failApply?: Error;
  blockApply?: Promise<void>;
  current: MigrationSpec | undefined;
  /** Extra changes every preview shows (a replace the step's intent does not name). */
  previewExtra: ResourceChange[] = [];

  async appliedSpec() {
    return this.current;
  }
  async preview(spec: MigrationSpec): Promise<PreviewResult> {
    this.previews.push(spec);
    const groups = spec.nodeGroups.length - (this.current?.nodeGroups.length ?? 0);
    return {
      changes: {
        create: Math.max(groups, 0),
        update: 1,
        replace: 0,
        delete: Math.max(-groups, 0),
        same: 3,
      },
      resources: [
        {
          op: "update",
          urn: "urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::nginx",
          type: "kubernetes:apps/v1:Deployment",
          name: "nginx-ing-cntlr",
          diffs: [{ path: "spec.affinity", kind: "update", old: "t3.2xlarge", new: "c5.4xlarge" }],
          replaceKeys: [],
        },
        ...this.previewExtra,
      ],
    };
  }
  async apply(
    spec: MigrationSpec,
    opts: { signal: AbortSignal; onProgress?: (p: { done: number; total: number }) => void },
  ): Promise<ApplyResult> {
    opts.onProgress?.({ done: 0, total: 1 });
    if (this.blockApply) {
      await Promise.race([
        this.blockApply,
        new Promise((_, rej) =>
          opts.signal.addEventListener("abort", () => rej(opts.signal.reason), { once: true }),
        ),
      ]);
    }
    if (this.failApply) throw this.failApply;
    this.applied.push(spec);
    this.current = spec;
    opts.onProgress?.({ done: 1, total: 1 });
    return {
      changes: { create: 0, update: 1, replace: 0, delete: 0, same: 3 },
      durationMs: 1,
      outputs: {},
    };
  }
  async recover() {
    this.recoveries++;
    return { actions: ["cleared a stale lock"] };
  }
  async outputs() {
    return {};
  }
}

/** A probe whose verdict the test sets; it reports on every change, like a watch. */
export class ControlledProbe implements Probe {
  private listeners = new Set<(r: ProbeResult) => void>();
  private current: ProbeResult;
  observed = 0;
  constructor(initial: ProbeResult = { ok: true, reason: "ok" }) {
    this.current = initial;
  }
  set(r: ProbeResult) {
    this.current = r;
    for (const l of this.listeners) l(r);
  }
  async observe(signal: AbortSignal, report: (r: ProbeResult) => void) {
    this.observed++;
    this.listeners.add(report);
    report(this.current);
    await new Promise<void>((resolve) =>
      signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    this.listeners.delete(report);
  }
}

export class FakeTraffic implements TrafficSource {
  running = false;
  starts = 0;
  marks: string[] = [];
  private listeners = new Set<(s: TrafficSample) => void>();
  stats: TrafficStats = { requests: 100, ok: 100, failed: 0, successRate: 100 };
  async start() {
    this.running = true;
    this.starts++;
  }
  async stop() {
    this.running = false;
  }
  mark(label: string) {
    this.marks.push(label);
  }
  subscribe(l: (s: TrafficSample) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(s: TrafficSample) {
    for (const l of this.listeners) l(s);
  }
  window() {
    return this.stats;
  }
  since() {
    return this.stats;
  }
  total() {
    return this.stats;
  }
  timeline() {
    return { samples: [], marks: [] };
  }
}

export interface FakeCtx {
  probes: Record<string, ControlledProbe>;
  actionsRun: string[];
}

/** A small runbook: a Pulumi step, an action step and another Pulumi step. */
export function fakeSteps(windowMs = 20, timeoutMs = 500): Step<FakeCtx, MigrationSpec>[] {
  const gate = (id: string) => ({
    id,
    title: id,
    windowMs,
    timeoutMs,
    probe: (c: FakeCtx) => {
      c.probes[id] ??= new ControlledProbe();
      return c.probes[id]!;
    },
  });
  return [
    {
      id: "grow",
      title: "Grow",
      why: "adds capacity",
      change: (s) => ({ ...s, echoserver: { replicas: s.echoserver.replicas + 1 } }),
      gates: [gate("nodes")],
    },
    {
      id: "act",
      title: "Act",
      why: "does something",
      action: {
        preview: async () => ({
          summary: "would act",
          items: [{ kind: "evict", target: "pod/a" }],
        }),
        run: async (c) => {
          c.actionsRun.push("act");
          return { summary: "acted" };
        },
        undo: async (c) => {
          c.actionsRun.push("undo");
          return { summary: "undone" };
        },
      },
      gates: [gate("drained")],
    },
    {
      id: "shrink",
      title: "Shrink",
      why: "removes capacity",
      change: (s) => ({ ...s, echoserver: { replicas: s.echoserver.replicas - 1 } }),
      gates: [gate("traffic")],
    },
  ];
}
