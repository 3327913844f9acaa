import { render } from "ink-testing-library";
import stripAnsi from "strip-ansi";
import { describe, expect, it } from "vitest";
import type { Decision, EngineActions, EngineEvent } from "../../src/engine/events.js";
import { App } from "../../src/ui/app.js";
import { createScreenStore } from "../../src/ui/screen-store.js";
import { at, bigPreview, confirmAt } from "../helpers/screen-events.js";

// The real screen fed synthetic event sequences at fixed terminal sizes: the frame fits the
// height, everything confirmed can be scrolled to, and destructive keys ask twice.

function harness(columns: number, rows: number) {
  const store = createScreenStore(1000);
  const decisions: [string, Decision][] = [];
  const aborts: string[] = [];
  const actions: EngineActions = {
    decide: (s, d) => decisions.push([s, d]),
    abort: (r) => aborts.push(r ?? ""),
  };
  const ui = render(
    <App store={store} actions={actions} interactive={true} size={{ columns, rows }} />,
  );
  const send = (...events: EngineEvent[]) => {
    for (const e of events) store.dispatch(e);
    store.flush();
  };
  const frame = () => stripAnsi(ui.lastFrame() ?? "");
  const waitFor = async (pred: string | ((f: string) => boolean)) => {
    for (let i = 0; i < 200; i++) {
      const f = frame();
      if (typeof pred === "string" ? f.includes(pred) : pred(f)) return f;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no frame with ${String(pred)}; last frame:\n${frame()}`);
  };
  const keys = async (...ks: string[]) => {
    for (const k of ks) {
      ui.stdin.write(k);
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  return { ui, send, frame, waitFor, keys, decisions, aborts };
}

const PAGE_DOWN = "\u001B[6~";
const END = "\u001B[F";

describe.each([
  [80, 24],
  [100, 30],
  [120, 24],
  [200, 50],
  [250, 70],
])("screen at %i×%i", (columns, rows) => {
  it("never draws more rows or columns than the terminal has, and scrolls a 40-resource preview to its end", async () => {
    const h = harness(columns, rows);
    h.send(...confirmAt(4), bigPreview("migrate-nginx", 40));
    const f = await h.waitFor("Apply this step?");
    const lines = f.split("\n");
    expect(lines.length).toBeLessThanOrEqual(rows);
    for (const l of lines) expect([...l].length).toBeLessThan(columns);
    // Header, steps (done ones once), the preview's head and the key hints are on screen.
    expect(f).toContain("eks-runbook · stack dev · local");
    expect(f).toContain("4/9 Migrate NGINX (awaiting-confirmation)");
    expect(f).toContain("+40 to create");
    expect(f.match(/✔ 3 Create new group/g)?.length ?? 0).toBeLessThanOrEqual(1);
    expect(f).toContain("[y] apply");
    expect(f).toContain("↑↓ PgUp/PgDn scroll");
    expect(f).not.toContain("resource-40");
    // When the operator pages down to the end, the last resource and its full value show.
    await h.keys(PAGE_DOWN);
    await h.waitFor((x) => !x.includes("+40 to create") || rows >= 70);
    await h.keys(END);
    const end = await h.waitFor("resource-40");
    expect(end.replace(/\n\s*/g, "")).toContain("-end-40");
    expect(end.split("\n").length).toBeLessThanOrEqual(rows);
    // And a filter narrows the pane to matching lines.
    await h.keys("/", "r", "e", "s", "o", "u", "r", "c", "e", "-", "0", "7", "\r");
    const filtered = await h.waitFor(
      (x) => x.includes("resource-07") && !x.includes("resource-08"),
    );
    expect(filtered).toContain('/ filter "resource-07"');
    h.ui.unmount();
  });
});

describe("screen keys", () => {
  it("asks for the step number before confirming a destructive step", async () => {
    const h = harness(80, 24);
    h.send(
      ...confirmAt(6, {
        destructive: { reason: "this step removes capacity: delete 3 nodes", confirmWith: "6" },
      }),
    );
    await h.waitFor("Apply this step?");
    expect(h.frame()).toContain("type 6");
    await h.keys("y");
    const asked = await h.waitFor("Enter to apply");
    expect(asked).toContain("this step removes capacity: delete 3 nodes");
    expect(h.decisions).toEqual([]);
    await h.keys("7", "\r");
    await h.waitFor('"7" is not 6; nothing applied');
    expect(h.decisions).toEqual([]);
    await h.keys("6", "\r");
    expect(h.decisions).toEqual([["delete-old-nodes", "confirm"]]);
    h.ui.unmount();
  });

  it("q during an apply asks whether to cancel; n continues, Ctrl-C twice forces", async () => {
    const h = harness(200, 50);
    h.send(...confirmAt(1), {
      type: "step",
      step: "provision",
      index: 1,
      status: "applying",
      at,
    });
    await h.waitFor("(applying)");
    await h.keys("q");
    await h.waitFor("Cancel the update in progress?");
    expect(h.aborts).toEqual([]);
    await h.keys("n");
    await h.waitFor((f) => !f.includes("Cancel the update in progress?"));
    expect(h.aborts).toEqual([]);
    await h.keys("\u0003");
    await h.waitFor("Cancel the update in progress?");
    await h.keys("\u0003");
    expect(h.aborts).toEqual(["interrupted (Ctrl-C twice)"]);
    h.ui.unmount();
  });

  it("shows a failure's reason and its options", async () => {
    const h = harness(80, 24);
    h.send(
      ...confirmAt(5),
      { type: "step", step: "drain-old-nodes", index: 5, status: "failed", at },
      {
        type: "awaiting",
        step: "drain-old-nodes",
        kind: "failure",
        options: ["retry", "rollback", "override", "stop"],
        reason: "drained: apps/echo-2 blocked by PDB apps/echo",
        at,
      },
    );
    const f = await h.waitFor("Step failed:");
    expect(f).toContain("drained: apps/echo-2 blocked by PDB apps/echo");
    expect(f).toContain("[r] retry gates  [b] roll back  [o] override  [s] stop");
    expect(f.split("\n").length).toBeLessThanOrEqual(24);
    h.ui.unmount();
  });

  it("says when the terminal is below the minimum size", async () => {
    const h = harness(60, 20);
    h.send(...confirmAt(2));
    const f = await h.waitFor("needs at least");
    expect(f.replace(/\n/g, " ")).toContain("needs at least 80×24");
    expect(f.split("\n").length).toBeLessThanOrEqual(20);
    h.ui.unmount();
  });
});
