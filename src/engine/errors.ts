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

// OS errors the operator can cause and fix on a path the runbook reads or writes (its
// state directory, journal, log, config): exit 2 naming the path and what to do, never a
// stack trace. Any other errno stays a bug.
const USER_FS_ERRORS: Record<string, { what: string; fix: string }> = {
  EISDIR: { what: "is a directory where a file is expected", fix: "Move the directory away." },
  ENOTDIR: {
    what: "has a file where a directory is expected on its path",
    fix: "Move that file away, or point EKS_RUNBOOK_HOME at another directory.",
  },
  EEXIST: {
    what: "already exists and is not what the runbook expects there",
    fix: "Move it away.",
  },
  EACCES: {
    what: "cannot be accessed (permission denied)",
    fix: "Check the owner and mode of the path and its parents (chmod/chown), or set EKS_RUNBOOK_HOME.",
  },
  EPERM: {
    what: "cannot be changed (operation not permitted)",
    fix: "Check the owner and mode of the path, or set EKS_RUNBOOK_HOME.",
  },
  ENOENT: {
    what: "does not exist",
    fix: "Check the path; the runbook creates its own state directories.",
  },
  EROFS: {
    what: "is on a read-only file system",
    fix: "Set EKS_RUNBOOK_HOME to a writable directory.",
  },
  ENOSPC: { what: "cannot be written: the disk is full", fix: "Free disk space and run again." },
  EDQUOT: { what: "cannot be written: disk quota exceeded", fix: "Free disk space and run again." },
  ELOOP: {
    what: "is a symbolic link, which the runbook does not follow for its state files",
    fix: "Replace the link with the real file (or move it away).",
  },
  ENAMETOOLONG: { what: "is too long a path", fix: "Use a shorter path." },
};

export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * The operator-facing error for an OS error on `path` (or the path in the error), when
 * the operator can fix it; undefined when it is not one of those.
 */
export function userFsError(err: unknown, path?: string, role = "path"): InputError | undefined {
  const code = errnoCode(err);
  const known = code ? USER_FS_ERRORS[code] : undefined;
  if (!known) return undefined;
  const where = path ?? (err as NodeJS.ErrnoException).path;
  if (where === undefined) return undefined;
  return new InputError(`${role} ${where} ${known.what} (${code})`, known.fix);
}

/** Runs `fn`; an operator-fixable OS error becomes an InputError naming `path`. */
export function withUserFsErrors<T>(path: string, role: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw userFsError(err, path, role) ?? err;
  }
}
