import type { Probe, ProbeResult } from "../engine/ports.js";
import { reportChanges } from "./report-changes.js";

// One request through the load balancer answers 200 — before the load generator runs, this
// is what proves the whole path (LB → NGINX → echoserver) works. There is nothing to watch
// on the far side of a load balancer, so it asks every `intervalMs` (bounded, cheap).

export interface HttpOkExpectation {
  /** Resolves the load balancer's URL (it may only appear after the Service got one). */
  url: (signal: AbortSignal) => Promise<string | undefined>;
  host: string;
  path: string;
  timeoutMs?: number;
  intervalMs?: number;
}

export function httpOkProbe(exp: HttpOkExpectation): Probe {
  const interval = exp.intervalMs ?? 500;
  return {
    observe: async (signal, report) => {
      const emit = reportChanges(report);
      const { request } = await import("undici");
      while (!signal.aborted) {
        emit(await check(request, exp, signal));
        await new Promise<void>((r) => {
          const t = setTimeout(r, interval);
          signal.addEventListener(
            "abort",
            () => {
              clearTimeout(t);
              r();
            },
            { once: true },
          );
        });
      }
    },
  };
}

async function check(
  request: typeof import("undici").request,
  exp: HttpOkExpectation,
  signal: AbortSignal,
): Promise<ProbeResult> {
  let base: string | undefined;
  try {
    base = await exp.url(signal);
  } catch (err) {
    return {
      ok: false,
      reason: `no load balancer address yet: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (!base) return { ok: false, reason: "the load balancer has no address yet" };
  const url = new URL(exp.path, base).toString();
  try {
    const res = await request(url, {
      headers: { host: exp.host },
      signal: AbortSignal.any([signal, AbortSignal.timeout(exp.timeoutMs ?? 2000)]),
    });
    const body = await res.body.text();
    if (res.statusCode === 200)
      return { ok: true, reason: `GET ${exp.host}${exp.path} → 200 (${body.length} bytes)` };
    return { ok: false, reason: `GET ${exp.host}${exp.path} → ${res.statusCode}` };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      ok: false,
      reason: `GET ${exp.host}${exp.path} via ${base}: ${code ?? (err instanceof Error ? err.message : String(err))}`,
    };
  }
}
