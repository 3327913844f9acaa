import { existsSync, renameSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { InputError } from "../engine/errors.js";
import { loadConfig } from "../migrations/eks-nodegroups/config.js";
import { parseTarget, type RunOptions } from "./options.js";
import { takeStackLock } from "./stack-lock.js";
import { journalPath, logPath, validateStackName } from "./state-dir.js";
import { targetRequest } from "./target-request.js";

// `eks-runbook destroy`: deletes every resource of the stack, after the operator typed the
// stack's name (or passed it with --yes-i-typed in CI). The journal is archived, so the
// next run starts from step 1 instead of resuming a migration that no longer exists.

export async function destroyCommand(raw: Record<string, unknown>): Promise<number> {
  const opts: RunOptions = {
    target: parseTarget(String(raw.target ?? "local")),
    stack: validateStackName(String(raw.stack ?? "dev")),
    ...(typeof raw.config === "string" ? { config: raw.config } : {}),
    dryRun: false,
    yes: true,
    json: false,
    overrideGates: [],
  };
  const config = loadConfig(opts.config, opts.target);
  let typed = typeof raw.yesITyped === "string" ? raw.yesITyped : undefined;
  if (typed === undefined) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw new InputError(
        "destroy needs the stack name typed as confirmation, and there is no terminal to type it",
        `Pass --yes-i-typed ${opts.stack} to confirm non-interactively.`,
      );
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    typed = (
      await rl.question(
        `This deletes every resource of stack "${opts.stack}" (${opts.target}). Type the stack name to confirm: `,
      )
    ).trim();
    rl.close();
  }
  if (typed !== opts.stack) {
    throw new InputError(
      `the typed name "${typed}" is not the stack name "${opts.stack}"; nothing was destroyed`,
      "Type the stack name exactly.",
    );
  }

  (await import("../log.js")).logLevelFromEnv(); // refused before the lock creates anything
  takeStackLock(opts.stack, { breakLock: raw.breakLock === true });
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  const { createLogger } = await import("../log.js");
  const logger = createLogger(logPath(opts.stack));
  const { createTarget } = await import("../targets/create-target.js");
  const out = (line: string) => process.stdout.write(`${line}\n`);
  // Only the target (its Pulumi driver and clients): no load generator, probes or report.
  const target = await createTarget(targetRequest(opts, config, raw), {
    signal: abort.signal,
    logger,
    emit: (e) => e.type === "diagnostic" && out(e.message),
  });
  try {
    const result = await target.infra.destroy({
      signal: abort.signal,
      onProgress: (p) => out(`destroy ${p.done}/${p.total}${p.current ? ` ${p.current}` : ""}`),
    });
    out(`destroyed ${result.deleted} resource(s) of stack ${opts.stack}`);
    const journal = journalPath(opts.stack);
    if (existsSync(journal)) {
      const archived = journal.replace(
        /\.jsonl$/,
        `.destroyed-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl`,
      );
      renameSync(journal, archived);
      out(`journal archived as ${archived}`);
    }
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    await target.close();
    logger.flush();
  }
}
