import { execFile } from "node:child_process";
import { localProcessEnv } from "./child-env.js";

export interface CaptureResult {
  /** Exit code; null when the process could not be started or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the binary could not be started at all (ENOENT, EACCES, …) or timed out. */
  error?: string;
}

/** Runs a short command and captures its output; never throws (doctor reports failures). */
export function runCapture(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; signal?: AbortSignal; cwd?: string } = {},
): Promise<CaptureResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        env: opts.env ?? localProcessEnv(),
        timeout: opts.timeoutMs ?? 20_000,
        signal: opts.signal,
        cwd: opts.cwd,
        maxBuffer: 4 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        if (typeof e.code === "number") {
          resolve({ code: e.code, stdout, stderr });
          return;
        }
        resolve({
          code: null,
          stdout,
          stderr,
          error: e.killed ? `timed out or killed: ${e.message}` : (e.code ?? e.message),
        });
      },
    );
  });
}
