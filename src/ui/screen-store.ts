import type { EngineEvent } from "../engine/events.js";
import { createPlainRenderer } from "../render/plain-renderer.js";
import { appendLog, initialState, reduce, type ScreenState } from "./state.js";

// Holds the screen state and tells React about it at most `maxPerSecond` times a second:
// events may arrive in bursts (apply progress, gate updates, traffic), renders must not.

export interface ScreenStore {
  dispatch(e: EngineEvent): void;
  getSnapshot(): ScreenState;
  subscribe(listener: () => void): () => void;
  /** Push any pending state out now (before unmounting). */
  flush(): void;
}

export function createScreenStore(maxPerSecond = 10, now: () => number = Date.now): ScreenStore {
  let state = initialState(now());
  let published = state;
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let lastPublish = 0;
  const interval = 1000 / maxPerSecond;
  // The log view shows the run's events as the plain renderer words them.
  let pending: string[] = [];
  const plain = createPlainRenderer((line) => pending.push(line));

  const publish = () => {
    timer = undefined;
    lastPublish = now();
    if (published === state) return;
    published = state;
    for (const l of listeners) l();
  };

  return {
    dispatch(e) {
      state = reduce(state, e, now());
      plain(e);
      if (pending.length) {
        state = appendLog(state, pending);
        pending = [];
      }
      if (timer) return;
      const wait = Math.max(0, interval - (now() - lastPublish));
      timer = setTimeout(publish, wait);
    },
    getSnapshot: () => published,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush() {
      if (timer) clearTimeout(timer);
      publish();
    },
  };
}
