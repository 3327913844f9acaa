import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

// Runs the real binary (dist/cli.js, built by `npm run build`) with the project's Node.

export const repoRoot = resolve(import.meta.dirname, "../..");
export const cliPath = join(repoRoot, "dist", "cli.js");
export const nodeBin = join(repoRoot, "node_modules", ".bin", "node");

export function requireBuild(): void {
  if (!existsSync(cliPath))
    throw new Error(`${cliPath} is missing: run \`npm run build\` first (npm test does)`);
}

export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
) {
  requireBuild();
  const r = spawnSync(nodeBin, [cliPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}
