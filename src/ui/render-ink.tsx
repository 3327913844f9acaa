import { render } from "ink";
import type { EngineActions, EngineEvent } from "../engine/events.js";
import { App } from "./app.js";
import { createScreenStore } from "./screen-store.js";

// Mounts the TUI. One owner of exit: the CLI awaits the engine, then calls `close()`, which
// flushes the last state, lets Ink draw it, and unmounts (restoring the terminal).

export interface InkRenderer {
  onEvent(e: EngineEvent): void;
  close(): Promise<void>;
}

export function renderInk(actions: EngineActions, opts: { interactive: boolean }): InkRenderer {
  const store = createScreenStore(10);
  const instance = render(<App store={store} actions={actions} interactive={opts.interactive} />, {
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 10,
  });
  return {
    onEvent: (e) => store.dispatch(e),
    async close() {
      store.flush();
      await instance.waitUntilRenderFlush();
      instance.unmount();
      await instance.waitUntilExit().catch(() => undefined);
    },
  };
}
