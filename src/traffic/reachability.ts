import { connect } from "node:net";

// One TCP connection to the target before any load is sent: an unreachable host is a clear
// message up front, not a screenful of per-second connect errors.

export type Reachability = { ok: true } | { ok: false; reason: string };

export function defaultPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** Resolves the host and opens (then closes) one TCP connection within `timeoutMs`. */
export function checkReachable(
  url: URL,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<Reachability> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = defaultPort(url);
  const where = `${url.hostname}:${port}`;
  return new Promise((resolve) => {
    if (opts.signal?.aborted) return resolve({ ok: false, reason: `${where}: aborted` });
    const socket = connect({ host, port });
    const done = (r: Reachability) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, reason: `${where}: no connection within ${opts.timeoutMs} ms` }),
      opts.timeoutMs,
    );
    const onAbort = () => done({ ok: false, reason: `${where}: aborted` });
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => done({ ok: true }));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      done({ ok: false, reason: `${where}: ${err.code ?? err.message}` }),
    );
  });
}
