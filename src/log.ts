import { closeSync, constants, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type DestinationStream, type Logger } from "pino";
import { InputError } from "./engine/errors.js";
import { ensurePrivateDir } from "./engine/private-dir.js";
import { escapeControl } from "./engine/safe-text.js";

// Logs go to a file, never to stdout (Ink owns the screen; --json owns stdout).
// - Written synchronously: a log line is a few hundred bytes per engine transition, so a
//   write(2) each costs nothing, and there is no buffer left to flush when the process
//   exits (an async destination is "not ready yet" on an early exit and crashes it).
// - A log that cannot be written (the path is a directory, a read-only or full disk)
//   costs the operator one warning on stderr, never the run: the journal, not the log, is
//   what a resume depends on.
// - Opened without following symlinks: a link planted at run.log cannot redirect it.
// - What is logged is an allow-list (see log-fields.ts); the key-based redaction below is
//   only a second line of defence.

export type { Logger };

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LOG_LEVEL_ENV = "EKS_RUNBOOK_LOG_LEVEL";

/** The level from EKS_RUNBOOK_LOG_LEVEL (default info); anything else is exit 2. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const v = env[LOG_LEVEL_ENV];
  if (v === undefined || v === "") return "info";
  if ((LEVELS as readonly string[]).includes(v)) return v;
  throw new InputError(
    `${LOG_LEVEL_ENV}: must be one of ${LEVELS.join(", ")}`,
    `Unset ${LOG_LEVEL_ENV} or set it to e.g. debug.`,
  );
}

/** A synchronous file destination whose write errors become one warning, not a crash. */
export class SafeFileDestination implements DestinationStream {
  private fd: number | undefined;
  private warned = false;

  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
  ) {
    try {
      this.fd = openSync(
        file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        0o600,
      );
    } catch (err) {
      this.degrade(err);
    }
  }

  write(line: string): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, line);
    } catch (err) {
      this.degrade(err);
    }
  }

  /** Nothing is buffered; present so pino's flush() and exit paths have nothing to wait for. */
  flush(): void {}

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // closing a log we could not write is not worth a second warning
    }
    this.fd = undefined;
  }

  private degrade(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already failing
      }
    }
    this.fd = undefined;
    if (this.warned) return;
    this.warned = true;
    this.warn(
      escapeControl(
        `warning: the log ${this.file} cannot be written (${code}); the run continues without a log\n`,
      ),
    );
  }
}

export function createLogger(
  file: string,
  opts: { warn?: (message: string) => void; level?: string } = {},
): Logger {
  const level = opts.level ?? logLevelFromEnv();
  ensurePrivateDir(dirname(file), opts.warn);
  const dest = new SafeFileDestination(file, opts.warn ?? ((m) => void process.stderr.write(m)));
  return pino(
    {
      level,
      redact: {
        paths: [
          "*.kubeconfig",
          "*.passphrase",
          "*.secretAccessKey",
          "*.token",
          "*.password",
          "*.*.kubeconfig",
          "*.*.token",
          "*.*.secretAccessKey",
        ],
        censor: "[redacted]",
      },
    },
    dest,
  );
}
