import { ApiException } from "@kubernetes/client-node";

// Small helpers around @kubernetes/client-node shared by the agent's controllers.

/** The HTTP status of a failed API call, or undefined for any other error. */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === "number") return code;
  }
  return undefined;
}

/** Runs `fn`, treating the given HTTP statuses (e.g. 404 on delete) as success. */
export async function ignoreStatus<T>(
  fn: () => Promise<T>,
  ...statuses: number[]
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const s = apiStatus(err);
    if (s !== undefined && statuses.includes(s)) return undefined;
    throw err;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
