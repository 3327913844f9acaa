import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import type { EngineEvent } from "../../src/engine/events.js";
import { Journal } from "../../src/engine/journal.js";
import type {
  InfraDriver,
  PreviewResult,
  Probe,
  ResourceChange,
  TrafficSource,
} from "../../src/engine/ports.js";
import type { ProjectSpec } from "../../src/infra/project-spec.js";
import type { OwnStackContext } from "../../src/migrations/own-stack/context.js";
import { loadPlan } from "../../src/migrations/own-stack/plan-file.js";
import { ownStackSteps } from "../../src/migrations/own-stack/steps.js";

// The example plan's steps driven by the engine with in-test fakes (pure logic): a dry run
// shows the manual step as waiting for your change and applies nothing; an edit whose
// preview lies outside the step's intent is refused before any confirmation or apply.

const example = loadPlan(join(import.meta.dirname, "../../examples/own-stack/migration.yaml"));
// Gates hold for 10 ms here, not the plan's 5 s.
const plan = { ...example, gates: { ...example.gates, windowSeconds: 0.01 } };

const change = (op: ResourceChange["op"], type: string, name: string): ResourceChange => ({
  op,
  type,
  name,
  urn: `urn:pulumi:dev::shop::${type}::${name}`,
  diffs: [],
  replaceKeys: [],
});

class FakeProject implements InfraDriver<ProjectSpec> {
  applied: ProjectSpec[] = [];
  /** What the program on disk previews as, per manual edit. */
  edit: ResourceChange[] = [];
  async appliedSpec() {
    return this.applied.at(-1);
  }
  async preview(spec: ProjectSpec): Promise<PreviewResult> {
    // A new edit previews as the program's change; otherwise the config keys that change.
    const before = this.applied.at(-1) ?? { config: {}, edits: [] };
    const resources =
      spec.edits.length > before.edits.length
        ? this.edit
        : Object.keys(spec.config)
            .filter((k) => spec.config[k] !== before.config[k])
            .map((k) =>
              change(
                "update",
                "pulumi-nodejs:dynamic/shop:NodeGroup",
                k.startsWith("green") ? "pool-green" : "pool-blue",
              ),
            );
    const count = (op: string) => resources.filter((r) => r.op === op).length;
    return {
      changes: {
        create: count("create"),
        update: count("update"),
        replace: count("replace"),
        delete: count("delete"),
        same: 0,
      },
      resources,
    };
  }
  async apply(spec: ProjectSpec) {
    this.applied.push(spec);
    return {
      changes: { create: 0, update: 1, replace: 0, delete: 0, same: 0 },
      durationMs: 1,
      outputs: {},
    };
  }
  async recover() {
    return { actions: [] };
  }
  async outputs() {
    return {};
  }
}

const holds: Probe = {
  observe: async (signal, report) => {
    report({ ok: true, reason: "holds" });
    await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
  },
};
const traffic: TrafficSource = {
  running: false,
  start: async () => {},
  stop: async () => {},
  mark: () => {},
  subscribe: () => () => {},
  window: () => ({ requests: 0, ok: 0, failed: 0, successRate: 1 }),
  since: () => ({ requests: 0, ok: 0, failed: 0, successRate: 1 }),
  total: () => ({ requests: 0, ok: 0, failed: 0, successRate: 1 }),
  timeline: () => ({ samples: [], marks: [] }),
};
const ctx = (edited: () => void): OwnStackContext => ({
  plan,
  traffic,
  trafficTarget: { url: "http://127.0.0.1:1" },
  probes: {
    newGroupReady: () => holds,
    asgInService: () => holds,
    workloadsMoved: () => holds,
    oldDrained: () => holds,
    oldNodesGone: () => holds,
    trafficHealthy: () => holds,
    zeroFailures: () => holds,
  },
  ops: {
    drainPreview: async () => ({ summary: "drain", items: [] }),
    drain: async () => ({ summary: "drained" }),
    uncordon: async () => ({ summary: "uncordoned" }),
    deleteNodesPreview: async () => ({ summary: "delete", items: [] }),
    deleteNodes: async () => ({ summary: "deleted" }),
  },
  program: {
    projectDir: "/shop",
    waitForChange: async () => {
      edited();
      return { summary: "the program changed" };
    },
  },
  report: {
    preview: () => ({ summary: "write the report", items: [] }),
    write: async () => ({ path: "/r/report.md", summary: "written" }),
  },
});

function engine(infra: FakeProject, o: { dryRun: boolean; edited?: () => void }) {
  const events: EngineEvent[] = [];
  const e = new Engine({
    steps: ownStackSteps(plan),
    ctx: ctx(o.edited ?? (() => {})),
    infra,
    journal: new Journal<ProjectSpec>(join(mkdtempSync(join(tmpdir(), "own-")), "journal.jsonl")),
    initialSpec: { config: {}, edits: [] },
    stack: "dev",
    target: "your stack",
    dryRun: o.dryRun,
    yes: true,
    overrideGates: [],
  });
  e.on((ev) => events.push(ev));
  return { e, events };
}

describe("the example plan on the engine", () => {
  it("a dry run shows the manual step as waiting for your change and applies nothing", async () => {
    const infra = new FakeProject();
    const { e, events } = engine(infra, { dryRun: true });
    const r = await e.run();
    expect(r.result).toBe("dry-run");
    expect(infra.applied).toEqual([]);
    const edit = events.find((ev) => ev.type === "preview" && ev.step === "move-workloads-edit");
    expect(edit?.type === "preview" && edit.action?.summary).toBe(
      "waits for your change to the program in /shop",
    );
  });

  it("refuses an edit outside the intent before confirmation; applies the config steps before it", async () => {
    const infra = new FakeProject();
    const { e, events } = engine(infra, {
      dryRun: false,
      edited: () => {
        infra.edit = [
          change("update", "kubernetes:apps/v1:Deployment", "echoserver"),
          change("replace", "kubernetes:core/v1:Service", "echoserver"),
        ];
      },
    });
    const r = await e.run();
    expect(r.exitCode).toBe(1);
    expect(infra.applied).toEqual([{ config: { greenSize: "2" }, edits: [] }]);
    const preview = events.find((ev) => ev.type === "preview" && ev.step === "move-workloads");
    expect(preview?.type === "preview" && preview.intent?.violations).toEqual([
      expect.objectContaining({ op: "replace", name: "echoserver" }),
    ]);
    const statuses = events
      .filter((ev) => ev.type === "step" && ev.step === "move-workloads")
      .map((ev) => (ev.type === "step" ? ev.status : ""));
    expect(statuses).not.toContain("awaiting-confirmation");
    expect(statuses).not.toContain("applying");
  });

  it("applies the right edit and finishes, the old group shrunk last", async () => {
    const infra = new FakeProject();
    const { e, events } = engine(infra, {
      dryRun: false,
      edited: () => {
        infra.edit = [change("update", "kubernetes:apps/v1:Deployment", "echoserver")];
      },
    });
    const r = await e.run();
    const failed = events.filter((ev) => ev.type === "step" && ev.status === "failed");
    expect(failed).toEqual([]);
    expect(r.result).toBe("completed");
    expect(infra.applied.at(-1)).toEqual({
      config: { greenSize: "2", blueSize: "0" },
      edits: ["move-workloads"],
    });
  });
});
