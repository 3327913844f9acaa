import { Engine } from "../engine/engine.js";
import { AbortedError, InputError } from "../engine/errors.js";
import type { EngineActions, EngineEvent } from "../engine/events.js";
import { Journal } from "../engine/journal.js";
import { type MigrationSpec, migrationSpecSchema } from "../infra/spec.js";
import { logFieldsOf } from "../log-fields.js";
import { initialSpec, loadConfig } from "../migrations/eks-nodegroups/config.js";
import type { EksContext } from "../migrations/eks-nodegroups/context.js";
import { eksMigrationSteps } from "../migrations/eks-nodegroups/steps.js";
import { createJsonRenderer, createPlainRenderer } from "../render/plain-renderer.js";
import type { RunTarget } from "../targets/target.js";
import type { InkRenderer } from "../ui/render-ink.js";
import { chooseRenderer, parseTarget, type RunOptions } from "./options.js";
import { takeStackLock } from "./stack-lock.js";
import { journalPath, logPath, validateStackName } from "./state-dir.js";

// `eks-runbook [run]`: validate everything first (nothing is created for bad input), pick
// the renderer once, build the target, and let the engine drive.

export async function runCommand(raw: Record<string, unknown>): Promise<number> {
  const opts: RunOptions = {
    target: parseTarget(String(raw.target ?? "local")),
    stack: validateStackName(String(raw.stack ?? "dev")),
    ...(typeof raw.config === "string" ? { config: raw.config } : {}),
    dryRun: Boolean(raw.dryRun),
    yes: Boolean(raw.yes),
    json: Boolean(raw.json),
    overrideGates: Boolean(raw.overrideGates),
  };
  const config = loadConfig(opts.config);
  const renderer = chooseRenderer(opts);
  if (!opts.dryRun && !opts.yes && !renderer.canPrompt) {
    throw new InputError(
      "every step waits for a confirmation, but there is no terminal to answer it (stdout or stdin is not a TTY, or CI is set)",
      "Pass --yes to confirm every step unattended, or --dry-run to only show the previews.",
    );
  }

  const { logLevelFromEnv, createLogger } = await import("../log.js");
  logLevelFromEnv(); // a bad EKS_RUNBOOK_LOG_LEVEL is bad input: refused before anything is created
  if (!opts.dryRun) takeStackLock(opts.stack, { breakLock: raw.breakLock === true });
  const logger = createLogger(logPath(opts.stack));
  const { createTarget } = await import("../targets/target.js");

  const out = (line: string) => process.stdout.write(`${line}\n`);
  const listeners: ((e: EngineEvent) => void)[] = [];
  const early = (e: EngineEvent) => {
    for (const l of listeners) l(e);
  };
  if (renderer.mode === "json") listeners.push(createJsonRenderer(out));
  if (renderer.mode === "plain") listeners.push(createPlainRenderer(out));

  // The screen comes up first, so preflight and sandbox start-up are visible while they
  // run; until the engine exists, its actions reach the setup (only quitting makes sense).
  let engine: Engine<EksContext, MigrationSpec> | undefined;
  const setupAbort = new AbortController();
  const actions: EngineActions = {
    decide: (step, d) => engine?.decide(step, d),
    abort: (reason) => (engine ? engine.abort(reason) : setupAbort.abort(new AbortedError(reason))),
  };
  let ink: InkRenderer | undefined;
  if (renderer.mode === "ink") {
    const { renderInk } = await import("../ui/render-ink.js");
    ink = renderInk(actions, { interactive: renderer.canPrompt });
    listeners.push(ink.onEvent);
  }

  // Ctrl-C / SIGTERM before the engine exists: nothing to cancel yet but the setup.
  const onEarlySignal = () => actions.abort("interrupted during start-up");
  process.once("SIGINT", onEarlySignal);
  process.once("SIGTERM", onEarlySignal);
  let target: RunTarget;
  try {
    target = await createTarget(opts, config, { signal: setupAbort.signal, logger, emit: early });
  } catch (err) {
    await ink?.close();
    throw setupAbort.signal.aborted ? new AbortedError("interrupted during start-up") : err;
  } finally {
    process.off("SIGINT", onEarlySignal);
    process.off("SIGTERM", onEarlySignal);
  }
  const t = target;

  engine = new Engine({
    steps: eksMigrationSteps(config),
    ctx: t.ctx,
    infra: t.infra,
    // Records are validated on read (specs against the spec schema); a torn last line is
    // reported through the renderers.
    journal: new Journal(journalPath(opts.stack), {
      spec: migrationSpecSchema,
      onWarning: (w) =>
        early({
          type: "diagnostic",
          severity: "warning",
          message: w.replace(/^warning: /, "").trim(),
          at: new Date().toISOString(),
        }),
    }),
    initialSpec: initialSpec(config),
    stack: opts.stack,
    target: opts.target,
    dryRun: opts.dryRun,
    yes: opts.yes,
    overrideGates: opts.overrideGates,
    traffic: t.ctx.traffic,
    summaryExtras: () => (t.reportPath() ? { report: t.reportPath() } : {}),
  });
  engine.on((e) => {
    // Traffic is recorded in the timeline and the report; the log keeps the transitions.
    if (e.type !== "traffic") logger.info({ event: logFieldsOf(e) }, e.type);
    for (const l of listeners) l(e);
  });

  const running = engine;
  const onSignal = (sig: NodeJS.Signals) =>
    running.abort(sig === "SIGINT" ? "interrupted (Ctrl-C)" : `received ${sig}`);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    for (const d of t.preflight) early({ type: "diagnostic", ...d, at: new Date().toISOString() });
    const result = await running.run();
    return result.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await ink?.close();
    await t.close();
    logger.flush();
  }
}
