import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";

// `--plan` runs the user's own Pulumi program, which needs Pulumi's Node.js language host
// (pulumi-language-nodejs, part of every Pulumi install). The local toolchain cannot build
// it: its Go module is untagged and the module proxy here refuses it. Tests that run a
// project's program need it on PATH; they are skipped, saying why, where it is missing.

export function hasLanguageHost(): boolean {
  const env = pulumiEnv(toolchain());
  return Boolean(
    env.PATH?.split(delimiter).some((d) => d && existsSync(join(d, "pulumi-language-nodejs"))),
  );
}

export const LANGUAGE_HOST_MISSING =
  "skipped: pulumi-language-nodejs (Pulumi's Node.js language host) is not on PATH; the toolchain cannot build it from the module proxy, so a project's own program cannot run here";
