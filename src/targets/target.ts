import type { RunOptions } from "../cli/options.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplyProgress, Diagnostic, InfraDriver } from "../engine/ports.js";
import type { MigrationSpec } from "../infra/spec.js";
import type { Logger } from "../log.js";
import type { RunbookConfig } from "../migrations/eks-nodegroups/config.js";
import type { EksContext } from "../migrations/eks-nodegroups/context.js";

// A target is everything the runbook needs from one world (AWS or the local sandbox):
// the infra driver, the probes/ops/traffic context, preflight findings and cleanup.

/** The infra driver plus what only the CLI's own commands need. */
export interface TargetInfra extends InfraDriver<MigrationSpec> {
  /** URNs of every resource in the stack. */
  resourceUrns(signal: AbortSignal): Promise<string[]>;
  destroy(opts: {
    signal: AbortSignal;
    onProgress?: (p: ApplyProgress) => void;
  }): Promise<{ deleted: number }>;
}

export interface RunTarget {
  ctx: EksContext;
  infra: TargetInfra;
  preflight: Diagnostic[];
  reportPath(): string | undefined;
  close(): Promise<void>;
}

export interface TargetDeps {
  signal: AbortSignal;
  logger: Logger;
  emit: (e: EngineEvent) => void;
}

export async function createTarget(
  opts: RunOptions,
  config: RunbookConfig,
  deps: TargetDeps,
): Promise<RunTarget> {
  const { createRunTarget } = await import("./create-run-target.js");
  return createRunTarget(opts, config, deps);
}
