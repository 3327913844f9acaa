import { chmodSync, closeSync, constants, fsyncSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { InputError, userFsError } from "./errors.js";

// State directories (journal, log, lock, reports, the local Pulumi backend and its
// passphrase) hold what a resume depends on and what an attacker would like to swap:
// they are created 0700, and one that others can write is tightened (ours) or refused.

export type Warn = (message: string) => void;

const stderrWarn: Warn = (m) => void process.stderr.write(m);

function checkDir(dir: string, warn: Warn): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (err) {
    throw userFsError(err, dir, "state directory") ?? err;
  }
  if (!st.isDirectory()) {
    throw new InputError(
      `state directory ${dir} is not a directory`,
      "Move that file away, or point EKS_RUNBOOK_HOME at another directory.",
    );
  }
  if ((st.mode & 0o022) === 0) return;
  const mode = (st.mode & 0o777).toString(8);
  const mine = typeof process.getuid === "function" && st.uid === process.getuid();
  if (!mine) {
    throw new InputError(
      `state directory ${dir} is writable by others (mode ${mode}) and not owned by you`,
      "Use a directory only you can write: chmod go-w it, or set EKS_RUNBOOK_HOME elsewhere.",
    );
  }
  try {
    chmodSync(dir, 0o700);
  } catch (err) {
    throw userFsError(err, dir, "state directory") ?? err;
  }
  warn(
    `warning: state directory ${dir} was writable by others (mode ${mode}); tightened it to 0700\n`,
  );
}

/**
 * Creates `dir` (and missing parents) mode 0700, then checks it and its parent: a
 * directory, not writable by group or others (tightened with a warning when it is ours,
 * refused otherwise). OS errors the operator can fix are InputErrors naming the path.
 */
export function ensurePrivateDir(dir: string, warn: Warn = stderrWarn): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw userFsError(err, dir, "state directory") ?? err;
  }
  checkDir(dir, warn);
  const parent = dirname(dir);
  if (parent !== dir && parent !== "/" && !isSharedTmp(parent)) checkDir(parent, warn);
}

// /tmp and the like are world-writable by design (sticky bit): a state home directly in
// them is fine, it is the home itself that must be private.
function isSharedTmp(dir: string): boolean {
  try {
    return (statSync(dir).mode & 0o1000) !== 0;
  } catch {
    return false;
  }
}

/** fsync a directory, so a file just created in it survives a power loss (its entry). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flags that open a state file without following a symbolic link (ELOOP if it is one). */
export const NO_FOLLOW = constants.O_NOFOLLOW;
