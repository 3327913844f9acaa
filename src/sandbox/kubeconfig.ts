import { renameSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import type { ClientCreds } from "./api-health.js";

// The sandbox's admin kubeconfig: self-contained (credentials embedded, so it can be copied
// or handed to a subprocess) and therefore written mode 0600. Its contents are never printed.

export function writeKubeconfig(
  path: string,
  opts: { name: string; server: string; creds: ClientCreds },
): void {
  const ctx = `sandbox-${opts.name}`;
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: ctx,
        cluster: {
          server: opts.server,
          "certificate-authority-data": opts.creds.ca.toString("base64"),
        },
      },
    ],
    users: [
      {
        name: `${ctx}-admin`,
        user: {
          "client-certificate-data": opts.creds.cert.toString("base64"),
          "client-key-data": opts.creds.key.toString("base64"),
        },
      },
    ],
    contexts: [{ name: ctx, context: { cluster: ctx, user: `${ctx}-admin` } }],
    "current-context": ctx,
    preferences: {},
  };
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, stringify(doc), { mode: 0o600 });
  renameSync(tmp, path);
}
