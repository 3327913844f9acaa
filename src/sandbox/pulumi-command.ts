import type { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { PrerequisiteError } from "../engine/errors.js";
import { setupCommand, type ToolchainPaths, toolchain } from "./toolchain.js";

// The pinned Pulumi CLI for the Automation API. PulumiCommand.get runs `<root>/bin/pulumi
// version` and validates it; we also insist it parsed to exactly the pinned version, so a
// skipped or failed check can never go unnoticed. Pass the result as the LocalWorkspace
// option `pulumiCommand`, together with `envVars: pulumiEnv()`.

export async function localPulumiCommand(tc: ToolchainPaths = toolchain()): Promise<PulumiCommand> {
  // Loaded lazily: the Automation API is heavy and most commands never need it.
  const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
  let cmd: PulumiCommand;
  try {
    cmd = await PulumiCommand.get({ root: tc.dirs.pulumi });
  } catch (err) {
    throw new PrerequisiteError(
      `the Pulumi CLI in ${tc.dirs.pulumi} is not usable: ${err instanceof Error ? err.message : String(err)}`,
      `Run \`${setupCommand("pulumi", tc)}\` (or \`npm run setup\`).`,
    );
  }
  if (cmd.version?.toString() !== tc.versions.pulumi) {
    throw new PrerequisiteError(
      `the Pulumi CLI in ${tc.dirs.pulumi} reports ${cmd.version?.toString() ?? "no parseable version"}, pinned ${tc.versions.pulumi}`,
      `Rebuild it: \`${setupCommand("pulumi", tc)}\`; and leave PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK unset.`,
    );
  }
  return cmd;
}
