import { Command, type Option } from "commander";

// `eks-runbook preflight`: what a real AWS account needs, checked without changing anything.
// Defined here (light: commander only); the work is in preflight-command.ts, loaded lazily.

export function preflightCommandDefinition(
  stack: Option,
  region: Option,
  profile: Option,
): Command {
  return new Command("preflight")
    .description(
      "check an AWS account for the run: credentials, region, vCPU quota vs the plan's peak, CLIs, an hourly cost estimate (changes nothing)",
    )
    .addOption(stack)
    .addOption(region)
    .addOption(profile)
    .option("--config <file>", "YAML config (the plan whose peak is checked)")
    .option("--json", "print the checks as one JSON object", false)
    .action(async (opts: Record<string, unknown>) => {
      const { preflightCommand } = await import("./preflight-command.js");
      process.exitCode = await preflightCommand(opts);
    });
}
