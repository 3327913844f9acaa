// Lets plain Node (24, with --experimental-transform-types) run the TypeScript sources in a
// child process: our imports name `./x.js` (NodeNext style) for files that are `./x.ts`.
import { existsSync } from "node:fs";
import { registerHooks } from "node:module";
import { fileURLToPath } from "node:url";

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      /^\.{1,2}\//.test(specifier) &&
      specifier.endsWith(".js") &&
      context.parentURL?.startsWith("file:")
    ) {
      const url = new URL(specifier, context.parentURL);
      const ts = new URL(url.href.replace(/\.js$/, ".ts"));
      if (!existsSync(fileURLToPath(url)) && existsSync(fileURLToPath(ts))) {
        return nextResolve(ts.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
});
