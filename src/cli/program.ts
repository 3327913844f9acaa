import { Command, Option } from "commander";
import { InputError } from "../engine/errors.js";
import { suggestCommand } from "./args.js";
import { strictUsage } from "./options.js";
import { preflightCommandDefinition } from "./preflight-definition.js";

// The command line: commands, flags (short ones for the common options), the top-level help
// with the run options and every environment variable. Actions import their modules lazily.

const EXAMPLES = `
Examples:
  $ eks-runbook -t local                       rehearse the whole migration on this machine
  $ eks-runbook -t local -y                    the same, unattended
  $ eks-runbook --target local --dry-run       every step's preview; changes nothing (-t local -n)
  $ eks-runbook -t local --to-step 4           stop cleanly after step 4 (run again to continue)
  $ eks-runbook -t aws -s prod                 the real thing, step by step
  $ eks-runbook -j -y | jq .type               events for CI, one JSON object per line
  $ eks-runbook status -s prod                 where the migration stands (and whether it runs)
  $ eks-runbook logs -f                        follow the run log of stack dev
  $ eks-runbook load http://127.0.0.1:8080 --host apps.example.com --duration 30s
  $ eks-runbook sandbox up                     start the local sandbox
  $ source <(eks-runbook completion bash)      shell completion (bash; zsh too)`;

/** Every environment variable the runbook reads (README "Environment" repeats this table). */
export const ENVIRONMENT = `
Environment:
  EKS_RUNBOOK_HOME             state directory: journal, run.log, reports, the local Pulumi
                               backend (default ~/.eks-runbook)
  EKS_RUNBOOK_SANDBOX          name of the local sandbox a run and \`sandbox\` commands use
                               (default eks-runbook)
  EKS_RUNBOOK_CACHE            toolchain cache (default ~/.cache/eks-runbook)
  EKS_RUNBOOK_LOG_LEVEL        run.log level: trace, debug, info, warn, error (default info)
  EKS_RUNBOOK_AGENT_LOG_LEVEL  the sandbox agent's log level (default info)
  EKS_RUNBOOK_MOTO_ENDPOINT    set by the runbook for its own Pulumi programs (local
                               target); not meant to be set by hand
  EKS_RUNBOOK_NODE             the Node.js (22+) the bin/eks-runbook launcher uses when the
                               project's own Node is not installed next to it
  NO_COLOR                     no colours (any non-empty value); FORCE_COLOR=0 also works
  CI                           set: no interactive screen, no prompts (pass --yes or --dry-run)`;

function runOptionsHelp(run: Command): string {
  const help = run.createHelp();
  const opts = help.visibleOptions(run).filter((o) => o.long !== "--help");
  const width = Math.max(...opts.map((o) => help.optionTerm(o).length));
  const lines = opts.map(
    (o) => `  ${help.optionTerm(o).padEnd(width)}  ${help.optionDescription(o)}`,
  );
  return `\nRun options (eks-runbook [run] [options]):\n${lines.join("\n")}\n`;
}

export function buildProgram(): Command {
  // strictUsage: bad usage anywhere throws (exit 2) and what is echoed of it is escaped.
  const program = strictUsage(new Command("eks-runbook"))
    .description(
      "Migrate a live EKS workload between node groups with zero downtime, one gated step at a time.",
    )
    .version("0.1.0", "-V, --version")
    .showHelpAfterError("(add --help for usage)");

  const target = () =>
    new Option("-t, --target <target>", "where to run: local (rehearsal) or aws")
      .choices(["aws", "local"])
      .default("local");
  const stack = () =>
    new Option("-s, --stack <name>", "stack name (journal, Pulumi stack)").default("dev");
  const region = () =>
    new Option(
      "--region <region>",
      "AWS region (--target aws; default AWS_REGION or the profile's); pinned with the stack",
    );
  const profile = () =>
    new Option("--profile <name>", "AWS profile (--target aws; default AWS_PROFILE)");
  const breakLock = () =>
    new Option(
      "--break-lock",
      "remove a run lock held from another host (make sure that run is over); a lock whose process is gone on this host is taken over by itself",
    ).default(false);

  const run = program
    .command("run", { isDefault: true })
    .description("run the migration runbook (the default command)")
    .usage("[options]")
    // A stray word is a mistyped command (the default command would take it as an argument).
    .argument("[command...]")
    .addOption(target())
    .addOption(stack())
    .addOption(region())
    .addOption(profile())
    .option(
      "-c, --config <file>",
      "YAML config (groups, versions, traffic, gates); defaults reproduce the tutorial",
    )
    .option(
      "-n, --dry-run",
      "show every step's preview (Pulumi preview, predicted drain); change nothing",
      false,
    )
    .option("-y, --yes", "confirm every step without asking (CI)", false)
    .option(
      "-j, --json",
      "print one JSON event per line on stdout (docs/events.schema.json)",
      false,
    )
    .option(
      "-o, --override-gates <gates>",
      "gates that may be passed when they fail, comma-separated (e.g. traffic; `intent` for a preview outside a step's intent); each use is journaled and reported",
    )
    .option("--to-step <n>", "stop cleanly after step n (resume later with the same command)")
    .addOption(breakLock())
    .option(
      "--plan <file>",
      "migrate your own stack: a migration plan (YAML); see examples/own-stack",
    )
    .action(async (words: string[], opts) => {
      if (words.length > 0) throw unknownCommand(program, words[0]!);
      if (opts.plan !== undefined) {
        const { ownStackCommand } = await import("./own-stack-command.js");
        process.exitCode = await ownStackCommand(opts);
        return;
      }
      const { runCommand } = await import("./run-command.js");
      process.exitCode = await runCommand(opts);
    });

  program
    .command("status")
    .description("where the migration of a stack stands (journal), and whether a run is live")
    .addOption(stack())
    .option("-j, --json", "print JSON", false)
    .action(async (opts) => {
      const { statusCommand } = await import("./status-command.js");
      process.exitCode = await statusCommand(opts);
    });

  program
    .command("logs")
    .description("print a stack's run log (~/.eks-runbook/<stack>/run.log)")
    .addOption(stack())
    .option("-f, --follow", "keep printing new lines until Ctrl-C", false)
    .option("-l, --lines <n>", "how many of the last lines to print first", "50")
    .option("--raw", "print the log's JSON lines as they are", false)
    .action(async (opts) => {
      const { logsCommand } = await import("./logs-command.js");
      process.exitCode = await logsCommand(opts);
    });

  program
    .command("report")
    .description("show the last report of a stack")
    .addOption(stack())
    .option("--format <format>", "print the report as md, json or html instead of a summary")
    .option("--open", "print report.html's path and open it (xdg-open, when installed)")
    .action(async (opts) => {
      const { reportCommand } = await import("./report-command.js");
      process.exitCode = await reportCommand(opts);
    });

  program
    .command("destroy")
    .description("destroy the stack's resources (asks you to type the stack name)")
    .addOption(target())
    .addOption(stack())
    .addOption(region())
    .addOption(profile())
    .option("-c, --config <file>", "YAML config")
    .option("--yes-i-typed <name>", "non-interactive confirmation: the stack name")
    .addOption(breakLock())
    .action(async (opts) => {
      const { destroyCommand } = await import("./destroy-command.js");
      process.exitCode = await destroyCommand(opts);
    });

  program.addCommand(preflightCommandDefinition(stack(), region(), profile()));

  program
    .command("completion")
    .description("print a shell completion script: source <(eks-runbook completion bash)")
    .argument("<shell>", "bash or zsh")
    .action(async (shell: string) => {
      const { completionScript } = await import("./completion-command.js");
      process.stdout.write(completionScript(shell, program));
    });

  program.addHelpText("after", () => `${runOptionsHelp(run)}${ENVIRONMENT}\n${EXAMPLES}`);
  return program;
}

function unknownCommand(program: Command, typed: string): InputError {
  const names = program.commands.map((c) => c.name()).filter((n) => n !== "run");
  const guess = suggestCommand(typed, [...names, "run", "help"]);
  return new InputError(
    `unknown command "${typed}"`,
    `${guess ? `Did you mean \`eks-runbook ${guess}\`? ` : ""}Commands: ${names.join(", ")} (see eks-runbook --help).`,
  );
}
