import { ApiException, HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node";
import { fetch } from "undici";
import { REQUEST_TIMEOUT_MS } from "./clients.js";

// A plain authenticated GET, for lists by path (the live-list helper is generic over the
// resource) and /version. Failures throw ApiException like the generated clients do, so
// errors.ts describes both the same way.

export async function kubeGetJson(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
  signal: AbortSignal,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const url = new URL(cluster.server.replace(/\/$/, "") + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const res = await fetch(url, {
    method: "GET",
    headers: { ...ctx.getHeaders(), Accept: "application/json" },
    dispatcher: ctx.getDispatcher(),
    signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    throw new ApiException(res.status, res.statusText || "request failed", text, {});
  }
  return JSON.parse(text) as unknown;
}
