import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  type V1ObjectMeta,
  Watch,
} from "@kubernetes/client-node";
import { RunbookError } from "../../src/engine/errors.js";
import { type ComponentName, requireComponents } from "../../src/sandbox/doctor.js";
import { type SandboxUpResult, sandboxDown, sandboxUp } from "../../src/sandbox/sandbox.js";

// Integration tests get their own uniquely-named sandbox (own ports, own state dir) so they
// can run one file after another, or next to a user's sandbox, and tear it down afterwards.

export interface TestSandbox {
  name: string;
  info: SandboxUpResult;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
  stop: () => Promise<void>;
}

export function uniqueName(prefix: string): string {
  const rand = Math.random().toString(36).slice(2, 7);
  return `t-${prefix}-${process.pid.toString(36)}-${rand}`.slice(0, 40);
}

/**
 * Starts a sandbox for one test file (no agent unless asked). Fails, never skips, when the
 * toolchain is missing: the error names `npm run setup`.
 */
export async function startTestSandbox(
  prefix: string,
  opts: { agent?: boolean | string } = {},
): Promise<TestSandbox> {
  const name = uniqueName(prefix);
  let info: SandboxUpResult;
  try {
    info = await sandboxUp({ name, agent: opts.agent ?? false });
  } catch (err) {
    // A half-started sandbox must not outlive the failed test file.
    await sandboxDown({ name }).catch(() => {});
    throw withHint(err);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  return {
    name,
    info,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    stop: async () => {
      const res = await sandboxDown({ name });
      if (res.portsStillListening.length > 0) {
        throw new Error(`sandbox ${name} left ports listening: ${res.portsStillListening}`);
      }
    },
  };
}

/** Vitest shows an error's message only: fold a RunbookError's hint (`npm run setup`) in. */
export function withHint(err: unknown): unknown {
  if (err instanceof RunbookError) return new Error(`${err.message}\n${err.hint}`, { cause: err });
  return err;
}

/** Fails (never skips) when a toolchain component is missing, naming `npm run setup`. */
export async function requireForTest(names: readonly ComponentName[]): Promise<void> {
  await requireComponents(names).catch((err: unknown) => {
    throw withHint(err);
  });
}

export interface KubeObject {
  metadata?: V1ObjectMeta;
}

export type WatchEvent<T> = { type: "ADDED" | "MODIFIED" | "DELETED" | "LISTED"; object: T };

function key(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}

/**
 * Lists, then watches `path` and resolves with the current objects as soon as `until`
 * holds. `onEvent` sees every change (for invariants that must hold throughout). Rejects
 * after `timeoutMs` with `describe(objects)` so a failure says what was seen.
 */
export async function watchUntil<T extends KubeObject>(
  kc: KubeConfig,
  opts: {
    path: string;
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
    until: (objects: Map<string, T>) => boolean;
    onEvent?: (event: WatchEvent<T>, objects: Map<string, T>) => void;
    describe?: (objects: Map<string, T>) => string;
    timeoutMs?: number;
    labelSelector?: string;
    fieldSelector?: string;
  },
): Promise<Map<string, T>> {
  const objects = new Map<string, T>();
  const listed = await opts.list();
  for (const o of listed.items) objects.set(key(o), o);
  // Invariants are checked against the complete initial state, not a half-filled map.
  for (const o of listed.items) opts.onEvent?.({ type: "LISTED", object: o }, objects);
  if (opts.until(objects)) return objects;
  let resourceVersion = listed.metadata?.resourceVersion;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise<Map<string, T>>((resolve, reject) => {
    let settled = false;
    let current: AbortController | undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current?.abort();
      if (err) reject(err);
      else resolve(objects);
    };
    const timer = setTimeout(() => {
      const seen = opts.describe ? opts.describe(objects) : `${objects.size} objects`;
      finish(new Error(`condition on ${opts.path} not met within ${timeoutMs} ms; saw: ${seen}`));
    }, timeoutMs);
    let restarts = 0;
    const start = () => {
      if (settled) return;
      new Watch(kc)
        .watch(
          opts.path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
          },
          (type, obj: T) => {
            if (settled) return;
            resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
            if (type === "BOOKMARK") return;
            if (type === "ERROR") {
              finish(new Error(`watch ${opts.path} failed: ${JSON.stringify(obj)}`));
              return;
            }
            if (type === "DELETED") objects.delete(key(obj));
            else objects.set(key(obj), obj);
            opts.onEvent?.({ type: type as WatchEvent<T>["type"], object: obj }, objects);
            if (opts.until(objects)) finish();
          },
          (err: unknown) => {
            // The server closes watches now and then: resume from the last version seen.
            if (settled) return;
            if (restarts++ > 20) {
              finish(new Error(`watch ${opts.path} keeps failing: ${String(err)}`));
              return;
            }
            start();
          },
        )
        .then((ac) => {
          current = ac;
          if (settled) ac.abort();
        })
        .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    };
    start();
  });
}
