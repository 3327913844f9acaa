#!/usr/bin/env node
import "./compile-cache.js";
import "./quiet-warnings.js";
import { CommanderError } from "commander";
import { wantsJson } from "./cli/args.js";
import { buildProgram } from "./cli/program.js";
import { ExitCode, RunbookError, userFsError } from "./engine/errors.js";
import { escapeControl } from "./engine/safe-text.js";

// Entry: parse arguments, then hand off. Heavy modules (Pulumi, AWS SDK, client-node, Ink)
// are imported inside the command actions so `--help` and the first frame stay fast.

// The one place errors reach the terminal: every message is escaped (input echoed in it
// cannot drive the terminal), OS errors the operator can fix on a path exit 2, and with
// --json the error is also an `error` event on stdout.
async function fail(err: unknown): Promise<never> {
  if (err instanceof CommanderError && err.exitCode === 0) process.exit(0);
  const json = wantsJson(process.argv.slice(2));
  const user = err instanceof RunbookError ? err : userFsError(err);
  const known = user
    ? { message: user.message, hint: user.hint, exitCode: user.exitCode }
    : err instanceof CommanderError
      ? { message: err.message.replace(/^error: /, ""), exitCode: ExitCode.badInput }
      : undefined;
  const event = known ?? {
    message: `bug: ${err instanceof Error ? err.message : String(err)}`,
    hint: "This is a bug in eks-runbook; the run log has the details. Run the same command again to resume.",
    exitCode: ExitCode.bug,
  };
  if (json) {
    // --json owns stdout: the error is an event there too (commander already wrote its
    // message to stderr for a bad flag).
    const [{ errorLine }, { invocationRunId }] = await Promise.all([
      import("./render/json-renderer.js"),
      import("./cli/run-id.js"),
    ]);
    process.stdout.write(`${escapeControl(errorLine(event, invocationRunId()))}\n`);
  }
  if (user)
    process.stderr.write(
      escapeControl(`error: ${user.message}\n${user.hint ? `hint: ${user.hint}\n` : ""}`),
    );
  else if (!(err instanceof CommanderError))
    process.stderr.write(
      escapeControl(`bug: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
    );
  process.exit(event.exitCode);
}

async function main(argv: string[]): Promise<void> {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) {
    throw new RunbookError(
      `eks-runbook needs Node.js 22 or newer; this is ${process.versions.node}`,
      "Run it through `npx eks-runbook` or `npm run` in the project: they use the project's own Node 24.",
      ExitCode.badInput,
    );
  }
  // https://no-color.org: any non-empty NO_COLOR turns colours off, unless FORCE_COLOR says
  // otherwise. Set before Ink (chalk) is imported; child processes inherit it.
  if (process.env.NO_COLOR && process.env.FORCE_COLOR === undefined) process.env.FORCE_COLOR = "0";
  const program = buildProgram();
  const { addLazyCommands } = await import("./cli/lazy-commands.js");
  addLazyCommands(program);
  await program.parseAsync(argv);
}

main(process.argv).catch(fail);
