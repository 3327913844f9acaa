import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type {
  EngineEvent,
  LocalWorkspace,
  OutputMap,
  PulumiCommand,
  PulumiFn,
  Stack,
} from "@pulumi/pulumi/automation/index.js";
import { RunbookError } from "../engine/errors.js";
import type {
  ApplyProgress,
  ApplyResult,
  Diagnostic,
  InfraDriver,
  PreviewResult,
  RecoveryReport,
} from "../engine/ports.js";
import { PreviewCollector, ProgressTracker, toDiagnostic, urnName } from "./engine-events.js";
import { RECORDED_SPEC_OUTPUT, RETIRED_ASG_OUTPUT } from "./output-names.js";
import { boundedPulumiCall, pendingOperations } from "./pulumi-call.js";
import { mapPulumiError } from "./pulumi-errors.js";
import type { MigrationSpec } from "./spec.js";
import type { StackLock } from "./stack-files.js";
import { lockWorkspaceStack, type StackTagLockOptions } from "./stack-tag-lock.js";
import { validateSpec } from "./validate-spec.js";

export { validateSpec };

// The InfraDriver<MigrationSpec> on Pulumi's Automation API. Inline programs only (the program runs in
// this process; the CLI needs no language host). Every Pulumi module is imported lazily,
// on first use, so the CLI starts fast.

export const PROJECT_NAME = "eks-runbook";
/** The last applied spec, as JSON, in the stack's config. */
export const SPEC_CONFIG_KEY = `${PROJECT_NAME}:spec`;
export { RECORDED_SPEC_OUTPUT, RETIRED_ASG_OUTPUT };
/** Outputs holding secrets: redacted in outputs(); read them with secretOutput(). */
export const REDACTED = "[secret]";

/**
 * Everything that differs between targets, decided once by the target's builder
 * (src/targets/): where the workspace and backend are, which CLI runs, with which
 * environment, and which program describes the desired state.
 */
export interface PulumiDriverOptions {
  /** Stack name. */
  stack: string;
  /** The target's name, for error messages and hints ("local", "aws"). */
  target: string;
  /** Where Pulumi.yaml and Pulumi.<stack>.yaml live (stable across runs). */
  workDir: string;
  /** A backend of the runbook's own (the local target's file backend); undefined: the operator's. */
  backendUrl?: string;
  /** Environment of every Pulumi run; exactly this, nothing inherited. */
  env: Record<string, string>;
  /** The Pulumi CLI to run. */
  pulumiCommand: () => Promise<PulumiCommand>;
  /** Runs once before the workspace opens (state dirs, the passphrase file). */
  prepare?: () => Promise<void>;
  /** Stack config set whenever the stack is created or selected for an update (aws:region). */
  stackConfig?: Record<string, string>;
  /**
   * The backend's update locks of this stack, where the driver can read them (the file
   * backend); a recovery refuses a live one and clears a stale one.
   */
  findLocks?: () => Promise<StackLock[]>;
  /** The Pulumi program for a desired state. */
  program: (spec: MigrationSpec) => PulumiFn;
  /**
   * Previews save a Pulumi update plan and applies run exactly it (default true); false
   * only where a target's providers cannot produce stable plans.
   */
  planBound?: boolean;
  /** Upper bounds; the caller's AbortSignal can end any operation sooner. */
  previewTimeoutMs: number;
  applyTimeoutMs: number;
}

type Automation = typeof import("@pulumi/pulumi/automation/index.js");

function loadAutomation(): Promise<Automation> {
  return import("@pulumi/pulumi/automation/index.js");
}

/** The node_modules that holds @pulumi/pulumi: dynamic providers resolve modules there. */
export function nodeModulesDir(): string {
  const pkg = createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json");
  return resolve(dirname(pkg), "..", "..");
}

function redact(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(outputs).map(([k, v]) => [k, v.secret ? REDACTED : v.value]),
  );
}

export class PulumiInfraDriver implements InfraDriver<MigrationSpec> {
  private workspace: Promise<LocalWorkspace> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The last preview's step count per spec: the total of the next apply's progress. */
  private lastPreview: { key: string; total: number; plan?: string } | undefined;

  constructor(private readonly opts: PulumiDriverOptions) {}

  get stackName(): string {
    return this.opts.stack;
  }

  // ── InfraDriver ──────────────────────────────────────────────────────────────────

  async appliedSpec(signal: AbortSignal): Promise<MigrationSpec | undefined> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal, "read config");
      return stack ? this.readSpec(stack, signal) : undefined;
    });
  }

  async preview(
    spec: MigrationSpec,
    opts: { signal: AbortSignal; onDiagnostic?: (d: Diagnostic) => void; dryRun?: boolean },
  ): Promise<PreviewResult> {
    const valid = validateSpec(spec);
    return this.exclusive(async () => {
      if (opts.dryRun && !(await this.openStack(opts.signal, "preview"))) {
        return this.throwawayPreview(valid, opts.signal, opts.onDiagnostic);
      }
      return this.runPreview(valid, opts.signal, opts.onDiagnostic, { savePlan: !opts.dryRun });
    });
  }

  async apply(
    spec: MigrationSpec,
    opts: {
      signal: AbortSignal;
      plan?: string;
      onProgress?: (p: ApplyProgress) => void;
      onDiagnostic?: (d: Diagnostic) => void;
    },
  ): Promise<ApplyResult> {
    const valid = validateSpec(spec);
    return this.exclusive(async () => {
      const key = JSON.stringify(valid);
      const known = this.lastPreview?.key === key ? this.lastPreview : undefined;
      // Only a plan this driver saved for exactly this spec is applied; anything else
      // (another spec, a plan from elsewhere) is refused rather than silently re-planned.
      if (opts.plan !== undefined && known?.plan !== opts.plan) {
        throw new RunbookError(
          `stack ${this.opts.stack}: the approved plan does not belong to this desired state`,
          "Run the step again: a fresh preview saves a fresh plan to approve.",
        );
      }
      const total =
        known?.total ?? (await this.runPreview(valid, opts.signal, undefined)).resources.length;
      const plan = opts.plan;
      this.lastPreview = undefined;
      const stack = await this.createStack(opts.signal, "update");
      const retired = await this.retiredAsgNames(stack, valid, opts.signal);
      const tracker = new ProgressTracker(total, (p) => opts.onProgress?.(p));
      // Counted from the same events as the preview, so the two always agree.
      const applied = new PreviewCollector();
      opts.onProgress?.({ done: 0, total, message: "starting update" });
      const errors: string[] = [];
      const started = Date.now();
      const result = await this.guard(
        "update",
        opts.signal,
        this.applyTimeout(),
        errors,
        (signal) =>
          stack.up({
            program: withRetired(this.opts.program(valid), retired),
            // The approved plan: the engine fails the update rather than do anything the
            // preview did not show (a replace where it showed an update, a drifted input).
            ...(plan ? { plan } : {}),
            signal,
            onEvent: (e) => {
              tracker.add(e);
              applied.add(e);
              this.forwardDiagnostic(e, errors, opts.onDiagnostic);
            },
          }),
      );
      // Recorded only after success: appliedSpec() never names a half-applied spec.
      await this.guard("write config", opts.signal, undefined, [], () =>
        stack.setConfig(SPEC_CONFIG_KEY, { value: key }),
      );
      if (plan) await rm(plan, { force: true });
      opts.onProgress?.({ done: total, total, message: "update complete" });
      return {
        changes: applied.result().changes,
        durationMs: Date.now() - started,
        outputs: redact(result.outputs),
      };
    });
  }

  async recover(signal: AbortSignal): Promise<RecoveryReport> {
    return this.exclusive(async () => {
      const actions: string[] = [];
      const stack = await this.openStack(signal, "recovery");
      if (!stack) return { actions };
      let needsRefresh = false;
      if (this.opts.findLocks) {
        const locks = await this.opts.findLocks();
        const live = locks.find((l) => l.live);
        if (live) {
          throw new RunbookError(
            `stack ${this.opts.stack} is being updated by another process (pid ${live.pid ?? "?"}${live.hostname ? ` on ${live.hostname}` : ""})`,
            `Wait for it to finish or stop it; if it is gone, delete ${live.file} and run again.`,
          );
        }
        if (locks.length > 0) {
          await this.guard("cancel", signal, undefined, [], () => stack.cancel());
          for (const l of locks) {
            actions.push(
              `removed a stale lock left by an update that died (pid ${l.pid ?? "?"}${l.timestamp ? `, started ${l.timestamp}` : ""})`,
            );
          }
          needsRefresh = true;
        }
      }
      const before = await this.guard("export", signal, undefined, [], () => stack.exportStack());
      const pending = pendingOperations(before.deployment);
      if (pending.length > 0) {
        actions.push(
          `found ${pending.length} interrupted operation(s): ${pending.map((p) => `${p.type} ${urnName(p.urn)}`).join(", ")}`,
        );
        needsRefresh = true;
      }
      if (!needsRefresh) return { actions };
      // Re-read every resource from the cluster/cloud; pending updates and deletes are
      // settled by this, pending creates are dropped (a create that did happen is adopted
      // by the next update: the Kubernetes provider upserts, the ASG provider adopts).
      const errors: string[] = [];
      // Inline refresh: the CLI talks to an in-process language server (there is no Node.js
      // language host); the program itself is not run by a refresh.
      const applied = await this.readSpec(stack, signal);
      (stack.workspace as LocalWorkspace).program = applied
        ? this.opts.program(applied)
        : async () => ({});
      await this.guard("refresh", signal, this.previewTimeout(), errors, (s) =>
        stack.refresh({
          clearPendingCreates: true,
          signal: s,
          onEvent: (e) => this.forwardDiagnostic(e, errors, undefined),
        }),
      );
      actions.push("refreshed the stack's state from the live resources");
      const after = await this.guard("export", signal, undefined, [], () => stack.exportStack());
      const left = pendingOperations(after.deployment);
      if (left.length > 0) {
        const deployment = {
          ...(after.deployment as Record<string, unknown>),
          pending_operations: [],
        };
        await this.guard("import", signal, undefined, [], () =>
          stack.importStack({ ...after, deployment }),
        );
        actions.push(`cleared ${left.length} pending operation(s) the refresh left`);
      } else if (pending.length > 0) {
        actions.push(`cleared ${pending.length} pending operation(s)`);
      }
      return { actions };
    });
  }

  async outputs(signal: AbortSignal): Promise<Record<string, unknown>> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal, "read outputs");
      if (!stack) return {};
      return redact(await this.guard("read outputs", signal, undefined, [], () => stack.outputs()));
    });
  }

  /**
   * One run per stack across machines: a tag naming this run on the stack itself, in
   * whatever backend holds it (stack-tag-lock.ts). Creates the stack if it is new. Resolves
   * with the release (bounded; only removes the tag while it is still ours).
   */
  async lockStack(
    o: Omit<StackTagLockOptions, "signal"> & { signal: AbortSignal },
  ): Promise<() => Promise<void>> {
    const stack = await this.exclusive(() => this.createStack(o.signal, "lock the stack"));
    return lockWorkspaceStack(
      stack.workspace,
      this.opts.stack,
      (what, signal, fn) => this.exclusive(() => this.guard(what, signal, 60_000, [], fn)),
      o,
    );
  }

  /** One output's value, secrets included (the kubeconfig): never log or print it. */
  async secretOutput(name: string, signal: AbortSignal): Promise<unknown> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal, "read outputs");
      if (!stack) return undefined;
      const all = await this.guard("read outputs", signal, undefined, [], () => stack.outputs());
      return all[name]?.value;
    });
  }

  /** URNs of the stack's resources (the stack itself and providers excluded). */
  async resourceUrns(signal: AbortSignal): Promise<string[]> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal, "read state");
      if (!stack) return [];
      const state = await this.guard("export", signal, undefined, [], () => stack.exportStack());
      const resources =
        (state.deployment as { resources?: { urn: string; type: string }[] }).resources ?? [];
      return resources
        .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
        .map((r) => r.urn);
    });
  }

  /** Deletes every resource of the stack and forgets the applied spec. */
  async destroy(opts: {
    signal: AbortSignal;
    onProgress?: (p: ApplyProgress) => void;
  }): Promise<{ deleted: number }> {
    return this.exclusive(async () => {
      const stack = await this.openStack(opts.signal, "destroy");
      if (!stack) return { deleted: 0 };
      const applied = await this.readSpec(stack, opts.signal);
      // Inline destroy runs the program's providers in-process, like refresh in recover().
      (stack.workspace as LocalWorkspace).program = applied
        ? this.opts.program(applied)
        : async () => ({});
      const state = await this.guard("export", opts.signal, undefined, [], () =>
        stack.exportStack(),
      );
      const total = ((state.deployment as { resources?: unknown[] }).resources ?? []).length;
      const tracker = new ProgressTracker(total, (p) => opts.onProgress?.(p));
      const errors: string[] = [];
      const result = await this.guard(
        "destroy",
        opts.signal,
        this.applyTimeout(),
        errors,
        (signal) => stack.destroy({ signal, onEvent: (e) => tracker.add(e) }),
      );
      await this.guard("write config", opts.signal, undefined, [], () =>
        stack.removeConfig(SPEC_CONFIG_KEY),
      );
      return { deleted: result.summary.resourceChanges?.delete ?? 0 };
    });
  }

  // ── internals ────────────────────────────────────────────────────────────────────

  /**
   * The spec recorded by the last successful apply: the stack's own output first (in the
   * backend, so any machine reads it), this machine's stack config as a fallback cache.
   */
  private async readSpec(stack: Stack, signal: AbortSignal): Promise<MigrationSpec | undefined> {
    const outputs = await this.guard("read outputs", signal, undefined, [], () => stack.outputs());
    const recorded = outputs[RECORDED_SPEC_OUTPUT];
    if (recorded && !recorded.secret && typeof recorded.value === "string") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(recorded.value);
      } catch {
        throw new RunbookError(
          `stack ${this.opts.stack}: the output ${RECORDED_SPEC_OUTPUT} does not hold JSON`,
          "The stack was changed outside the runbook; run `pulumi stack output` to inspect it.",
        );
      }
      return validateSpec(parsed);
    }
    const config = await this.guard("read config", signal, undefined, [], () =>
      stack.getAllConfig(),
    );
    const raw = config[SPEC_CONFIG_KEY]?.value;
    if (raw === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new RunbookError(
        `stack ${this.opts.stack}: the config key ${SPEC_CONFIG_KEY} does not hold JSON`,
        `Remove it with \`pulumi config rm ${SPEC_CONFIG_KEY}\` in the stack's workspace; the next apply writes it again.`,
      );
    }
    return validateSpec(parsed);
  }

  private async runPreview(
    spec: MigrationSpec,
    signal: AbortSignal,
    onDiagnostic: ((d: Diagnostic) => void) | undefined,
    o: { savePlan?: boolean } = {},
  ): Promise<PreviewResult> {
    const stack = await this.createStack(signal, "preview");
    const collector = new PreviewCollector();
    const errors: string[] = [];
    const plan = o.savePlan && this.opts.planBound !== false ? await this.planFile() : undefined;
    const retired = await this.retiredAsgNames(stack, spec, signal);
    await this.guard("preview", signal, this.previewTimeout(), errors, (s) =>
      stack.preview({
        program: withRetired(this.opts.program(spec), retired),
        diff: true,
        ...(plan ? { plan } : {}),
        signal: s,
        onEvent: (e) => {
          collector.add(e);
          this.forwardDiagnostic(e, errors, onDiagnostic);
        },
      }),
    );
    const result = collector.result();
    this.lastPreview = {
      key: JSON.stringify(spec),
      total: result.resources.length,
      ...(plan ? { plan } : {}),
    };
    return plan ? { ...result, plan } : result;
  }

  /** A fresh plan file, 0600 in a 0700 directory next to the workspace. */
  private async planFile(): Promise<string> {
    const dir = join(resolve(this.opts.workDir), "plans");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return join(dir, `${this.opts.stack}-${Date.now()}-${randomBytes(4).toString("hex")}.json`);
  }

  /**
   * ASG names of groups no longer in `spec`, carried forward from the stack's outputs (the
   * previous update's groups and what was already retired).
   */
  private async retiredAsgNames(
    stack: Stack,
    spec: MigrationSpec,
    signal: AbortSignal,
  ): Promise<Record<string, string>> {
    const outputs = await this.guard("read outputs", signal, undefined, [], () => stack.outputs());
    return retiredAsgNames(
      outputs.asgNames?.value,
      outputs[RETIRED_ASG_OUTPUT]?.value,
      spec.nodeGroups.map((g) => g.name),
    );
  }

  /**
   * A dry run of a stack that does not exist yet: the same program, previewed in a
   * throwaway file backend in a temp dir (removed afterwards), so nothing appears in the
   * operator's backend. Everything is a create; the stack config (region) is the same.
   */
  private async throwawayPreview(
    spec: MigrationSpec,
    signal: AbortSignal,
    onDiagnostic: ((d: Diagnostic) => void) | undefined,
  ): Promise<PreviewResult> {
    const auto = await loadAutomation();
    const dir = await mkdtemp(join(tmpdir(), "eks-runbook-dry-run-"));
    try {
      const o = this.opts;
      // A throwaway passphrase, in a file: the local CLI runs with an allow-listed
      // environment that carries PULUMI_CONFIG_PASSPHRASE_FILE, never the passphrase itself.
      const passphraseFile = join(dir, "passphrase");
      await writeFile(passphraseFile, randomBytes(16).toString("hex"), { mode: 0o600 });
      const envVars: Record<string, string> = {
        ...o.env,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_BACKEND_URL: `file://${join(dir, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
      };
      delete envVars.PULUMI_CONFIG_PASSPHRASE;
      await mkdir(join(dir, "backend"), { mode: 0o700 });
      await mkdir(join(dir, "workspace"), { mode: 0o700 });
      await o.prepare?.();
      const ws = await this.guard("preview", signal, undefined, [], async () =>
        auto.LocalWorkspace.create({
          workDir: join(dir, "workspace"),
          pulumiCommand: await o.pulumiCommand(),
          envVars,
          ...(envVars.PULUMI_HOME ? { pulumiHome: envVars.PULUMI_HOME } : {}),
          projectSettings: {
            name: PROJECT_NAME,
            runtime: "nodejs",
            backend: { url: `file://${join(dir, "backend")}` },
          },
        }),
      );
      const stack = await this.guard("preview", signal, undefined, [], () =>
        auto.Stack.create(o.stack, ws),
      );
      for (const [key, value] of Object.entries(o.stackConfig ?? {})) {
        await this.guard("preview", signal, undefined, [], () => stack.setConfig(key, { value }));
      }
      const collector = new PreviewCollector();
      const errors: string[] = [];
      await this.guard("preview", signal, this.previewTimeout(), errors, (s) =>
        stack.preview({
          program: this.opts.program(spec),
          diff: true,
          signal: s,
          onEvent: (e) => {
            collector.add(e);
            this.forwardDiagnostic(e, errors, onDiagnostic);
          },
        }),
      );
      onDiagnostic?.({
        severity: "info",
        message: `stack ${o.stack} does not exist yet: previewed in a throwaway local backend (nothing was created in yours)`,
      });
      return collector.result();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private forwardDiagnostic(
    e: EngineEvent,
    errors: string[],
    cb: ((d: Diagnostic) => void) | undefined,
  ): void {
    const d = toDiagnostic(e);
    if (!d) return;
    if (d.severity === "error") errors.push(d.message);
    cb?.(d);
  }

  private previewTimeout(): number {
    return this.opts.previewTimeoutMs;
  }

  private applyTimeout(): number {
    return this.opts.applyTimeoutMs;
  }

  /** Operations on one stack never overlap (the CLI would refuse: the stack is locked). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs a Pulumi call bounded by the caller's signal and a timeout; maps its failures. */
  private guard<T>(
    operation: string,
    signal: AbortSignal,
    timeoutMs: number | undefined,
    errors: string[],
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return boundedPulumiCall(this.opts, operation, signal, timeoutMs, errors, fn);
  }

  private openWorkspace(signal: AbortSignal): Promise<LocalWorkspace> {
    this.workspace ??= this.guard("start", signal, undefined, [], async () => {
      const auto = await loadAutomation();
      const o = this.opts;
      await o.prepare?.();
      const envVars: Record<string, string> = { ...o.env, PULUMI_SKIP_UPDATE_CHECK: "true" };
      const workDir = resolve(o.workDir);
      await mkdir(workDir, { recursive: true, mode: 0o700 });
      return auto.LocalWorkspace.create({
        workDir,
        pulumiCommand: await o.pulumiCommand(),
        envVars,
        ...(envVars.PULUMI_HOME ? { pulumiHome: envVars.PULUMI_HOME } : {}),
        projectSettings: {
          name: PROJECT_NAME,
          runtime: "nodejs",
          ...(o.backendUrl ? { backend: { url: o.backendUrl } } : {}),
        },
      });
    });
    // A failed start (missing CLI) must not stick: the next call tries again.
    this.workspace.catch(() => {
      this.workspace = undefined;
    });
    return this.workspace;
  }

  /** Selects the stack, creating it if needed (preview and update). */
  private async createStack(signal: AbortSignal, operation: string): Promise<Stack> {
    const auto = await loadAutomation();
    const ws = await this.openWorkspace(signal);
    const stack = await this.guard(operation, signal, undefined, [], () =>
      auto.Stack.createOrSelect(this.opts.stack, ws),
    );
    for (const [key, value] of Object.entries(this.opts.stackConfig ?? {})) {
      await this.guard(operation, signal, undefined, [], () => stack.setConfig(key, { value }));
    }
    return stack;
  }

  /** Selects the stack without creating it; undefined when it does not exist. */
  private async openStack(signal: AbortSignal, operation: string): Promise<Stack | undefined> {
    const auto = await loadAutomation();
    const ws = await this.openWorkspace(signal);
    const name = this.opts.stack;
    try {
      return await auto.Stack.select(name, ws);
    } catch (err) {
      if (err instanceof Error && err.name === "StackNotFoundError") return undefined;
      throw mapPulumiError(err, {
        target: this.opts.target,
        stack: name,
        operation,
        aborted: signal.aborted,
        errors: [],
      });
    }
  }
}

/** Adds the retired groups' ASG names to a program's outputs. */
function withRetired(program: PulumiFn, retired: Record<string, string>): PulumiFn {
  return async () => {
    const out = (await program()) as Record<string, unknown> | undefined;
    return { ...(out ?? {}), [RETIRED_ASG_OUTPUT]: retired };
  };
}

/** Previously retired names plus every previous group that `groups` no longer holds. */
export function retiredAsgNames(
  previous: unknown,
  alreadyRetired: unknown,
  groups: string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  const strings = (v: unknown): [string, string][] =>
    v && typeof v === "object"
      ? Object.entries(v as Record<string, unknown>).filter(
          (e): e is [string, string] => typeof e[1] === "string" && e[1] !== "",
        )
      : [];
  for (const [g, name] of strings(alreadyRetired)) if (!groups.includes(g)) out[g] = name;
  for (const [g, name] of strings(previous)) if (!groups.includes(g)) out[g] = name;
  return out;
}
