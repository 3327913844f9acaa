import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type Logger } from "pino";

// Logs go to a file, never to stdout (Ink owns the screen; --json owns stdout). Secrets are
// redacted by key as a second line of defence; the first is never logging them.

export type { Logger };

export function createLogger(file: string): Logger {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  return pino(
    {
      level: process.env.EKS_RUNBOOK_LOG_LEVEL ?? "info",
      redact: {
        paths: ["*.kubeconfig", "*.passphrase", "*.secretAccessKey", "*.token", "*.password"],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: file, sync: false, mode: 0o600 }),
  );
}
