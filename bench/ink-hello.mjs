// The peer for bench/first-frame.py: a bare Ink hello world, started the same way as the CLI.
import { render, Text } from "ink";
import { createElement } from "react";

const app = render(createElement(Text, null, "hello from ink"), {
  exitOnCtrlC: true,
  patchConsole: false,
});
setTimeout(() => app.unmount(), 60_000).unref();
process.on("SIGTERM", () => app.unmount());
