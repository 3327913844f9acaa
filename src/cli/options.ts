import type { Command } from "commander";
import { InputError } from "../engine/errors.js";
import { escapeControl } from "../engine/safe-text.js";

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

/** Decided once, at the entry: who draws and whether anyone can answer a prompt. */
export function chooseRenderer(
  o: { json: boolean },
  env = process.env,
  stdout = process.stdout,
  stdin = process.stdin,
) {
  const tty = Boolean(stdout.isTTY) && !env.CI;
  const mode: "json" | "plain" | "ink" = o.json ? "json" : tty ? "ink" : "plain";
  const canPrompt = mode === "ink" && Boolean(stdin.isTTY);
  return { mode, canPrompt };
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
