import type { Command } from "commander";
import { InputError } from "../engine/errors.js";
import { escapeControl } from "../engine/safe-text.js";
import { MIN_COLUMNS, MIN_ROWS } from "../ui/layout.js";

export type Target = "aws" | "local";

export interface RunOptions {
  target: Target;
  stack: string;
  config?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  /** Gate ids (or `intent`) that may be overridden when they fail. */
  overrideGates: string[];
}

export function parseTarget(v: string): Target {
  if (v === "aws" || v === "local") return v;
  throw new InputError(
    `--target "${v}": must be "aws" or "local"`,
    "Use --target local to rehearse, --target aws for the real thing.",
  );
}

/**
 * Decided once, at the entry: who draws and whether anyone can answer a prompt. A terminal
 * smaller than the screen's minimum gets plain lines, and a notice saying why.
 */
export function chooseRenderer(
  o: { json: boolean },
  env: NodeJS.ProcessEnv = process.env,
  stdout: { isTTY?: boolean; columns?: number; rows?: number } = process.stdout,
  stdin: { isTTY?: boolean } = process.stdin,
): { mode: "json" | "plain" | "ink"; canPrompt: boolean; notice?: string } {
  const tty = Boolean(stdout.isTTY) && !env.CI;
  if (o.json) return { mode: "json", canPrompt: false };
  if (!tty) return { mode: "plain", canPrompt: false };
  const { columns = 0, rows = 0 } = stdout;
  if (columns > 0 && rows > 0 && (columns < MIN_COLUMNS || rows < MIN_ROWS)) {
    return {
      mode: "plain",
      canPrompt: false,
      notice: `The terminal is ${columns}×${rows}; the interactive screen needs at least ${MIN_COLUMNS}×${MIN_ROWS}, so the run prints plain lines (and cannot ask for confirmations: enlarge the terminal, or pass --yes or --dry-run).`,
    };
  }
  return { mode: "ink", canPrompt: Boolean(stdin.isTTY) };
}

/**
 * Usage errors of every command and subcommand end the same way: commander throws (the
 * entry exits 2) instead of exiting 1 itself, and what it prints of the operator's
 * arguments is escaped. Call before adding subcommands: they inherit both settings.
 */
export function strictUsage<C extends Command>(cmd: C): C {
  cmd.exitOverride();
  cmd.configureOutput({
    writeErr: (s) => process.stderr.write(escapeControl(s)),
    writeOut: (s) => process.stdout.write(s),
  });
  return cmd;
}
