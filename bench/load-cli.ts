// Bench-only entry: `eks-runbook load` from the built dist/ until src/cli.ts wires it in.
// Run `npm run build` first; then: node bench/load-cli.ts <url> [options]
const dist = new URL("../dist/", import.meta.url);
const { loadCommand } = (await import(
  new URL("cli/load-command.js", dist).href
)) as typeof import("../src/cli/load-command.js");
const { RunbookError } = (await import(
  new URL("runbook/errors.js", dist).href
)) as typeof import("../src/runbook/errors.js");

try {
  await loadCommand().parseAsync(process.argv);
} catch (err) {
  if (err instanceof RunbookError) {
    process.stderr.write(`error: ${err.message}\nhint: ${err.hint}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof Error && "exitCode" in err && typeof err.exitCode === "number") {
    // CommanderError: commander already printed the message (or the help).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else throw err;
}
