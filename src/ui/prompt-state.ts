import type { Decision } from "../engine/events.js";
import type { ScreenState } from "./state.js";

// Key safety as a pure function of (prompt, screen, key) → (prompt, effect): a destructive
// step asks for its `confirmWith` typed before `confirm` is sent; quitting while something is
// in flight (an update applying, a preview, gates) asks first — the question names the update
// when one is applying, and stays up if the step moves on meanwhile, so a key pressed at a
// state change never quits by surprise; a second Ctrl-C forces. Waiting for a decision,
// nothing is in flight and q quits at once. Everything else maps keys to the options the
// engine offered. Unit-tested without a terminal; the key hook only forwards.

export type Prompt =
  | { kind: "none" }
  | {
      kind: "typed";
      step: string;
      confirmWith: string;
      reason: string;
      typed: string;
      error?: string;
    }
  | { kind: "quit" };

export interface KeyPress {
  input: string;
  ctrl?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
}

export type Effect =
  | { kind: "decide"; step: string; decision: Decision }
  | { kind: "abort"; reason: string };

export interface KeyOutcome {
  prompt: Prompt;
  effect?: Effect;
  /** The key was used here (the scroll keys must not see it). */
  handled: boolean;
}

const NONE: Prompt = { kind: "none" };

const DECISION_KEYS: Record<string, Decision> = {
  y: "confirm",
  r: "retry",
  b: "rollback",
  o: "override",
  s: "stop",
};

export function onKey(prompt: Prompt, screen: Screen, key: KeyPress): KeyOutcome {
  const ctrlC = key.ctrl === true && key.input === "c";
  const applying = isApplying(screen);

  if (prompt.kind === "quit") {
    if (ctrlC) return abort("interrupted (Ctrl-C twice)");
    if (key.input === "y")
      return abort(applying ? "update cancelled by the operator" : "quit by the operator");
    if (key.input === "n" || key.escape) return { prompt: NONE, handled: true };
    return { prompt, handled: true };
  }

  if (prompt.kind === "typed") {
    if (ctrlC) return abort("interrupted (Ctrl-C)");
    // A fast typist or a paste delivers text and Enter in one chunk ("6\r"): type, then Enter.
    const chunk = /^([^\r\n]*)[\r\n]/.exec(key.input);
    if (chunk && !key.return) {
      const typed = onKey(prompt, screen, { input: chunk[1] ?? "" });
      if (typed.prompt.kind !== "typed") return typed;
      return onKey(typed.prompt, screen, { input: "", return: true });
    }
    // The question is gone (the engine moved on): drop the prompt.
    if (screen.awaiting?.step !== prompt.step || screen.awaiting.kind !== "confirm")
      return { prompt: NONE, handled: false };
    if (key.escape) return { prompt: NONE, handled: true };
    if (key.backspace)
      return {
        prompt: { ...prompt, typed: [...prompt.typed].slice(0, -1).join("") },
        handled: true,
      };
    if (key.return) {
      if (prompt.typed.trim() === prompt.confirmWith)
        return {
          prompt: NONE,
          effect: { kind: "decide", step: prompt.step, decision: "confirm" },
          handled: true,
        };
      const { error: _, ...rest } = prompt;
      return {
        prompt: {
          ...rest,
          typed: "",
          error: `"${prompt.typed}" is not ${prompt.confirmWith}; nothing applied`,
        },
        handled: true,
      };
    }
    if (key.input && !key.ctrl && /^[\w.-]+$/.test(key.input))
      return { prompt: { ...prompt, typed: prompt.typed + key.input }, handled: true };
    return { prompt, handled: true };
  }

  if (ctrlC || key.input === "q") {
    if (inFlight(screen)) return { prompt: { kind: "quit" }, handled: true };
    return abort(ctrlC ? "interrupted (Ctrl-C)" : "quit by the operator");
  }

  const awaiting = screen.awaiting;
  if (!awaiting) return { prompt, handled: false };
  // `n` means "stop here" at a confirmation; on a failure `s` stops (n is not an option).
  const decision =
    key.input === "n" && awaiting.kind === "confirm" ? "stop" : DECISION_KEYS[key.input];
  if (!decision || !awaiting.options.includes(decision)) return { prompt, handled: false };
  if (decision === "confirm" && awaiting.kind === "confirm" && awaiting.destructive)
    return {
      prompt: {
        kind: "typed",
        step: awaiting.step,
        confirmWith: awaiting.destructive.confirmWith,
        reason: awaiting.destructive.reason,
        typed: "",
      },
      handled: true,
    };
  return { prompt, effect: { kind: "decide", step: awaiting.step, decision }, handled: true };
}

type Screen = Pick<ScreenState, "awaiting" | "steps" | "current" | "summary">;

export function isApplying(screen: Pick<ScreenState, "steps" | "current">): boolean {
  return screen.steps.some((s) => s.id === screen.current && s.status === "applying");
}

/** Something runs that quitting would interrupt (not waiting for a decision, not ended). */
export function inFlight(screen: Screen): boolean {
  if (screen.summary || screen.awaiting) return false;
  const step = screen.steps.find((s) => s.id === screen.current);
  return (
    step?.status === "applying" || step?.status === "previewing" || step?.status === "verifying"
  );
}

function abort(reason: string): KeyOutcome {
  return { prompt: NONE, effect: { kind: "abort", reason }, handled: true };
}
