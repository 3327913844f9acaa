import pLimit, { type LimitFunction } from "p-limit";

// Bounded concurrency against the API server: every fan-out over nodes or pods (cordon,
// list, evict, delete) goes through one of these, so 1,000 nodes never mean 1,000 requests
// in flight at once.

/** Requests in flight at once for fan-outs over nodes or pods (cordon, list, delete, evict). */
export const API_CONCURRENCY = 16;

/** p-limit with the limit checked: 0 or a fraction would silently mean "never run". */
export function concurrencyLimit(limit: number): LimitFunction {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be ≥ 1, got ${limit}`);
  return pLimit(limit);
}

/** Maps `items` through `work` with at most `limit` calls in flight; results in input order. */
export function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  return concurrencyLimit(limit).map(items, (item) => work(item));
}

/**
 * Runs `work` over `items` with at most `limit` workers, each taking the next item when it
 * is done with its last (so a worker can also wait between items); stops starting new ones
 * once `stop()` is true.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
