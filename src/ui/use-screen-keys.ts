import { useInput } from "ink";
import type { EngineActions } from "../engine/events.js";
import { onKey, type Prompt } from "./prompt-state.js";
import type { ScrollAction, ScrollState } from "./scroll-state.js";
import type { ScreenState } from "./state.js";

// Keys → the prompt reducer (decisions, typed confirmation, quit question) first, then the
// viewport (scroll, filter, log view). Only active when stdin is a TTY.

export interface ScreenKeyHandlers {
  isActive: boolean;
  prompt: Prompt;
  setPrompt: (p: Prompt) => void;
  scroll: ScrollState;
  scrollBy: (a: ScrollAction) => void;
  toggleLog: () => void;
}

export function useScreenKeys(state: ScreenState, actions: EngineActions, h: ScreenKeyHandlers) {
  useInput(
    (input, key) => {
      const ctrlC = key.ctrl && input === "c";
      // The `/` filter prompt takes every key but Ctrl-C.
      if (h.scroll.draft !== undefined && !ctrlC) {
        if (key.escape) h.scrollBy({ type: "filter-cancel" });
        else if (key.return) h.scrollBy({ type: "filter-apply" });
        else if (key.backspace || key.delete) h.scrollBy({ type: "filter-erase" });
        else if (input && !key.ctrl && !key.meta) {
          // A fast typist or a paste delivers text and Enter in one chunk.
          const [text = "", ...rest] = input.split(/\r|\n/);
          if (text) h.scrollBy({ type: "filter-type", text });
          if (rest.length > 0) h.scrollBy({ type: "filter-apply" });
        }
        return;
      }
      const out = onKey(h.prompt, state, {
        input,
        ctrl: key.ctrl,
        return: key.return,
        escape: key.escape,
        backspace: key.backspace || key.delete,
      });
      if (out.prompt !== h.prompt) h.setPrompt(out.prompt);
      if (out.effect?.kind === "decide") actions.decide(out.effect.step, out.effect.decision);
      if (out.effect?.kind === "abort") actions.abort(out.effect.reason);
      if (out.handled) return;
      if (key.upArrow || input === "k") h.scrollBy({ type: "lines", n: -1 });
      else if (key.downArrow || input === "j") h.scrollBy({ type: "lines", n: 1 });
      else if (key.pageUp) h.scrollBy({ type: "pages", n: -1 });
      else if (key.pageDown || input === " ") h.scrollBy({ type: "pages", n: 1 });
      else if (key.home || input === "g") h.scrollBy({ type: "top" });
      else if (key.end || input === "G") h.scrollBy({ type: "end" });
      else if (input === "/") h.scrollBy({ type: "filter-open" });
      else if (key.escape && h.scroll.filter) h.scrollBy({ type: "filter-cancel" });
      else if (input === "l") h.toggleLog();
    },
    { isActive: h.isActive },
  );
}
