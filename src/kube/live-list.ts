import type { KubeConfig } from "@kubernetes/client-node";
import { type KubernetesObject, Watch } from "@kubernetes/client-node";
// The generated serializer turns raw JSON into the same model objects the typed clients
// return (dates as Date, …); client-node does not re-export it, hence the deep import
// (the package has no exports map, and its version is pinned).
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { Backoff, type BackoffOptions, sleep } from "./backoff.js";
import { describeKubeError, statusCodeOf } from "./errors.js";
import { kubeGetJson } from "./raw-get.js";

// A list-then-watch cache of one collection (a "reflector"), written here rather than
// using client-node's makeInformer because the probes need three things it does not give:
// a single "synced" moment after the initial list (not one add callback per item, which
// would report 1/5, 2/5, … verdicts), errors surfaced as state while it keeps retrying
// (its ListWatch stops for good on a list error), and a bounded back-off we control.

export interface LiveListSpec {
  /** Collection path, e.g. "/api/v1/nodes" or "/api/v1/namespaces/apps/pods". */
  path: string;
  /** Generated model name of one item ("V1Pod"), so items are typed like client results. */
  itemType: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Cuts each raw item to what the reader needs before it is deserialized and cached (e.g.
   * podEssentials); managedFields are dropped either way.
   */
  project?: (raw: unknown) => unknown;
}

export interface LiveListOptions {
  backoff?: BackoffOptions;
  /** A watch that ends sooner than this without events counts as a failed attempt. */
  minHealthyWatchMs?: number;
}

/** Reconnect quickly (an API server restart takes seconds) but never hammer it. */
export const WATCH_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 2_000 };

interface WatchOutcome {
  established: boolean;
  events: number;
  gone: boolean;
  err: unknown;
}

export class LiveList<T extends KubernetesObject> {
  readonly #kc: KubeConfig;
  readonly #spec: LiveListSpec;
  readonly #backoff: Backoff;
  readonly #minHealthyWatchMs: number;
  #items = new Map<string, T>();
  #synced = false;
  #error: string | undefined;
  #rv = "";
  #version = 0;

  constructor(kc: KubeConfig, spec: LiveListSpec, opts: LiveListOptions = {}) {
    this.#kc = kc;
    this.#spec = spec;
    this.#backoff = new Backoff(opts.backoff ?? WATCH_BACKOFF);
    this.#minHealthyWatchMs = opts.minHealthyWatchMs ?? 1_000;
  }

  /** True once the first list arrived; stays true while reconnecting (items go stale). */
  get synced(): boolean {
    return this.#synced;
  }

  /** Set while the last attempt to list or watch failed; cleared when one succeeds. */
  get error(): string | undefined {
    return this.#error;
  }

  items(): T[] {
    return [...this.#items.values()];
  }

  /** One item by "namespace/name" ("/name" for cluster-scoped), without copying the cache. */
  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** The cached items, without copying (do not keep the iterator across events). */
  values(): IterableIterator<T> {
    return this.#items.values();
  }

  /** Bumped on every change of the cached items (to cache what is derived from them). */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#items.size;
  }

  /**
   * Lists, then watches, until the signal aborts; calls onChange after the list and after
   * every event or error. Never throws for API errors: they become `error` and a retry.
   */
  async run(signal: AbortSignal, onChange: () => void): Promise<void> {
    while (!signal.aborted) {
      try {
        if (!this.#rv) await this.#list(signal, onChange);
        // onChange may have ended the run (a drain that found nothing to do): an abort
        // listener added to an already-aborted signal never fires, so check first.
        if (signal.aborted) break;
        const started = Date.now();
        const out = await this.#watchOnce(signal, onChange);
        if (signal.aborted) break;
        if (out.gone) {
          this.#rv = ""; // history compacted: list again
          continue;
        }
        if (!out.established) throw out.err ?? new Error("watch was not established");
        const quick = Date.now() - started < this.#minHealthyWatchMs && out.events === 0;
        if (quick) await sleep(this.#backoff.next(), signal);
        else this.#backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        if (statusCodeOf(err) === 410) {
          this.#rv = "";
          continue;
        }
        // Relist after a failure rather than resume: the list is authoritative, so the first
        // verdict after an outage is never computed from a stale cache.
        this.#rv = "";
        const delay = this.#backoff.next();
        this.#error = `${describeKubeError(err)}; retrying`;
        onChange();
        await sleep(delay, signal);
      }
    }
  }

  #project(raw: unknown): unknown {
    const slimmed = slimForCache(raw);
    return this.#spec.project ? this.#spec.project(slimmed) : slimmed;
  }

  async #list(signal: AbortSignal, onChange: () => void): Promise<void> {
    const { path, itemType, labelSelector, fieldSelector } = this.#spec;
    const raw = (await kubeGetJson(this.#kc, path, { labelSelector, fieldSelector }, signal)) as {
      items?: unknown[];
      metadata?: { resourceVersion?: string };
    };
    const next = new Map<string, T>();
    for (const item of raw.items ?? []) {
      const obj = ObjectSerializer.deserialize(this.#project(item), itemType, "") as T;
      next.set(keyOf(obj), obj);
    }
    this.#items = next;
    this.#version++;
    this.#rv = raw.metadata?.resourceVersion ?? "";
    this.#synced = true;
    this.#error = undefined;
    this.#backoff.reset();
    onChange();
  }

  #watchOnce(signal: AbortSignal, onChange: () => void): Promise<WatchOutcome> {
    const { path, itemType, labelSelector, fieldSelector } = this.#spec;
    const out: WatchOutcome = { established: false, events: 0, gone: false, err: undefined };
    return new Promise<WatchOutcome>((resolve) => {
      if (signal.aborted) {
        resolve(out);
        return;
      }
      let finished = false;
      let controller: AbortController | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        signal.removeEventListener("abort", onAbort);
        controller?.abort();
        resolve(out);
      };
      const onAbort = () => finish();
      signal.addEventListener("abort", onAbort, { once: true });

      const onEvent = (type: string, obj: unknown) => {
        if (finished) return;
        if (type === "ERROR") {
          if (statusCodeOf(obj) === 410) out.gone = true;
          return; // the server closes the stream after an ERROR event
        }
        const item = ObjectSerializer.deserialize(this.#project(obj), itemType, "") as T;
        const rv = item.metadata?.resourceVersion;
        if (rv) this.#rv = rv;
        if (type === "BOOKMARK") return;
        if (type === "DELETED") this.#items.delete(keyOf(item));
        else this.#items.set(keyOf(item), item);
        this.#version++;
        out.events++;
        onChange();
      };
      const onDone = (err: unknown) => {
        out.err = err ?? undefined;
        if (statusCodeOf(err) === 410) out.gone = true;
        finish();
      };
      new Watch(this.#kc)
        .watch(
          path,
          { resourceVersion: this.#rv, labelSelector, fieldSelector, allowWatchBookmarks: true },
          onEvent,
          onDone,
        )
        .then((c) => {
          controller = c;
          if (finished) {
            c.abort();
            return;
          }
          out.established = true;
        })
        .catch((err: unknown) => onDone(err));
    });
  }
}

/**
 * Drops what no reader needs before caching: metadata.managedFields (server-side apply
 * bookkeeping, a large share of every object) and a Node's status.images (the kubelet
 * reports up to 50 images with all their names and digests: most of a real node object).
 * At 1,000 nodes and 10,000 pods that is the difference between a cache of tens and of
 * hundreds of megabytes.
 */
export function slimForCache(raw: unknown): unknown {
  const obj = raw as {
    metadata?: { managedFields?: unknown };
    status?: { images?: unknown };
  } | null;
  const meta = obj?.metadata;
  if (meta && "managedFields" in meta) delete meta.managedFields;
  if (obj?.status && "images" in obj.status) delete obj.status.images;
  return raw;
}

function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}
