import { operatorName } from "../engine/journal.js";
import { inspectRunLock, type LockState, RunLock } from "../engine/run-lock.js";
import { lockPath } from "./state-dir.js";

// The CLI's side of "one run per stack at a time": take the stack's lock for the life of
// this process (released on exit, whatever the path out; a SIGKILL leaves it stale, and
// the next run reports that), and let `status` say whether a run is live.

/** Who a lock names: the operator and the command (subcommand and flags, no values). */
export function lockIdentity(): { command: string; user: string } {
  return {
    command: `eks-runbook ${process.argv
      .slice(2)
      .filter((a) => a.startsWith("-") || /^[a-z]+$/.test(a))
      .join(" ")}`.trim(),
    user: operatorName(),
  };
}

export function takeStackLock(
  stack: string,
  opts: { breakLock?: boolean; warn?: (message: string) => void } = {},
): RunLock {
  const lock = RunLock.acquire(lockPath(stack), {
    ...lockIdentity(),
    breakLock: opts.breakLock === true,
    ...(opts.warn ? { warn: opts.warn } : {}),
  });
  process.once("exit", () => lock.release());
  return lock;
}

export function stackLockState(stack: string): LockState {
  return inspectRunLock(lockPath(stack));
}
