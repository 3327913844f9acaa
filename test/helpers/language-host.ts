import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";

// `--plan` runs the user's own Pulumi program, which needs a Node.js language host
// (pulumi-language-nodejs). A real Pulumi install ships Pulumi's own; the local toolchain
// cannot build that one (its Go module is untagged and the module proxy here refuses it), so
// it builds a rehearsal stand-in (toolchain/rehearsal-language-host, linked next to the
// pinned pulumi; docs/rehearsal-language-host.md). Tests that run a project's program need
// one of the two on the toolchain's PATH; where neither is, they are skipped, saying why.

export function hasLanguageHost(): boolean {
  const env = pulumiEnv(toolchain());
  return Boolean(
    env.PATH?.split(delimiter).some((d) => d && existsSync(join(d, "pulumi-language-nodejs"))),
  );
}

export const LANGUAGE_HOST_MISSING =
  "skipped: pulumi-language-nodejs (a Node.js language host) is not on the toolchain's PATH, so a project's own program cannot run here; build the rehearsal one with `bash scripts/setup-toolchain.sh pulumi language-host`";
