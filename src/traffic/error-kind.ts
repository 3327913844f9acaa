// Failure classes: what a strict client (no retries) saw when a request failed. The split
// follows what an operator can act on and what a production client would have done:
//
//   http-<code>     an answer with a non-2xx status (e.g. http-503)
//   refused         no connection: nothing listens on the port (ECONNREFUSED)
//   reset           a fresh connection broke before a complete response
//   keepalive-race  a *reused* keep-alive connection was reset or closed before any
//                   response byte: the server (or the balancer) closed it while our request
//                   was on its way. Browsers and Go's net/http retry this silently for
//                   idempotent requests; a strict client counts it, so the gate's policy
//                   (gates.ignoreFailureClasses) decides whether it is user-visible.
//   timeout         connected (or connecting) but no complete answer within the timeout
//   tls             the TLS handshake failed (untrusted or self-signed certificate, name
//                   mismatch, HTTPS to a plain-HTTP port)
//   unreachable     the host does not resolve or has no route
//   other           anything else (kept, never hidden)

export const TRANSPORT_CLASSES = [
  "refused",
  "reset",
  "keepalive-race",
  "timeout",
  "tls",
  "unreachable",
  "other",
] as const;

export type TransportClass = (typeof TRANSPORT_CLASSES)[number];

export const REFUSED = 0;
export const RESET = 1;
export const KEEPALIVE_RACE = 2;
export const TIMEOUT = 3;
export const TLS = 4;
export const UNREACHABLE = 5;
export const OTHER = 6;

/** The class key of a non-2xx answer. */
export function httpClass(status: number): string {
  return `http-${status}`;
}

/** `http-503` → 503; anything else → undefined. */
export function statusOfClass(cls: string): number | undefined {
  const m = /^http-(\d{1,3})$/.exec(cls);
  return m ? Number(m[1]) : undefined;
}

/** Every class name a run can report, as a pattern for validating configuration. */
export function isFailureClass(cls: string): boolean {
  return statusOfClass(cls) !== undefined || (TRANSPORT_CLASSES as readonly string[]).includes(cls);
}

const UNREACHABLE_CODES = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
]);
const BROKEN_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);
const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
]);
// OpenSSL's certificate verification results as Node reports them (tls.TLSSocket
// authorizationError codes), plus Node's own TLS/SSL error codes (ERR_TLS_*, ERR_SSL_*).
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "EPROTO",
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The request's connection state when it failed, as the request loop tracks it. */
export interface FailureContext {
  /** The request was written on a connection that had already carried a response. */
  reused: boolean;
  /** At least the response's status line had arrived. */
  responseStarted: boolean;
}

/**
 * Index into TRANSPORT_CLASSES (the worker counts into a fixed array, no allocation). The
 * error's `cause` is looked at too: undici wraps some socket errors.
 */
export function transportClassIndex(err: unknown, ctx?: FailureContext): number {
  const code = codeOf(err) ?? codeOf((err as { cause?: unknown } | null)?.cause);
  if (code !== undefined) {
    if (code === "ECONNREFUSED") return REFUSED;
    if (UNREACHABLE_CODES.has(code)) return UNREACHABLE;
    if (TIMEOUT_CODES.has(code)) return TIMEOUT;
    if (TLS_CODES.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")) {
      return TLS;
    }
    if (BROKEN_CODES.has(code)) {
      return ctx?.reused && !ctx.responseStarted ? KEEPALIVE_RACE : RESET;
    }
  }
  return OTHER;
}

export function transportClass(err: unknown, ctx?: FailureContext): TransportClass {
  return TRANSPORT_CLASSES[transportClassIndex(err, ctx)]!;
}

/** Failures where no request reached the server: the lane rests before trying again. */
export function isConnectFailure(index: number): boolean {
  return index === REFUSED || index === TLS || index === UNREACHABLE;
}

/** Classes ordered for display and CSV columns: status codes ascending, then transport. */
export function orderFailureClasses(classes: Iterable<string>): string[] {
  const rank = (c: string) => {
    // Bare codes ("503") are how timelines recorded before the classes named them.
    const status = statusOfClass(c) ?? (/^\d{1,3}$/.test(c) ? Number(c) : undefined);
    if (status !== undefined) return status;
    const i = (TRANSPORT_CLASSES as readonly string[]).indexOf(c);
    return 1000 + (i === -1 ? TRANSPORT_CLASSES.length : i);
  };
  return [...new Set(classes)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
