import { setTimeout as sleep } from "node:timers/promises";
import type { Workspace } from "@pulumi/pulumi/automation/index.js";
import { InputError } from "../engine/errors.js";
import {
  classifyOwner,
  describeOwner,
  type LockOwner,
  type LockState,
  lockOwnerSchema,
} from "../engine/run-lock.js";
import { excerpt } from "../engine/safe-text.js";

// One run per stack across machines. The file lock (engine/run-lock.ts) guards one state
// home; two operators on two machines (or a laptop and CI) share only the stack. So the run
// also marks the stack itself with a tag naming its owner: stack tags live with the stack in
// every backend (Pulumi Cloud; DIY backends — S3, GCS, Azure Blob, file — since Pulumi
// 3.211). Tags have no compare-and-swap, so the lock is written, then read back after a
// settle delay: of two runs starting in the same instant the last writer holds it and the
// other stops. A tag left by a killed run is taken over when its pid is provably gone on
// this host; one from another host only with --break-lock.

export const LOCK_TAG = "eks-runbook.lock";

/** What the lock needs from a stack (Automation API's workspace tag calls, bound). */
export interface StackTags {
  getTag(key: string): Promise<string | undefined>;
  setTag(key: string, value: string): Promise<void>;
  removeTag(key: string): Promise<void>;
}

export interface StackTagLockOptions {
  owner: LockOwner;
  breakLock?: boolean;
  warn: (message: string) => void;
  /** How long to wait before reading the tag back (a racing writer's window). */
  settleMs?: number;
  signal?: AbortSignal;
}

/** The owner a tag value names, or why it names none. */
export function parseLockTag(value: string): LockOwner | { unreadable: string } {
  try {
    return lockOwnerSchema.parse(JSON.parse(value));
  } catch {
    return { unreadable: `tag ${LOCK_TAG} does not name an owner: ${excerpt(value, 80)}` };
  }
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt;
}

const HINT =
  "Wait for that run to finish or stop it; if it is over (its machine is gone), pass --break-lock.";

/** Refuses (InputError naming the owner) unless the existing lock may be replaced. */
function refuseOrWarn(st: LockState, o: StackTagLockOptions, stack: string): void {
  switch (st.state) {
    case "free":
      return;
    case "live":
      throw new InputError(
        `stack ${stack} is locked by another run: ${describeOwner(st.owner)}; one run per stack at a time`,
        HINT,
      );
    case "stale":
      o.warn(
        `took over stack ${stack}'s lock of ${describeOwner(st.owner)}: ${st.why}, so that run ended without releasing it`,
      );
      return;
    case "foreign":
    case "unreadable": {
      const who = st.state === "foreign" ? describeOwner(st.owner) : st.why;
      if (!o.breakLock) {
        throw new InputError(
          `stack ${stack} is locked by a run on another machine: ${who}; it cannot be checked from here`,
          HINT,
        );
      }
      o.warn(`broke stack ${stack}'s lock of ${who} (--break-lock)`);
      return;
    }
  }
}

/** Takes the stack's lock tag; resolves with its release (idempotent, only if still ours). */
export async function takeStackTagLock(
  tags: StackTags,
  stack: string,
  o: StackTagLockOptions,
): Promise<() => Promise<void>> {
  const current = await tags.getTag(LOCK_TAG);
  if (current !== undefined) {
    const parsed = parseLockTag(current);
    const st: LockState =
      "unreadable" in parsed
        ? { state: "unreadable", why: parsed.unreadable }
        : classifyOwner(parsed);
    // Our own pid's tag (a second take in one process) counts as ours.
    if (!("unreadable" in parsed) && sameOwner(parsed, o.owner)) return release(tags, o.owner);
    refuseOrWarn(st, o, stack);
  }
  // Pulumi Cloud caps a tag value at 256 characters: the command is cut short.
  const owner: LockOwner = {
    ...o.owner,
    user: o.owner.user.slice(0, 32),
    command: o.owner.command.slice(0, 60),
  };
  const mine = JSON.stringify(owner);
  await tags.setTag(LOCK_TAG, mine);
  await sleep(o.settleMs ?? 1_500, undefined, o.signal ? { signal: o.signal } : undefined);
  const after = await tags.getTag(LOCK_TAG);
  if (after !== mine) {
    const other = after === undefined ? undefined : parseLockTag(after);
    throw new InputError(
      `stack ${stack}: another run took the lock at the same time${
        other && !("unreadable" in other) ? `: ${describeOwner(other)}` : ""
      }; one run per stack at a time`,
      "Check which run holds it (eks-runbook status), then run again.",
    );
  }
  return release(tags, owner);
}

function release(tags: StackTags, owner: LockOwner): () => Promise<void> {
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    const now = await tags.getTag(LOCK_TAG);
    if (now === undefined) return;
    const parsed = parseLockTag(now);
    if (!("unreadable" in parsed) && sameOwner(parsed, owner)) await tags.removeTag(LOCK_TAG);
  };
}

/** Runs one bounded, serialised Pulumi call (the driver's own queue and time limit). */
export type BoundCall = <T>(what: string, signal: AbortSignal, fn: () => Promise<T>) => Promise<T>;

/**
 * The lock on a stack of an Automation API workspace: its tag calls run through the
 * driver's `bound`. Taking follows the run's signal; the release runs at exit, after that
 * signal may have fired (Ctrl-C), so each of its calls gets a bound of its own.
 */
export async function lockWorkspaceStack(
  ws: Pick<Workspace, "listTags" | "setTag" | "removeTag">,
  stack: string,
  bound: BoundCall,
  o: Omit<StackTagLockOptions, "signal"> & { signal: AbortSignal },
): Promise<() => Promise<void>> {
  let taken = false;
  const call = <T>(what: string, fn: () => Promise<T>) =>
    bound(what, taken ? AbortSignal.timeout(60_000) : o.signal, fn);
  const tags: StackTags = {
    getTag: async (key) => (await call("read stack tags", () => ws.listTags(stack)))[key],
    setTag: (key, value) => call("set a stack tag", () => ws.setTag(stack, key, value)),
    removeTag: (key) => call("remove a stack tag", () => ws.removeTag(stack, key)),
  };
  const release = await takeStackTagLock(tags, stack, o);
  taken = true;
  return release;
}
