import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

// Finding executables, in one place: the CLI's preflight (pulumi, aws), the sandbox's
// doctor (system tools) and the agent (nginx, haproxy, which Debian puts in /usr/sbin,
// often not on a non-root PATH).

export const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"] as const;

/** The first executable `name` in `extraDirs`, then on PATH; undefined when none. */
export function which(
  name: string,
  opts: { env?: NodeJS.ProcessEnv; extraDirs?: readonly string[] } = {},
): string | undefined {
  const dirs = [
    ...(opts.extraDirs ?? []),
    ...((opts.env ?? process.env).PATH ?? "").split(delimiter),
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
