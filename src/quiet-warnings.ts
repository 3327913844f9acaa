// undici probes `node:sqlite` when it loads, and Node reports that module as experimental
// on stderr. The warning is about a cache store this project never uses: drop it, keep
// every other warning. Import this first in every entry point (CLI, worker, agent).

const emit = process.emitWarning.bind(process);

process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === "string" ? warning : warning.message;
  if (/SQLite is an experimental feature/.test(text)) return;
  (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
