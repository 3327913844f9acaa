import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";

// Talks to the sandbox's API server with the admin certificate, without loading
// @kubernetes/client-node (the CLI loads heavy modules lazily): enough to tell whether the
// control plane serves and is ready for workloads.

export interface ClientCreds {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** kwokctl's PKI: one CA and one admin certificate (CN kubernetes-admin, O system:masters). */
export function readClusterCreds(clusterDir: string): ClientCreds {
  const pki = join(clusterDir, "pki");
  return {
    ca: readFileSync(join(pki, "ca.crt")),
    cert: readFileSync(join(pki, "admin.crt")),
    key: readFileSync(join(pki, "admin.key")),
  };
}

export function apiGet(
  url: string,
  creds: ClientCreds,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        ca: creds.ca,
        cert: creds.cert,
        key: creds.key,
        timeout: opts.timeoutMs ?? 2_000,
        signal: opts.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Ready for workloads: /readyz passes (etcd reachable, informers synced) and the `default`
 * ServiceAccount exists (the controller-manager creates it; pods are refused without it).
 * Returns the reason when not ready.
 */
export async function apiNotReadyReason(
  apiServerUrl: string,
  creds: ClientCreds,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const ready = await apiGet(`${apiServerUrl}/readyz`, creds, { signal });
    if (ready.status !== 200) return `/readyz answered ${ready.status}`;
    const sa = await apiGet(
      `${apiServerUrl}/api/v1/namespaces/default/serviceaccounts/default`,
      creds,
      { signal },
    );
    if (sa.status !== 200) return "the default ServiceAccount does not exist yet";
    return undefined;
  } catch (err) {
    signal?.throwIfAborted();
    return err instanceof Error ? err.message : String(err);
  }
}
