import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RunbookError } from "../engine/errors.js";
import { reportsDir, validateStackName } from "./state-dir.js";

// `eks-runbook report`: prints the latest report's Markdown and where its files are.

export async function reportCommand(raw: Record<string, unknown>): Promise<number> {
  const stack = validateStackName(String(raw.stack ?? "dev"));
  const dir = reportsDir(stack);
  const runs = existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => existsSync(join(dir, d, "report.md")))
        .sort()
    : [];
  const latest = runs.at(-1);
  if (!latest) {
    throw new RunbookError(
      `stack ${stack}: no report yet (looked in ${dir})`,
      `A report is written by the last step of a run: eks-runbook --stack ${stack}`,
    );
  }
  const md = join(dir, latest, "report.md");
  process.stdout.write(readFileSync(md, "utf8"));
  process.stdout.write(`\nfiles: ${join(dir, latest)}\n`);
  return 0;
}
