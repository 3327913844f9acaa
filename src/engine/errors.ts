// Typed errors: each carries the exit code the CLI returns and a hint the operator can act
// on. Anything else that escapes is a bug (exit 70) and is shown with its stack in the log.

export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  bug: 70,
  interrupted: 130,
} as const;

export class RunbookError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly exitCode: number = ExitCode.failed,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from the operator (flags, config file, journal): nothing was changed. */
export class InputError extends RunbookError {
  constructor(message: string, hint: string) {
    super(message, hint, ExitCode.badInput);
  }
}

/** The run was interrupted (Ctrl-C, SIGTERM); the journal holds a resumable state. */
export class AbortedError extends RunbookError {
  constructor(message = "interrupted") {
    super(message, "Run the same command again to resume where it stopped.", ExitCode.interrupted);
  }
}

/** A missing tool or component; the hint names the command that installs it. */
export class PrerequisiteError extends RunbookError {}

export function isAbortError(err: unknown): boolean {
  return (
    err instanceof AbortedError ||
    (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError"))
  );
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
