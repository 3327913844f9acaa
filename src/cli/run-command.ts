import type { Engine } from "../engine/engine.js";
import { AbortedError, InputError } from "../engine/errors.js";
import type { EngineActions, EngineEvent } from "../engine/events.js";
import type { MigrationSpec } from "../infra/spec.js";
import type { Logger } from "../log.js";
import type { RunbookConfig } from "../migrations/eks-nodegroups/config.js";
import type { EksContext } from "../migrations/eks-nodegroups/context.js";
import type { EksRun } from "../migrations/eks-nodegroups/run-context.js";
import type { EksStep } from "../migrations/eks-nodegroups/steps.js";
import type { RunTarget } from "../targets/target.js";
import type { InkRenderer } from "../ui/render-ink.js";
import { chooseRenderer, parseTarget, type RunOptions } from "./options.js";
import { invocationRunId } from "./run-id.js";
import { journalPath, logPath, validateStackName } from "./state-dir.js";

// `eks-runbook [run]`: validate everything first (nothing is created for bad input), pick
// the renderer once, build the target, and let the engine drive.

interface RunPlan {
  config: RunbookConfig;
  /** The plan, defined once for this run: the engine, the report and the checks share it. */
  steps: EksStep[];
  overrideGates: string[];
  toStep: number | undefined;
}

/** Config and step-dependent flags, validated together (zod and yaml load here, lazily). */
async function loadPlan(
  raw: Record<string, unknown>,
  configFile: string | undefined,
  target: "local" | "aws",
) {
  const [{ loadConfig }, { eksMigrationSteps }, { parseOverrides, parseToStep }] =
    await Promise.all([
      import("../migrations/eks-nodegroups/config.js"),
      import("../migrations/eks-nodegroups/steps.js"),
      import("./step-flags.js"),
    ]);
  const config = loadConfig(configFile, target);
  const steps = eksMigrationSteps(config);
  return {
    config,
    steps,
    overrideGates: parseOverrides(raw.overrideGates, steps),
    toStep: parseToStep(raw.toStep, steps),
  } satisfies RunPlan;
}

export async function runCommand(raw: Record<string, unknown>): Promise<number> {
  const opts: RunOptions = {
    target: parseTarget(String(raw.target ?? "local")),
    stack: validateStackName(String(raw.stack ?? "dev")),
    ...(typeof raw.config === "string" ? { config: raw.config } : {}),
    dryRun: Boolean(raw.dryRun),
    yes: Boolean(raw.yes),
    json: Boolean(raw.json),
    overrideGates: [],
  };
  const renderer = chooseRenderer(opts);
  if (renderer.notice) process.stderr.write(`${renderer.notice}\n`);
  // zod, yaml and pino are most of start-up: with the screen they load after its first
  // frame; without it the config is checked first.
  let plan: RunPlan | undefined =
    renderer.mode === "ink" ? undefined : await loadPlan(raw, opts.config, opts.target);
  if (!opts.dryRun && !opts.yes && !renderer.canPrompt) {
    throw new InputError(
      "every step waits for a confirmation, but there is no terminal to answer it (stdout or stdin is not a TTY, or CI is set)",
      "Pass --yes to confirm every step unattended, or --dry-run to only show the previews.",
    );
  }

  const out = (line: string) => process.stdout.write(`${line}\n`);
  const listeners: ((e: EngineEvent) => void)[] = [];
  const early = (e: EngineEvent) => {
    for (const l of listeners) l(e);
  };
  const runId = invocationRunId();
  if (renderer.mode === "json")
    listeners.push((await import("../render/json-renderer.js")).createJsonRenderer(out, runId));
  if (renderer.mode === "plain")
    listeners.push((await import("../render/plain-renderer.js")).createPlainRenderer(out));

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
    const { withProductionReact } = await import("../ui/production-react.js");
    const { renderInk } = await withProductionReact(() => import("../ui/render-ink.js"));
    ink = renderInk(actions, { interactive: renderer.canPrompt });
    listeners.push(ink.onEvent);
  }
  let logger: Logger;
  try {
    // Bad input takes the screen down before its error is printed; nothing was created.
    plan ??= await loadPlan(raw, opts.config, opts.target);
    const [{ logLevelFromEnv, createLogger }, { takeStackLock }] = await Promise.all([
      import("../log.js"),
      import("./stack-lock.js"),
    ]);
    logLevelFromEnv(); // a bad EKS_RUNBOOK_LOG_LEVEL is bad input: refused before anything is created
    if (!opts.dryRun)
      takeStackLock(opts.stack, {
        breakLock: raw.breakLock === true,
        warn: (message) =>
          early({ type: "diagnostic", severity: "warning", message, at: new Date().toISOString() }),
      });
    logger = createLogger(logPath(opts.stack));
  } catch (err) {
    await ink?.close();
    throw err;
  }
  const { config, steps, toStep } = plan;
  opts.overrideGates = plan.overrideGates;

  // Ctrl-C / SIGTERM before the engine exists: nothing to cancel yet but the setup.
  const onEarlySignal = () => actions.abort("interrupted during start-up");
  process.once("SIGINT", onEarlySignal);
  process.once("SIGTERM", onEarlySignal);
  let target: RunTarget | undefined;
  let releaseStack: (() => Promise<void>) | undefined;
  let run: EksRun;
  let initial = (await import("../migrations/eks-nodegroups/config.js")).initialSpec(config);
  try {
    const [{ createTarget }, { createEksRun }, { targetRequest }] = await Promise.all([
      import("../targets/create-target.js"),
      import("../migrations/eks-nodegroups/run-context.js"),
      import("./target-request.js"),
    ]);
    target = await createTarget(targetRequest(opts, config, raw), {
      signal: setupAbort.signal,
      logger,
      emit: early,
    });
    // One run per stack across machines too: a lock tag on the stack itself.
    if (!opts.dryRun) {
      const [{ currentOwner }, { lockIdentity }] = await Promise.all([
        import("../engine/run-lock.js"),
        import("./stack-lock.js"),
      ]);
      releaseStack = await target.infra.lockStack({
        owner: currentOwner(lockIdentity()),
        breakLock: raw.breakLock === true,
        warn: (message) =>
          early({ type: "diagnostic", severity: "warning", message, at: new Date().toISOString() }),
        signal: setupAbort.signal,
      });
    }
    // The AWS target pins region, AMIs and add-on versions with the stack (once).
    initial = target.pinSpec ? await target.pinSpec(initial, setupAbort.signal) : initial;
    run = await createEksRun({
      target,
      config,
      stack: opts.stack,
      steps: steps.map((s) => ({ id: s.id, title: s.title })),
    });
  } catch (err) {
    await ink?.close();
    await releaseStack?.().catch(() => undefined);
    await target?.close();
    throw setupAbort.signal.aborted ? new AbortedError("interrupted during start-up") : err;
  } finally {
    process.off("SIGINT", onEarlySignal);
    process.off("SIGTERM", onEarlySignal);
  }
  const t = target;

  // The engine, the journal's schemas (zod) and the log's field mapping load after the
  // screen's first frame (the screen shows start-up while they do).
  const [{ Engine }, { Journal }, { migrationSpecSchema }, { logFieldsOf }] = await Promise.all([
    import("../engine/engine.js"),
    import("../engine/journal.js"),
    import("../infra/spec.js"),
    import("../log-fields.js"),
  ]);
  engine = new Engine({
    runId,
    steps,
    ctx: run.ctx,
    infra: t.infra,
    // Records are validated on read (specs against the spec schema); a torn last line is
    // reported through the renderers.
    journal: new Journal<MigrationSpec>(journalPath(opts.stack), {
      spec: migrationSpecSchema,
      onWarning: (w) =>
        early({
          type: "diagnostic",
          severity: "warning",
          message: w.replace(/^warning: /, "").trim(),
          at: new Date().toISOString(),
        }),
    }),
    initialSpec: initial,
    stack: opts.stack,
    target: opts.target,
    dryRun: opts.dryRun,
    yes: opts.yes,
    overrideGates: opts.overrideGates,
    ...(toStep !== undefined ? { toStep } : {}),
    traffic: run.ctx.traffic,
    summaryExtras: () => (run.reportPath() ? { report: run.reportPath() } : {}),
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
    for (const d of [...t.preflight, ...run.preflight])
      early({ type: "diagnostic", ...d, at: new Date().toISOString() });
    const result = await running.run();
    return result.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await ink?.close();
    await run.close();
    await releaseStack?.().catch((err: unknown) =>
      logger.warn({ err: String(err) }, "stack lock tag not released"),
    );
    await t.close();
    logger.flush();
  }
}
