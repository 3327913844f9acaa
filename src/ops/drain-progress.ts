import type { ActionProgress } from "../engine/ports.js";
import type { DrainEvent } from "./drain.js";

// The drain's events summarised into one progress line: counts, not one row per pod, and
// what blocks it first. A drain of 5,000 pods emits tens of thousands of events; the
// engine (and the JSON stream users' CI parses) gets at most a few lines per second, plus
// one at once whenever what blocks the drain changes.

/** At most one progress line per this many ms, except when the blockers change. */
export const PROGRESS_INTERVAL_MS = 250;

interface Blocker {
  pod: string;
  node: string;
  text: string;
  retryInMs: number;
}

export class DrainProgress {
  readonly #progress: (p: ActionProgress) => void;
  readonly #now: () => number;
  readonly #interval: number;
  readonly #known = new Set<string>();
  readonly #blocked = new Map<string, Blocker>();
  #gone = 0;
  #nodesTotal = 0;
  #nodesDone = 0;
  #current = "";
  #lastAt = Number.NEGATIVE_INFINITY;
  #dirty = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    progress: (p: ActionProgress) => void,
    opts: { now?: () => number; intervalMs?: number } = {},
  ) {
    this.#progress = progress;
    this.#now = opts.now ?? (() => performance.now());
    this.#interval = opts.intervalMs ?? PROGRESS_INTERVAL_MS;
  }

  on(e: DrainEvent): void {
    let urgent = false;
    switch (e.type) {
      case "cordoned":
        this.#nodesTotal = Math.max(this.#nodesTotal, e.nodes.length);
        this.#current = `cordoned ${e.nodes.length} node${e.nodes.length === 1 ? "" : "s"}`;
        urgent = true;
        break;
      case "planned":
        for (const p of e.pods) this.#known.add(p);
        this.#nodesTotal = Math.max(this.#nodesTotal, e.nodes);
        this.#current = `${e.pods.length} pods to evict`;
        urgent = true;
        break;
      case "node-started":
        this.#current = `draining ${e.node}`;
        break;
      case "evicting":
        this.#known.add(e.pod);
        break;
      case "blocked": {
        const pdb = e.pdbs
          .map((p) => `${p.name} (disruptionsAllowed ${p.disruptionsAllowed})`)
          .join(", ");
        const text = `${e.pod} refused${pdb ? ` by PDB ${pdb}` : `: ${e.message}`}`;
        const before = this.#blocked.get(e.pod)?.text;
        this.#blocked.set(e.pod, { pod: e.pod, node: e.node, text, retryInMs: e.retryInMs });
        urgent = before !== text;
        break;
      }
      case "retrying":
        this.#current = `${e.pod}: ${e.message}; retry ${e.attempt}`;
        break;
      case "evicted":
        urgent = this.#blocked.delete(e.pod);
        this.#current = `evicted ${e.pod}`;
        break;
      case "gone":
        this.#gone++;
        urgent = this.#blocked.delete(e.pod);
        this.#current = `${e.pod} gone from ${e.node}`;
        break;
      case "node-drained":
        this.#nodesDone++;
        for (const [k, b] of this.#blocked) if (b.node === e.node) this.#blocked.delete(k);
        this.#current = `${e.node} drained in ${(e.durationMs / 1000).toFixed(1)}s`;
        urgent = this.#nodesTotal <= 20;
        break;
      case "health-waiting":
        this.#current = `before the next node, waiting for ${e.unhealthy.slice(0, 2).join(", ")}${e.unhealthy.length > 2 ? ` and ${e.unhealthy.length - 2} more` : ""}`;
        urgent = true;
        break;
      case "healthy":
        this.#current = `healthy after ${e.node}`;
        break;
      case "pausing":
        this.#current = `pausing ${(e.ms / 1000).toFixed(1)}s after ${e.node}`;
        urgent = true;
        break;
    }
    this.#dirty = true;
    if (urgent) this.flush();
    else this.#schedule();
  }

  /** The current line (blockers first, then counts, then the latest thing done). */
  line(): ActionProgress {
    const parts: string[] = [];
    if (this.#blocked.size > 0) {
      const [first] = this.#blocked.values();
      const more = this.#blocked.size - 1;
      parts.push(
        `blocked: ${first!.text}${more > 0 ? ` (+${more} more pod${more === 1 ? "" : "s"})` : ""}; retry in ${(first!.retryInMs / 1000).toFixed(1)}s`,
      );
    }
    const total = Math.max(this.#known.size, this.#gone);
    if (total > 0) parts.push(`${this.#gone}/${total} pods gone`);
    if (this.#nodesTotal > 0) parts.push(`${this.#nodesDone}/${this.#nodesTotal} nodes drained`);
    if (this.#current) parts.push(this.#current);
    return { done: this.#gone, total, message: parts.join(" · ") };
  }

  /** Emits the current line now (and cancels a pending one). */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#lastAt = this.#now();
    this.#progress(this.line());
  }

  #schedule(): void {
    const wait = this.#lastAt + this.#interval - this.#now();
    // Due already (a busy event loop delays timers): flush now rather than wait for it.
    if (wait <= 0 && this.#timer) {
      this.flush();
      return;
    }
    if (this.#timer) return;
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, wait);
    this.#timer.unref?.();
  }

  /** Flushes what is pending and stops the timer (call when the drain ends). */
  close(): void {
    this.flush();
  }
}
