// The environment of every process the runbook starts on this machine for the local
// target (sandbox daemons, kwokctl, moto, the data plane's nginx/HAProxy/echo servers,
// the local Pulumi CLI and its plugins): an explicit allow-list, not the operator's whole
// environment. An operator's shell holds real AWS keys, PULUMI_ACCESS_TOKEN, GitHub tokens
// and the like; none of these processes needs them, and every one of them writes logs or
// state (Pulumi checkpoints, crash dumps) where a copy could end up.

/** Variables a local process may inherit: where things are, the locale, nothing secret. */
const ALLOWED = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "TERM",
]);
/** Locale settings and the runbook's own settings (paths, levels, names; never secrets). */
const ALLOWED_PREFIXES = ["LC_", "EKS_RUNBOOK_"];

function allowed(name: string): boolean {
  return ALLOWED.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The allow-listed part of `base` (default: this process's environment) plus `extra`,
 * which the caller sets explicitly (and may therefore hold anything it means to pass).
 */
export function localProcessEnv(
  extra: NodeJS.ProcessEnv = {},
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && allowed(k)) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}
