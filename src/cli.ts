#!/usr/bin/env node
import "./compile-cache.js";
import "./quiet-warnings.js";
import { Command, CommanderError, Option } from "commander";
import { strictUsage } from "./cli/options.js";
import { preflightCommandDefinition } from "./cli/preflight-definition.js";
import { ExitCode, RunbookError, userFsError } from "./engine/errors.js";
import { escapeControl } from "./engine/safe-text.js";

// Entry: parse arguments, then hand off. Heavy modules (Pulumi, AWS SDK, client-node, Ink)
// are imported inside the command actions so `--help` and the first frame stay fast.

// The one place errors reach the terminal: every message is escaped (input echoed in it
// cannot drive the terminal), and OS errors the operator can fix on a path exit 2.
function fail(err: unknown): never {
  const known = err instanceof RunbookError ? err : userFsError(err);
  if (known) {
    process.stderr.write(
      escapeControl(`error: ${known.message}\n${known.hint ? `hint: ${known.hint}\n` : ""}`),
    );
    process.exit(known.exitCode);
  }
  // Commander already printed the usage error (exit 2: bad usage) or the help (exit 0).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : ExitCode.badInput);
  process.stderr.write(
    escapeControl(`bug: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
  );
  process.exit(ExitCode.bug);
}

const EXAMPLES = `
Examples:
  $ eks-runbook --target local                 rehearse the whole migration on this machine
  $ eks-runbook --target local --yes           the same, unattended
  $ eks-runbook --target local --dry-run       every step's preview; changes nothing
  $ eks-runbook --target aws --stack prod      the real thing, step by step
  $ eks-runbook --json --yes | jq .type        events for CI, one JSON object per line
  $ eks-runbook status --stack prod            where the migration stands
  $ eks-runbook load http://127.0.0.1:8080 --host apps.example.com --duration 30s
  $ eks-runbook sandbox up                     start the local sandbox`;

export function buildProgram(): Command {
  const program = strictUsage(new Command("eks-runbook"))
    .description(
      "Migrate a live EKS workload between node groups with zero downtime, one gated step at a time.",
    )
    .version("0.1.0")
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", EXAMPLES);

  const target = new Option("--target <target>", "aws or local")
    .choices(["aws", "local"])
    .default("local");
  const stack = new Option("--stack <name>", "stack name (journal, Pulumi stack)").default("dev");
  const region = new Option(
    "--region <region>",
    "AWS region (--target aws; default AWS_REGION or the profile's); pinned with the stack",
  );
  const profile = new Option("--profile <name>", "AWS profile (--target aws; default AWS_PROFILE)");

  program
    .command("run", { isDefault: true })
    .description("run the migration runbook (the default command)")
    .addOption(target)
    .addOption(stack)
    .addOption(region)
    .addOption(profile)
    .option(
      "--config <file>",
      "YAML config (groups, versions, traffic, gates); defaults reproduce the tutorial",
    )
    .option(
      "--dry-run",
      "show every step's preview (Pulumi preview, predicted drain); change nothing",
      false,
    )
    .option("--yes", "confirm every step without asking (CI)", false)
    .option("--json", "print one JSON event per line on stdout", false)
    .option(
      "--override-gates <gates>",
      "gates that may be passed when they fail, comma-separated (e.g. traffic; `intent` for a preview outside a step's intent); each use is journaled and reported",
    )
    .option("--to-step <n>", "stop cleanly after step n (resume later with the same command)")
    .option(
      "--break-lock",
      "remove a run lock held from another host (make sure that run is over); a lock whose process is gone on this host is taken over by itself",
      false,
    )
    .option(
      "--plan <file>",
      "migrate your own stack: a migration plan (YAML); see examples/own-stack",
    )
    .action(async (opts) => {
      if (opts.plan !== undefined) {
        const { ownStackCommand } = await import("./cli/own-stack-command.js");
        process.exitCode = await ownStackCommand(opts);
        return;
      }
      const { runCommand } = await import("./cli/run-command.js");
      process.exitCode = await runCommand(opts);
    });

  program
    .command("status")
    .description("where the migration of a stack stands (from its journal)")
    .addOption(stack)
    .option("--json", "print JSON", false)
    .action(async (opts) => {
      const { statusCommand } = await import("./cli/status-command.js");
      process.exitCode = await statusCommand(opts);
    });

  program
    .command("report")
    .description("show the last report of a stack")
    .addOption(stack)
    .option("--format <format>", "print the report as md, json or html instead of a summary")
    .option("--open", "print report.html's path and open it (xdg-open, when installed)")
    .action(async (opts) => {
      const { reportCommand } = await import("./cli/report-command.js");
      process.exitCode = await reportCommand(opts);
    });

  program
    .command("destroy")
    .description("destroy the stack's resources (asks you to type the stack name)")
    .addOption(target)
    .addOption(stack)
    .addOption(region)
    .addOption(profile)
    .option("--config <file>", "YAML config")
    .option("--yes-i-typed <name>", "non-interactive confirmation: the stack name")
    .option(
      "--break-lock",
      "remove a run lock held from another host (make sure that run is over); a lock whose process is gone on this host is taken over by itself",
      false,
    )
    .action(async (opts) => {
      const { destroyCommand } = await import("./cli/destroy-command.js");
      process.exitCode = await destroyCommand(opts);
    });

  program.addCommand(preflightCommandDefinition(stack, region, profile));

  return program;
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
  const program = buildProgram();
  const { addLazyCommands } = await import("./cli/lazy-commands.js");
  addLazyCommands(program);
  await program.parseAsync(argv);
}

main(process.argv).catch(fail);
