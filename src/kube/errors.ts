import { ApiException } from "@kubernetes/client-node";

// Turning client errors into short, safe sentences. Nothing here prints headers, request
// bodies or URLs with credentials: only the status, the API's own message, or the
// transport error's code.

/** The Kubernetes Status body of a failed request, when there is one. */
export interface KubeStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  // DOMExceptions (AbortError, TimeoutError) carry a numeric legacy `code` that is no HTTP status.
  if (typeof err === "object" && err !== null && !(err instanceof DOMException)) {
    const e = err as { statusCode?: unknown; code?: unknown };
    const code = typeof e.statusCode === "number" ? e.statusCode : e.code;
    if (typeof code === "number" && code >= 100 && code <= 599) return code;
  }
  return undefined;
}

export function statusOf(err: unknown): KubeStatus | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { code: err.code, message: body.slice(0, 300) };
    }
  }
  if (typeof parsed === "object" && parsed !== null) {
    const s = parsed as KubeStatus;
    return { code: s.code ?? err.code, reason: s.reason, message: s.message };
  }
  return { code: err.code };
}

/** The innermost transport error code (ECONNREFUSED, ECONNRESET, …), if any. */
function transportCause(err: unknown): { code?: string; message?: string } | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && typeof cur === "object" && cur !== null; depth++) {
    const e = cur as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === "string" && /^E[A-Z]+|^UND_ERR/.test(e.code)) {
      return { code: e.code, message: typeof e.message === "string" ? e.message : undefined };
    }
    cur = e.cause;
  }
  return undefined;
}

export function isTransportError(err: unknown): boolean {
  return transportCause(err) !== undefined;
}

/** One line saying what went wrong talking to the API server. */
export function describeKubeError(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return "API request timed out or was cancelled";
  }
  const status = statusOf(err);
  if (status) {
    const what = status.message ?? status.reason ?? "no message";
    return `API server answered ${status.code ?? "?"}: ${what}`;
  }
  const code = statusCodeOf(err);
  if (code !== undefined && !(err instanceof ApiException)) {
    const msg = err instanceof Error ? err.message : "";
    return `API server answered ${code}${msg ? `: ${msg}` : ""}`;
  }
  const cause = transportCause(err);
  if (cause) return `API server unreachable (${cause.message ?? cause.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
