import { AbortedError, PrerequisiteError, RunbookError } from "../engine/errors.js";

// Pulumi's failures → typed errors with a next step. Pulumi errors are CommandErrors whose
// text is the CLI's output; we recognise the few the operator can act on and otherwise keep
// the engine's own error lines (never the whole output: it can be long, and the log file
// has it).

export interface PulumiErrorContext {
  target: string;
  stack: string;
  /** What was running: "preview", "update", "refresh", … */
  operation: string;
  aborted: boolean;
  timedOut?: boolean;
  /** Error diagnostics the engine reported during the operation. */
  errors?: string[];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes start with ESC
const ANSI = /\u001b\[[0-9;]*m/g;

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const r = (err as { commandResult?: { stderr?: string; stdout?: string } }).commandResult;
    return [err.message, r?.stderr ?? "", r?.stdout ?? ""].join("\n").replace(ANSI, "");
  }
  return String(err);
}

/** The engine's own error lines, deduplicated, at most a few, each bounded. */
export function errorLines(text: string, max = 5): string[] {
  const lines = text
    .split("\n")
    .map((l) => l.trim().replace(/^(?:stderr|stdout): /, ""))
    .filter((l) => /^error: /.test(l) && !/^error: (?:update|preview|refresh) failed$/i.test(l))
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
  return [...new Set(lines)].slice(0, max);
}

const PLUGIN_MISSING =
  /no resource plugin '([\w.-]+)' found|could not (?:find|load) plugin (?:for )?(?:resource )?'?([\w.-]+)'?|failed to load plugin[^\n]*?resource-([\w.-]+)|plugin ([\w.-]+) (?:v?[\d.]+ )?(?:is )?not installed/i;
const CREDENTIALS =
  /NoCredentialProviders|no valid credential sources|failed to refresh cached credentials|unable to validate AWS credentials|could not load credentials|InvalidClientTokenId|ExpiredToken|UnrecognizedClientException|security token included in the request is (?:invalid|expired)/i;
const PASSPHRASE = /incorrect passphrase|passphrase must be set|PULUMI_CONFIG_PASSPHRASE/i;
const CLI_MISSING =
  /spawn pulumi ENOENT|ENOENT[^\n]*\/bin\/pulumi|Failed to parse Pulumi CLI version|Minimum version requirement failed/i;

export function mapPulumiError(err: unknown, ctx: PulumiErrorContext): RunbookError {
  if (err instanceof RunbookError) return err;
  const mapped = classify(err, ctx);
  // The CLI's output stays reachable for the log (Pulumi masks secrets in it).
  Object.defineProperty(mapped, "cause", { value: err, enumerable: false });
  return mapped;
}

function classify(err: unknown, ctx: PulumiErrorContext): RunbookError {
  if (ctx.aborted) {
    return new AbortedError(`Pulumi ${ctx.operation} of stack ${ctx.stack} was cancelled`);
  }
  const name = err instanceof Error ? err.name : "";
  const text = errorText(err);
  if (ctx.timedOut) {
    return new RunbookError(
      `Pulumi ${ctx.operation} of stack ${ctx.stack} did not finish in time and was cancelled`,
      "Look at the resources still in progress (the log has the engine's output), then run the step again; the runbook recovers the interrupted update first.",
    );
  }
  if (name === "ConcurrentUpdateError") {
    return new RunbookError(
      `stack ${ctx.stack} is locked by another update`,
      ctx.target === "local"
        ? "Another eks-runbook (or pulumi) is updating this stack. Wait for it; if none is running, run the command again: a stale lock is cleared on resume."
        : "Someone else is updating this stack. If you are sure nothing is running, run `pulumi cancel --stack <stack>` in this project's directory, then run eks-runbook again.",
    );
  }
  if (name === "StackNotFoundError") {
    return new RunbookError(
      `stack ${ctx.stack} was not found in the Pulumi backend`,
      ctx.target === "local"
        ? "The local state directory was removed or moved; start over with a new stack name."
        : "Check the stack name and that `pulumi whoami` shows the backend (and organisation) that holds it.",
    );
  }
  const plugin = PLUGIN_MISSING.exec(text);
  if (plugin) {
    const which = (plugin.slice(1).find(Boolean) ?? "a resource plugin").replace(
      /^pulumi-resource-/,
      "",
    );
    const version = /at version v?(\d+\.\d+\.\d+)/.exec(text)?.[1];
    return new PrerequisiteError(
      `the Pulumi plugin "${which}" is not installed`,
      ctx.target === "local"
        ? "Run `npm run setup` to build and install the local toolchain's Pulumi plugins."
        : `Install it with \`pulumi plugin install resource ${which}${version ? ` ${version}` : ""}\` (the version eks-runbook's @pulumi/${which} package pins).`,
    );
  }
  if (ctx.target === "aws" && CREDENTIALS.test(text)) {
    return new PrerequisiteError(
      "no valid AWS credentials",
      "Configure credentials for the default provider chain (`aws configure`, `aws sso login`, or AWS_PROFILE / AWS_ACCESS_KEY_ID), check them with `aws sts get-caller-identity`, then run again.",
    );
  }
  if (PASSPHRASE.test(text)) {
    return new RunbookError(
      `the stack's secrets passphrase was rejected`,
      ctx.target === "local"
        ? "The passphrase file next to the local state does not match the stack; restore it or start over with a new stack name."
        : "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase.",
    );
  }
  if (CLI_MISSING.test(text)) {
    return new PrerequisiteError(
      "the Pulumi CLI is missing or unusable",
      ctx.target === "local"
        ? "Run `npm run setup` (it builds the pinned Pulumi CLI)."
        : "Install the Pulumi CLI (3.x) and put `pulumi` on PATH.",
    );
  }
  const lines = [...new Set([...(ctx.errors ?? []), ...errorLines(text)])].slice(0, 5);
  return new RunbookError(
    `Pulumi ${ctx.operation} of stack ${ctx.stack} failed${lines.length ? `:\n${lines.join("\n")}` : ""}`,
    "The log file has the engine's full output. Fix the cause and run the step again.",
  );
}
