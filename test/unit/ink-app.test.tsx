import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import type { Decision, EngineActions, EngineEvent } from "../../src/engine/events.js";
import { App } from "../../src/ui/app.js";
import { createScreenStore } from "../../src/ui/screen-store.js";

const at = "2026-11-21T10:00:00.000Z";
const runEvent: EngineEvent = {
  type: "run",
  runId: "r1",
  stack: "dev",
  target: "local",
  dryRun: false,
  steps: [
    { id: "provision", index: 1, title: "Provision", why: "baseline", status: "done" },
    {
      id: "migrate-nginx",
      index: 2,
      title: "Migrate NGINX",
      why: "Point NGINX's affinity at c5.4xlarge.",
      status: "pending",
    },
  ],
  at,
};

function harness(size = { columns: 160, rows: 48 }) {
  const store = createScreenStore(1000);
  const decisions: [string, Decision][] = [];
  const aborts: string[] = [];
  const actions: EngineActions = {
    decide: (s, d) => decisions.push([s, d]),
    abort: (r) => aborts.push(r ?? ""),
  };
  const ui = render(<App store={store} actions={actions} interactive={true} size={size} />);
  const send = (...events: EngineEvent[]) => {
    for (const e of events) store.dispatch(e);
    store.flush();
  };
  return { ui, send, decisions, aborts };
}

/** Waits for a frame containing `text` (renders are asynchronous). */
async function frameWith(ui: ReturnType<typeof render>, text: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const f = ui.lastFrame() ?? "";
    if (f.includes(text)) return f;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no frame with ${JSON.stringify(text)}; last frame:\n${ui.lastFrame()}`);
}

describe("Ink app", () => {
  it("shows steps, the preview with property diffs, the confirmation and the key hints", async () => {
    // Given a run waiting for confirmation of step 2 with a one-update preview
    const { ui, send } = harness();
    send(
      runEvent,
      { type: "step", step: "migrate-nginx", index: 2, status: "previewing", at },
      {
        type: "preview",
        step: "migrate-nginx",
        changes: { create: 0, update: 1, replace: 0, delete: 0 },
        resources: [
          {
            op: "update",
            urn: "urn:x",
            type: "kubernetes:apps/v1:Deployment",
            name: "apps/nginx-ing-cntlr",
            diffs: [
              {
                path: "spec.template.spec.affinity…values[0]",
                kind: "update",
                old: "t3.2xlarge",
                new: "c5.4xlarge",
              },
            ],
            replaceKeys: [],
          },
        ],
        at,
      },
      { type: "step", step: "migrate-nginx", index: 2, status: "awaiting-confirmation", at },
      {
        type: "awaiting",
        step: "migrate-nginx",
        kind: "confirm",
        options: ["confirm", "stop"],
        at,
      },
    );
    // Then the screen shows all of it
    const f = await frameWith(ui, "Apply this step?");
    expect(f).toContain("eks-runbook · stack dev · local");
    expect(f).toContain("2 Migrate NGINX");
    expect(f).toContain("~1 to update");
    expect(f).toContain("~ apps/nginx-ing-cntlr  Deployment");
    expect(f).toContain("t3.2xlarge → c5.4xlarge");
    expect(f).toContain("[y] apply");
    ui.unmount();
  });

  it("turns keys into engine actions only when they are valid options", async () => {
    const { ui, send, decisions, aborts } = harness();
    send(
      runEvent,
      { type: "step", step: "migrate-nginx", index: 2, status: "awaiting-confirmation", at },
      {
        type: "awaiting",
        step: "migrate-nginx",
        kind: "confirm",
        options: ["confirm", "stop"],
        at,
      },
    );
    await frameWith(ui, "[y] apply");
    ui.stdin.write("r"); // not an option while confirming
    ui.stdin.write("y");
    expect(decisions).toEqual([["migrate-nginx", "confirm"]]);
    send({
      type: "awaiting",
      step: "migrate-nginx",
      kind: "failure",
      options: ["retry", "rollback", "stop"],
      at,
    });
    await frameWith(ui, "[r] retry gates");
    ui.stdin.write("b");
    expect(decisions.at(-1)).toEqual(["migrate-nginx", "rollback"]);
    ui.stdin.write("s");
    expect(decisions.at(-1)).toEqual(["migrate-nginx", "stop"]);
    ui.stdin.write("q");
    expect(aborts).toEqual(["quit by the operator"]);
    ui.unmount();
  });

  it("shows gates with reasons and the traffic pane with rates, latency and errors", async () => {
    const { ui, send } = harness();
    send(
      runEvent,
      { type: "step", step: "migrate-nginx", index: 2, status: "verifying", at },
      {
        type: "gate",
        step: "migrate-nginx",
        gate: "nginx-placement",
        title: "",
        passed: false,
        settled: false,
        reason: "2/3 nginx pods on c5.4xlarge",
        at,
      },
      {
        type: "gate",
        step: "migrate-nginx",
        gate: "traffic",
        title: "",
        passed: true,
        settled: true,
        reason: "100% of 1840 ok",
        at,
      },
      {
        type: "traffic",
        at,
        requests: 1840,
        ok: 1840,
        failed: 0,
        errors: {},
        p50Ms: 1.9,
        p99Ms: 8.7,
        total: { requests: 1840, ok: 1840, failed: 0 },
        step: { id: "migrate-nginx", requests: 1840, ok: 1840, failed: 0 },
      },
      {
        type: "traffic",
        at,
        requests: 1000,
        ok: 998,
        failed: 2,
        errors: { "502": 2 },
        p50Ms: 2,
        p99Ms: 9,
        total: { requests: 2840, ok: 2838, failed: 2 },
        step: { id: "migrate-nginx", requests: 2840, ok: 2838, failed: 2 },
      },
    );
    const f = await frameWith(ui, "2/3 nginx pods");
    expect(f).toMatch(/✔ traffic 100% of 1840 ok/);
    expect(f).toContain("99.93% ok (10s)");
    expect(f).toContain("1,000 rps");
    expect(f).toContain("p50 2.0ms p99 9.0ms");
    expect(f).toContain("errors 2");
    expect(f).toContain("502 ×2");
    ui.unmount();
  });

  it("prints finished steps once (static) and the summary at the end", async () => {
    const { ui, send } = harness();
    send(
      runEvent,
      { type: "step", step: "provision", index: 1, status: "previewing", at },
      { type: "step", step: "provision", index: 1, status: "done", at },
      { type: "step", step: "migrate-nginx", index: 2, status: "previewing", at },
      {
        type: "summary",
        result: "completed",
        stepsDone: 2,
        requests: { total: 4100000, ok: 4100000, failed: 0 },
        overrides: 0,
        at,
      },
    );
    const f = await frameWith(ui, "completed: 2 steps done");
    expect(f).toContain("4,100,000 requests, 0 failed");
    expect(ui.frames.join("\n")).toMatch(/✔ 1 Provision/);
    ui.unmount();
  });
});
