import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { RunbookError } from "../engine/errors.js";
import { isAlive } from "./processes.js";

// One `sandbox up` or `down` at a time per sandbox: a lock file holding the owner's pid. A
// lock left by a process that no longer exists is taken over.

export async function withLock<T>(
  lockFile: string,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
      const stale = !Number.isInteger(owner) || (owner !== process.pid && !isAlive(owner));
      if (attempt === 0 && stale) {
        rmSync(lockFile, { force: true });
        continue;
      }
      throw new RunbookError(
        `another sandbox operation holds ${lockFile} (pid ${owner})`,
        `Wait for it to finish, or stop pid ${owner}, then run ${what} again.`,
      );
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
