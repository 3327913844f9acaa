import { createJsonRenderer, createPlainRenderer } from "../render/plain-renderer.js";
import { initialSpec, loadConfig } from "../runbook/config.js";
import { eksMigrationSteps } from "../runbook/eks-migration.js";
import { Engine } from "../runbook/engine.js";
import { InputError } from "../runbook/errors.js";
import type { EngineEvent } from "../runbook/events.js";
import { Journal } from "../runbook/journal.js";
import { chooseRenderer, parseTarget, type RunOptions } from "./options.js";
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

  const { createLogger } = await import("../log.js");
  const logger = createLogger(logPath(opts.stack));
  const { createTarget } = await import("./target.js");

  const out = (line: string) => process.stdout.write(`${line}\n`);
  let ink: Awaited<ReturnType<typeof import("../ui/render-ink.js")["renderInk"]>> | undefined;
  const listeners: ((e: EngineEvent) => void)[] = [];
  const early = (e: EngineEvent) => {
    for (const l of listeners) l(e);
  };
  if (renderer.mode === "json") listeners.push(createJsonRenderer(out));
  if (renderer.mode === "plain") listeners.push(createPlainRenderer(out));

  // Ctrl-C / SIGTERM before the engine exists: nothing to cancel yet but the setup.
  const setupAbort = new AbortController();
  const onEarlySignal = () => setupAbort.abort(new Error("interrupted"));
  process.once("SIGINT", onEarlySignal);
  process.once("SIGTERM", onEarlySignal);

  const target = await createTarget(opts, config, {
    signal: setupAbort.signal,
    logger,
    emit: early,
  });
  process.off("SIGINT", onEarlySignal);
  process.off("SIGTERM", onEarlySignal);

  const engine = new Engine({
    steps: eksMigrationSteps(config),
    ctx: target.ctx,
    infra: target.infra,
    journal: new Journal(journalPath(opts.stack)),
    initialSpec: initialSpec(config),
    stack: opts.stack,
    target: opts.target,
    dryRun: opts.dryRun,
    yes: opts.yes,
    overrideGates: opts.overrideGates,
    traffic: target.ctx.traffic,
    summaryExtras: () => (target.reportPath() ? { report: target.reportPath() } : {}),
  });

  if (renderer.mode === "ink") {
    const { renderInk } = await import("../ui/render-ink.js");
    ink = renderInk(engine, { interactive: renderer.canPrompt });
    listeners.push(ink.onEvent);
  }
  engine.on((e) => {
    logger.info({ event: e.type === "traffic" ? undefined : e }, e.type);
    for (const l of listeners) l(e);
  });

  const onSignal = (sig: NodeJS.Signals) =>
    engine.abort(sig === "SIGINT" ? "interrupted (Ctrl-C)" : `received ${sig}`);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    for (const d of target.preflight)
      early({ type: "diagnostic", ...d, at: new Date().toISOString() });
    const result = await engine.run();
    return result.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await ink?.close();
    await target.close();
    logger.flush();
  }
}
