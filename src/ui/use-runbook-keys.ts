import { useInput } from "ink";
import type { Decision, EngineActions } from "../engine/events.js";
import type { ScreenState } from "./state.js";

// Keys → engine actions. Only active when stdin is a TTY; everything else is a renderer
// concern (details toggle).

const DECISION_KEYS: Record<string, Decision> = {
  y: "confirm",
  n: "stop",
  r: "retry",
  b: "rollback",
  o: "override",
  s: "stop",
};

export function useRunbookKeys(
  state: ScreenState,
  actions: EngineActions,
  opts: { isActive: boolean; toggleDetails: () => void },
): void {
  useInput(
    (input, key) => {
      if ((key.ctrl && input === "c") || input === "q") {
        actions.abort(input === "q" ? "quit by the operator" : "interrupted (Ctrl-C)");
        return;
      }
      if (input === "d") {
        opts.toggleDetails();
        return;
      }
      const decision = DECISION_KEYS[input];
      const awaiting = state.awaiting;
      if (decision && awaiting?.options.includes(decision)) actions.decide(awaiting.step, decision);
    },
    { isActive: opts.isActive },
  );
}
