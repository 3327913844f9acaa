import { render } from "ink";
import type { EngineActions, EngineEvent } from "../engine/events.js";
import { App } from "./app.js";
import { outcomeLines } from "./outcome-lines.js";
import { createScreenStore } from "./screen-store.js";

// Mounts the TUI in the terminal's alternate screen (like less, k9s, htop): the frame is
// exactly the terminal's size and redraws in place, so nothing piles up in scrollback. One
// owner of exit: the CLI awaits the engine, then calls `close()`, which flushes the last
// state, lets Ink draw it, unmounts (restoring the normal screen) and prints the outcome
// there, so it stays in the scrollback.

export interface InkRenderer {
  onEvent(e: EngineEvent): void;
  close(): Promise<void>;
}

export function renderInk(
  actions: EngineActions,
  opts: {
    interactive: boolean;
    write?: (text: string) => void;
    /** Where frames go (default the process's stdout; bench/screen-cost.ts counts them). */
    stdout?: NodeJS.WriteStream;
    /** Called after each frame Ink writes. */
    onRender?: () => void;
  },
): InkRenderer {
  const store = createScreenStore(10);
  const instance = render(<App store={store} actions={actions} interactive={opts.interactive} />, {
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 10,
    alternateScreen: true,
    ...(opts.stdout ? { stdout: opts.stdout } : {}),
    ...(opts.onRender ? { onRender: opts.onRender } : {}),
  });
  const write = opts.write ?? ((text: string) => process.stdout.write(text));
  let closed = false;
  return {
    onEvent: (e) => store.dispatch(e),
    async close() {
      if (closed) return;
      closed = true;
      store.flush();
      await instance.waitUntilRenderFlush();
      instance.unmount();
      await instance.waitUntilExit().catch(() => undefined);
      const lines = outcomeLines(store.getSnapshot());
      if (lines.length) write(`${lines.join("\n")}\n`);
    },
  };
}
