import { basename } from "node:path";
import { Engine } from "../engine/engine.js";
import { AbortedError, InputError } from "../engine/errors.js";
import type { EngineActions, EngineEvent } from "../engine/events.js";
import { Journal } from "../engine/journal.js";
import type { ProjectSpec } from "../infra/project-spec.js";
import type { OwnStackContext } from "../migrations/own-stack/context.js";
import { loadPlan } from "../migrations/own-stack/plan-file.js";
import type { OwnStackRun } from "../migrations/own-stack/run-context.js";
import { ownStackSteps } from "../migrations/own-stack/steps.js";
import { createJsonRenderer } from "../render/json-renderer.js";
import { createPlainRenderer } from "../render/plain-renderer.js";
import type { InkRenderer } from "../ui/render-ink.js";
import { chooseRenderer, parseTarget } from "./options.js";
import { invocationRunId } from "./run-id.js";
import { lockIdentity, takeStackLock } from "./stack-lock.js";
import { journalPath, logPath, validateStackName } from "./state-dir.js";
import { parseOverrides, parseToStep } from "./step-flags.js";

// `eks-runbook --plan my-migration.yaml`: the same engine, journal, screen, JSON events and
// report as the tutorial runbook, on your Pulumi project and your cluster. Everything is
// validated first (the plan, the stack, the cluster, the old group's nodes): bad input
// exits 2 before anything changes.

/** The runbook's own state (journal, logs, reports) is kept per project and stack. */
export function ownStackStateName(projectDir: string, stack: string): string {
  const raw = `own-${basename(projectDir)}-${stack.split("/").at(-1) ?? stack}`;
  return validateStackName(raw.replace(/[^a-zA-Z0-9_.-]/g, "-").slice(0, 63));
}

export async function ownStackCommand(raw: Record<string, unknown>): Promise<number> {
  const plan = loadPlan(String(raw.plan));
  const steps = ownStackSteps(plan);
  const target = parseTarget(String(raw.target ?? "local"));
  const dryRun = Boolean(raw.dryRun);
  const yes = Boolean(raw.yes);
  const json = Boolean(raw.json);
  const overrideGates = parseOverrides(raw.overrideGates, steps);
  const toStep = parseToStep(raw.toStep, steps);
  const stateName = ownStackStateName(plan.projectDir, plan.pulumi.stack);
  const renderer = chooseRenderer({ json });
  if (!dryRun && !yes && !renderer.canPrompt) {
    throw new InputError(
      "every step waits for a confirmation, but there is no terminal to answer it (stdout or stdin is not a TTY, or CI is set)",
      "Pass --yes to confirm every step unattended, or --dry-run to only show the previews.",
    );
  }
  // One run per stack at a time: this machine's lock first (before anything is read or
  // changed), then the tag on your stack (below), which other machines see too.
  if (!dryRun) takeStackLock(stateName, { breakLock: raw.breakLock === true });
  const journal = new Journal<ProjectSpec>(journalPath(stateName));
  const fresh = journal.read().records.length === 0;

  const { createLogger } = await import("../log.js");
  const logger = createLogger(logPath(stateName));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const listeners: ((e: EngineEvent) => void)[] = [];
  const early = (e: EngineEvent) => {
    for (const l of listeners) l(e);
  };
  const runId = invocationRunId();
  if (renderer.mode === "json") listeners.push(createJsonRenderer(out, runId));
  if (renderer.mode === "plain") listeners.push(createPlainRenderer(out));

  let engine: Engine<OwnStackContext, ProjectSpec> | undefined;
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
  const onEarlySignal = () => actions.abort("interrupted during start-up");
  process.once("SIGINT", onEarlySignal);
  process.once("SIGTERM", onEarlySignal);
  let run: OwnStackRun;
  let releaseStack: (() => Promise<void>) | undefined;
  let created: OwnStackRun | undefined;
  try {
    const { createOwnStackRun } = await import("../migrations/own-stack/run-context.js");
    run = await createOwnStackRun({
      plan,
      target,
      stateName,
      steps: steps.map((s) => ({ id: s.id, title: s.title })),
      fresh,
      signal: setupAbort.signal,
      emit: early,
    });
    created = run;
    if (!dryRun) {
      const { currentOwner } = await import("../engine/run-lock.js");
      releaseStack = await run.infra.lockStack({
        owner: currentOwner(lockIdentity()),
        breakLock: raw.breakLock === true,
        warn: (message) =>
          early({ type: "diagnostic", severity: "warning", message, at: new Date().toISOString() }),
        signal: setupAbort.signal,
      });
    }
  } catch (err) {
    await ink?.close();
    await releaseStack?.().catch(() => undefined);
    await created?.close();
    throw setupAbort.signal.aborted ? new AbortedError("interrupted during start-up") : err;
  } finally {
    process.off("SIGINT", onEarlySignal);
    process.off("SIGTERM", onEarlySignal);
  }

  engine = new Engine({
    runId,
    steps,
    ctx: run.ctx,
    infra: run.infra,
    journal,
    initialSpec: run.initialSpec,
    stack: plan.pulumi.stack,
    target: target === "local" ? "local" : "your stack",
    dryRun,
    yes,
    overrideGates,
    ...(toStep !== undefined ? { toStep } : {}),
    traffic: run.ctx.traffic,
    summaryExtras: () => (run.reportPath() ? { report: run.reportPath() } : {}),
  });
  engine.on((e) => {
    if (e.type !== "traffic") logger.info({ event: e }, e.type);
    for (const l of listeners) l(e);
  });
  const running = engine;
  const onSignal = (sig: NodeJS.Signals) =>
    running.abort(sig === "SIGINT" ? "interrupted (Ctrl-C)" : `received ${sig}`);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    for (const d of run.preflight)
      early({ type: "diagnostic", ...d, at: new Date().toISOString() });
    const result = await running.run();
    return result.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await ink?.close();
    await releaseStack?.().catch((err: unknown) =>
      logger.warn({ err: String(err) }, "stack lock tag not released"),
    );
    await run.close();
    logger.flush();
  }
}
