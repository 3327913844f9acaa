import "../quiet-warnings.js";
import { parseArgs } from "node:util";
import { RunbookError } from "../engine/errors.js";
import { AGENT_DEFAULTS, runAgent } from "./agent.js";

// Entry of the detached sandbox agent (dist/sandbox/agent-main.js), started by `sandbox up`:
//   node agent-main.js --kubeconfig <file> --moto-endpoint <url> --state-dir <dir>
//     --cluster <name> [--region us-east-1] [--namespace apps] [--time-factor 0.2]
//     [--poll-interval-ms 500] [--node-boot-seconds 5] [--lb-port <n>]
// Runs until SIGTERM or SIGINT, then stops every process it started and exits 0. Its log is
// <state-dir>/logs/agent.log; only a startup failure is written to stderr (exit 1).

const USAGE =
  "usage: agent-main --kubeconfig <file> --moto-endpoint <url> --state-dir <dir> --cluster <name> " +
  "[--region R] [--namespace NS] [--time-factor F] [--poll-interval-ms MS] [--node-boot-seconds S] [--lb-port P]";

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a non-negative number, got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: "string" },
      "moto-endpoint": { type: "string" },
      "state-dir": { type: "string" },
      cluster: { type: "string" },
      region: { type: "string" },
      namespace: { type: "string" },
      "time-factor": { type: "string" },
      "poll-interval-ms": { type: "string" },
      "node-boot-seconds": { type: "string" },
      "lb-port": { type: "string" },
    },
    strict: true,
  });
  const kubeconfig = values.kubeconfig;
  const motoEndpoint = values["moto-endpoint"];
  const stateDir = values["state-dir"];
  const cluster = values.cluster;
  if (!kubeconfig || !motoEndpoint || !stateDir || !cluster) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const ac = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => ac.abort());
  await runAgent({
    kubeconfig,
    motoEndpoint,
    stateDir,
    cluster,
    region: values.region ?? AGENT_DEFAULTS.region,
    namespace: values.namespace ?? AGENT_DEFAULTS.namespace,
    timeFactor: num(values["time-factor"], "time-factor"),
    pollIntervalMs: num(values["poll-interval-ms"], "poll-interval-ms"),
    nodeBootSeconds: num(values["node-boot-seconds"], "node-boot-seconds"),
    lbPort: num(values["lb-port"], "lb-port"),
    signal: ac.signal,
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const hint = err instanceof RunbookError ? `\n${err.hint}` : "";
    process.stderr.write(
      `sandbox agent failed: ${err instanceof Error ? err.message : String(err)}${hint}\n`,
    );
    process.exit(1);
  },
);
