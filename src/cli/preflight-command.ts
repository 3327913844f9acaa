import { ExitCode } from "../engine/errors.js";
import { loadConfig } from "../migrations/eks-nodegroups/config.js";
import { preflightFailure } from "../targets/aws-preflight/preflight.js";
import { validateStackName } from "./state-dir.js";
import { targetRequest } from "./target-request.js";

// Runs the AWS preflight and prints each check with what to do; exit 2 when the operator
// must fix something first, 0 otherwise. Nothing is created (no stack, no resource).

const MARK = { info: "ok  ", warning: "warn", error: "FAIL" } as const;

export async function preflightCommand(raw: Record<string, unknown>): Promise<number> {
  const stack = validateStackName(String(raw.stack ?? "dev"));
  const config = loadConfig(typeof raw.config === "string" ? raw.config : undefined, "aws");
  const req = {
    ...targetRequest({ target: "aws", stack }, config, raw),
    purpose: "preflight" as const,
  };
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  const { prepareAws } = await import("../targets/aws-prepare.js");
  const prepared = await prepareAws(req, abort.signal).finally(() =>
    process.off("SIGINT", onSignal),
  );
  prepared.clients?.close();
  const { checks, peak, cost } = prepared.preflight;
  const failure = preflightFailure(checks);
  if (raw.json) {
    process.stdout.write(
      `${JSON.stringify({
        stack,
        region: prepared.region ?? null,
        stackExists: prepared.applied !== undefined,
        checks,
        peak: peak ?? null,
        costUsdPerHour: cost?.usdPerHour ?? null,
        ok: failure === undefined,
      })}\n`,
    );
  } else {
    process.stdout.write(
      `AWS preflight for stack ${stack}${prepared.region ? ` in ${prepared.region}` : ""}${prepared.applied ? " (the stack exists; region from the stack)" : ""}\n`,
    );
    for (const c of checks) {
      process.stdout.write(`${MARK[c.severity]} ${c.name}: ${c.message}\n`);
      if (c.severity !== "info" && c.fix) process.stdout.write(`     fix: ${c.fix}\n`);
    }
    process.stdout.write(
      failure ? "preflight: fix the FAIL lines above, then run again\n" : "preflight: ready\n",
    );
  }
  return failure ? ExitCode.badInput : ExitCode.ok;
}
