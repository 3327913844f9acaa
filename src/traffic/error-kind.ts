// Transport failures by kind, as the traffic timeline reports them. The split follows what
// an operator can act on: "connect" = no connection could be made (refused, DNS, connect
// timeout: the load balancer or its listener is gone); "reset" = the connection broke
// before a complete response (closed, reset, broken pipe: a backend died mid-request);
// "timeout" = connected and sent, but no complete answer within the per-request timeout.

export type TransportErrorKind = "connect" | "reset" | "timeout" | "other";

export const TRANSPORT_ERROR_KINDS: readonly TransportErrorKind[] = [
  "connect",
  "reset",
  "timeout",
  "other",
];

const CONNECT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const RESET = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);
const TIMEOUT = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** Index into TRANSPORT_ERROR_KINDS (the worker counts into a fixed array, no allocation). */
export function transportErrorIndex(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (CONNECT.has(code)) return 0;
    if (RESET.has(code)) return 1;
    if (TIMEOUT.has(code)) return 2;
  }
  return 3;
}

export function transportErrorKind(err: unknown): TransportErrorKind {
  return TRANSPORT_ERROR_KINDS[transportErrorIndex(err)]!;
}
