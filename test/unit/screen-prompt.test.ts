import { describe, expect, it } from "vitest";
import { type KeyPress, onKey, type Prompt } from "../../src/ui/prompt-state.js";
import type { ScreenState, StepView } from "../../src/ui/state.js";

const step = (id: string, index: number, status: StepView["status"]): StepView => ({
  id,
  index,
  title: id,
  why: "",
  status,
  gates: {},
  gateHistory: [],
  messages: [],
});
type Screen = Pick<ScreenState, "awaiting" | "steps" | "current" | "summary">;
const none: Prompt = { kind: "none" };

function press(prompt: Prompt, screen: Screen, ...keys: (string | KeyPress)[]) {
  const effects = [];
  let p = prompt;
  for (const k of keys) {
    const out = onKey(p, screen, typeof k === "string" ? { input: k } : k);
    p = out.prompt;
    if (out.effect) effects.push(out.effect);
  }
  return { prompt: p, effects };
}

describe("key safety (prompt reducer)", () => {
  const confirming = (destructive?: { reason: string; confirmWith: string }): Screen => ({
    current: "drain",
    steps: [step("drain", 5, "awaiting-confirmation")],
    awaiting: {
      step: "drain",
      kind: "confirm",
      options: ["confirm", "stop"],
      ...(destructive ? { destructive } : {}),
    },
  });

  it("a plain confirmation: y confirms, n stops", () => {
    expect(press(none, confirming(), "y").effects).toEqual([
      { kind: "decide", step: "drain", decision: "confirm" },
    ]);
    expect(press(none, confirming(), "n").effects).toEqual([
      { kind: "decide", step: "drain", decision: "stop" },
    ]);
  });

  it("a destructive step needs its confirmWith typed before confirm is sent", () => {
    const screen = confirming({ reason: "this step removes capacity", confirmWith: "5" });
    // y opens the typed prompt and sends nothing
    let r = press(none, screen, "y");
    expect(r.effects).toEqual([]);
    expect(r.prompt).toMatchObject({ kind: "typed", confirmWith: "5", typed: "" });
    // a wrong number is refused and nothing is sent
    r = press(r.prompt, screen, "4", { input: "", return: true });
    expect(r.effects).toEqual([]);
    expect(r.prompt).toMatchObject({
      kind: "typed",
      typed: "",
      error: '"4" is not 5; nothing applied',
    });
    // Esc goes back without deciding
    expect(press(r.prompt, screen, { input: "", escape: true })).toEqual({
      prompt: none,
      effects: [],
    });
    // typing 5 and Enter confirms
    r = press(none, screen, "y", "5", { input: "", return: true });
    expect(r.effects).toEqual([{ kind: "decide", step: "drain", decision: "confirm" }]);
    expect(r.prompt).toEqual(none);
  });

  it("a typed confirmation arriving in one chunk with its Enter (fast typing, paste) counts", () => {
    const screen = confirming({ reason: "this step removes capacity", confirmWith: "5" });
    expect(press(none, screen, "y", "5\r").effects).toEqual([
      { kind: "decide", step: "drain", decision: "confirm" },
    ]);
    const wrong = press(none, screen, "y", "4\n");
    expect(wrong.effects).toEqual([]);
    expect(wrong.prompt).toMatchObject({ kind: "typed", error: '"4" is not 5; nothing applied' });
  });

  it("q or Ctrl-C during an apply asks first; n continues, y cancels, a second Ctrl-C forces", () => {
    const applying: Screen = { current: "provision", steps: [step("provision", 1, "applying")] };
    let r = press(none, applying, "q");
    expect(r.effects).toEqual([]);
    expect(r.prompt).toEqual({ kind: "quit" });
    expect(press(r.prompt, applying, "n")).toEqual({ prompt: none, effects: [] });
    expect(press(r.prompt, applying, "y").effects).toEqual([
      { kind: "abort", reason: "update cancelled by the operator" },
    ]);
    r = press(none, applying, { input: "c", ctrl: true }, { input: "c", ctrl: true });
    expect(r.effects).toEqual([{ kind: "abort", reason: "interrupted (Ctrl-C twice)" }]);
  });

  it("q while gates run asks too (the question stays if the step moves on); waiting for a decision it quits at once", () => {
    const verifying: Screen = { current: "a", steps: [step("a", 1, "verifying")] };
    const r = press(none, verifying, "q");
    expect(r).toEqual({ prompt: { kind: "quit" }, effects: [] });
    expect(press(r.prompt, verifying, "y").effects).toEqual([
      { kind: "abort", reason: "quit by the operator" },
    ]);
    const waiting: Screen = {
      current: "a",
      steps: [step("a", 1, "awaiting-confirmation")],
      awaiting: { step: "a", kind: "confirm", options: ["confirm", "stop"] },
    };
    expect(press(none, waiting, "q").effects).toEqual([
      { kind: "abort", reason: "quit by the operator" },
    ]);
  });

  it("a failure offers only what the engine listed", () => {
    const failed: Screen = {
      current: "a",
      steps: [step("a", 1, "failed")],
      awaiting: { step: "a", kind: "failure", options: ["retry", "stop"], reason: "gates" },
    };
    expect(press(none, failed, "b", "o", "n").effects).toEqual([]);
    expect(press(none, failed, "r").effects).toEqual([
      { kind: "decide", step: "a", decision: "retry" },
    ]);
    expect(press(none, failed, "s").effects).toEqual([
      { kind: "decide", step: "a", decision: "stop" },
    ]);
  });
});
