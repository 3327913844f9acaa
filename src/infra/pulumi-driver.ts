import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type {
  EngineEvent,
  LocalWorkspace,
  OutputMap,
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
import { MOTO_ENDPOINT_ENV } from "./local-env.js";
import { mapPulumiError } from "./pulumi-errors.js";
import type { MigrationSpec } from "./spec.js";
import {
  ensureLocalStackDirs,
  ensurePassphraseFile,
  findStackLocks,
  type LocalStackPaths,
  localStackPaths,
} from "./stack-files.js";
import { validateSpec } from "./validate-spec.js";

export { validateSpec };

// The InfraDriver<MigrationSpec> on Pulumi's Automation API. Inline programs only (the program runs in
// this process; the CLI needs no language host). Every Pulumi module is imported lazily,
// on first use, so the CLI starts fast.

export const PROJECT_NAME = "eks-runbook";
/** The last applied spec, as JSON, in the stack's config. */
export const SPEC_CONFIG_KEY = `${PROJECT_NAME}:spec`;
/** Outputs holding secrets: redacted in outputs(); read them with secretOutput(). */
export const REDACTED = "[secret]";

interface CommonOptions {
  /** Stack name. */
  stack: string;
  /** Environment of every Pulumi run (PATH with node, PULUMI_HOME, …); defaults below. */
  env?: Record<string, string>;
  /** Upper bounds; the caller's AbortSignal can end any operation sooner. */
  previewTimeoutMs?: number;
  applyTimeoutMs?: number;
}

export interface LocalInfraOptions extends CommonOptions {
  target: "local";
  /** Holds the file backend, the passphrase file (0600) and the Pulumi workspace. */
  stateDir: string;
  /** The ASG cluster tag; must be the sandbox's name (its node-group controller filters on it). */
  clusterName?: string;
  kubeconfigPath: string;
  motoEndpoint: string;
  region?: string;
  /** An AMI moto knows. */
  imageId?: string;
  /** Directory holding bin/pulumi (default: the pinned toolchain's). */
  pulumiRoot?: string;
  /** See LocalProgramOptions; defaults: true, 120 s, false. */
  awaitLoadBalancer?: boolean;
  loadBalancerTimeoutSeconds?: number;
  awaitIngress?: boolean;
}

export interface AwsInfraOptions extends CommonOptions {
  target: "aws";
  /** Where Pulumi.yaml and Pulumi.<stack>.yaml live (keep it stable across runs). */
  workDir: string;
  /** Sets `aws:region` when given; otherwise the stack's or the environment's region. */
  region?: string;
  /** EKS cluster name; default `eks-runbook-<stack>`. */
  clusterName?: string;
  adminPrincipalArns?: string[];
}

export type InfraOptions = LocalInfraOptions | AwsInfraOptions;

type Automation = typeof import("@pulumi/pulumi/automation/index.js");

function loadAutomation(): Promise<Automation> {
  return import("@pulumi/pulumi/automation/index.js");
}

/** The node_modules that holds @pulumi/pulumi: dynamic providers resolve modules there. */
function nodeModulesDir(): string {
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
  private lastPreview: { key: string; total: number } | undefined;
  private readonly paths: LocalStackPaths | undefined;

  constructor(private readonly opts: InfraOptions) {
    this.paths = opts.target === "local" ? localStackPaths(resolve(opts.stateDir)) : undefined;
  }

  get stackName(): string {
    return this.opts.stack;
  }

  get clusterName(): string {
    const o = this.opts;
    return o.clusterName ?? (o.target === "local" ? o.stack : `eks-runbook-${o.stack}`);
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
    opts: { signal: AbortSignal; onDiagnostic?: (d: Diagnostic) => void },
  ): Promise<PreviewResult> {
    const valid = validateSpec(spec);
    return this.exclusive(() => this.runPreview(valid, opts.signal, opts.onDiagnostic));
  }

  async apply(
    spec: MigrationSpec,
    opts: {
      signal: AbortSignal;
      onProgress?: (p: ApplyProgress) => void;
      onDiagnostic?: (d: Diagnostic) => void;
    },
  ): Promise<ApplyResult> {
    const valid = validateSpec(spec);
    return this.exclusive(async () => {
      const key = JSON.stringify(valid);
      const total =
        this.lastPreview?.key === key
          ? this.lastPreview.total
          : (await this.runPreview(valid, opts.signal, undefined)).resources.length;
      this.lastPreview = undefined;
      const stack = await this.createStack(opts.signal, "update");
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
            program: this.program(valid),
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
      if (this.paths) {
        const locks = await findStackLocks(this.paths.backendDir, PROJECT_NAME, this.opts.stack);
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
        ? this.program(applied)
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
        ? this.program(applied)
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

  /** The spec recorded by the last successful apply. */
  private async readSpec(stack: Stack, signal: AbortSignal): Promise<MigrationSpec | undefined> {
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
  ): Promise<PreviewResult> {
    const stack = await this.createStack(signal, "preview");
    const collector = new PreviewCollector();
    const errors: string[] = [];
    await this.guard("preview", signal, this.previewTimeout(), errors, (s) =>
      stack.preview({
        program: this.program(spec),
        diff: true,
        signal: s,
        onEvent: (e) => {
          collector.add(e);
          this.forwardDiagnostic(e, errors, onDiagnostic);
        },
      }),
    );
    const result = collector.result();
    this.lastPreview = { key: JSON.stringify(spec), total: result.resources.length };
    return result;
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
    return this.opts.previewTimeoutMs ?? (this.opts.target === "local" ? 5 * 60_000 : 20 * 60_000);
  }

  private applyTimeout(): number {
    // An EKS cluster alone takes ~15 minutes; a local update takes seconds to a minute.
    return this.opts.applyTimeoutMs ?? (this.opts.target === "local" ? 10 * 60_000 : 90 * 60_000);
  }

  /** Operations on one stack never overlap (the CLI would refuse: the stack is locked). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs a Pulumi call bounded by the caller's signal and a timeout; maps its failures. */
  private async guard<T>(
    operation: string,
    signal: AbortSignal,
    timeoutMs: number | undefined,
    errors: string[],
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const combined = timeout ? AbortSignal.any([signal, timeout]) : signal;
    try {
      combined.throwIfAborted();
      return await fn(combined);
    } catch (err) {
      throw mapPulumiError(err, {
        target: this.opts.target,
        stack: this.opts.stack,
        operation,
        aborted: signal.aborted,
        timedOut: timeout?.aborted ?? false,
        errors,
      });
    }
  }

  private program(spec: MigrationSpec): PulumiFn {
    const o = this.opts;
    const clusterName = this.clusterName;
    if (o.target === "local") {
      return async () => {
        const [{ localProgram }, { MOTO_DEFAULT_AMI, MOTO_REGION }] = await Promise.all([
          import("./local-program.js"),
          import("../sandbox/moto.js"),
        ]);
        return localProgram(spec, {
          clusterName,
          kubeconfigPath: resolve(o.kubeconfigPath),
          region: o.region ?? MOTO_REGION,
          imageId: o.imageId ?? MOTO_DEFAULT_AMI,
          awaitLoadBalancer: o.awaitLoadBalancer ?? true,
          loadBalancerTimeoutSeconds: o.loadBalancerTimeoutSeconds ?? 120,
          awaitIngress: o.awaitIngress ?? false,
        });
      };
    }
    return async () => {
      const { awsProgram } = await import("./aws-program.js");
      return awsProgram(spec, { clusterName, adminPrincipalArns: o.adminPrincipalArns });
    };
  }

  private async environment(): Promise<Record<string, string>> {
    const o = this.opts;
    let env: Record<string, string>;
    if (o.env) {
      env = { ...o.env };
    } else if (o.target === "local") {
      const { pulumiEnv } = await import("../sandbox/toolchain.js");
      env = pulumiEnv();
    } else {
      env = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    }
    env.PULUMI_SKIP_UPDATE_CHECK = "true";
    if (o.target === "local" && this.paths) {
      // Our passphrase file, never one from the operator's environment.
      delete env.PULUMI_CONFIG_PASSPHRASE;
      env.PULUMI_CONFIG_PASSPHRASE_FILE = this.paths.passphraseFile;
      env.PULUMI_BACKEND_URL = `file://${this.paths.backendDir}`;
      env[MOTO_ENDPOINT_ENV] = o.motoEndpoint;
      env.NODE_PATH = [nodeModulesDir(), env.NODE_PATH].filter(Boolean).join(":");
    }
    return env;
  }

  private openWorkspace(signal: AbortSignal): Promise<LocalWorkspace> {
    this.workspace ??= this.guard("start", signal, undefined, [], async () => {
      const auto = await loadAutomation();
      const o = this.opts;
      const envVars = await this.environment();
      if (o.target === "local" && this.paths) {
        await ensureLocalStackDirs(this.paths);
        await ensurePassphraseFile(this.paths.passphraseFile);
        let pulumiCommand: Awaited<ReturnType<typeof auto.PulumiCommand.get>>;
        const { localPulumiCommand, writeIsolatingPulumi } = await import(
          "../sandbox/pulumi-command.js"
        );
        // The CLI (and every plugin it starts) sees envVars only, not the operator's
        // environment: no AWS keys or Pulumi tokens reach a local run.
        const isolate = (real: string) =>
          writeIsolatingPulumi(join(this.paths!.workDir, "..", "cli"), real, Object.keys(envVars));
        if (o.pulumiRoot) {
          const root = await isolate(join(resolve(o.pulumiRoot), "bin", "pulumi"));
          pulumiCommand = await auto.PulumiCommand.get({ root });
        } else {
          // The pinned CLI, version-checked (a PrerequisiteError naming the setup otherwise).
          const { toolchain } = await import("../sandbox/toolchain.js");
          const tc = toolchain();
          pulumiCommand = await localPulumiCommand(tc, await isolate(tc.bin.pulumi));
        }
        return auto.LocalWorkspace.create({
          workDir: this.paths.workDir,
          pulumiHome: envVars.PULUMI_HOME,
          pulumiCommand,
          envVars,
          projectSettings: {
            name: PROJECT_NAME,
            runtime: "nodejs",
            backend: { url: `file://${this.paths.backendDir}` },
          },
        });
      }
      // The operator's own `pulumi` (from PATH) and backend.
      const pulumiCommand = await auto.PulumiCommand.get();
      const workDir = resolve((o as AwsInfraOptions).workDir);
      await mkdir(workDir, { recursive: true });
      return auto.LocalWorkspace.create({
        workDir,
        pulumiCommand,
        envVars,
        projectSettings: { name: PROJECT_NAME, runtime: "nodejs" },
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
    const o = this.opts;
    if (o.target === "aws" && o.region) {
      const region = o.region;
      await this.guard(operation, signal, undefined, [], () =>
        stack.setConfig("aws:region", { value: region }),
      );
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

interface PendingOperation {
  type: string;
  urn: string;
}

function pendingOperations(deployment: unknown): PendingOperation[] {
  const ops = (
    deployment as
      | { pending_operations?: { type?: string; resource?: { urn?: string } }[] }
      | undefined
  )?.pending_operations;
  return (ops ?? []).map((p) => ({ type: p.type ?? "operation", urn: p.resource?.urn ?? "?" }));
}

export function createInfraDriver(opts: InfraOptions): PulumiInfraDriver {
  return new PulumiInfraDriver(opts);
}
