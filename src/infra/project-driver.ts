import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PulumiCommand, Stack } from "@pulumi/pulumi/automation/index.js";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { InputError, RunbookError } from "../engine/errors.js";
import type {
  ApplyProgress,
  ApplyResult,
  Diagnostic,
  InfraDriver,
  PreviewResult,
  RecoveryReport,
} from "../engine/ports.js";
import { PreviewCollector, ProgressTracker, urnName } from "./engine-events.js";
import { type ProjectSpec, programHash, projectSpecSchema } from "./project-spec.js";
import { boundedPulumiCall, forwardDiagnostic, pendingOperations } from "./pulumi-call.js";
import { mapPulumiError } from "./pulumi-errors.js";
import { findStackLocks } from "./stack-files.js";
import { lockWorkspaceStack, type StackTagLockOptions } from "./stack-tag-lock.js";

// The InfraDriver for a Pulumi project that is yours: the Automation API's LocalWorkspace
// on your project directory, so your program (run by the Node.js language host), your
// backend and your secrets provider are used as `pulumi up` would use them. Config-driven
// steps set stack config keys; manual steps change the program on disk. The runbook records
// the applied state in two config keys of its own namespace in your stack.

/** The last applied ProjectSpec, as JSON. */
export const PROJECT_SPEC_KEY = "eks-runbook:spec";
/** The hash of the program files at the last apply. */
export const PROGRAM_HASH_KEY = "eks-runbook:program";
const REDACTED = "[secret]";

export interface ProjectDriverOptions {
  projectDir: string;
  /** The stack name as `pulumi stack select` takes it. */
  stack: string;
  /** Config keys the plan's steps set: the only ones the driver writes or removes. */
  managedKeys: readonly string[];
  /** Environment of every Pulumi run (yours: backend, credentials, passphrase). */
  env: Record<string, string>;
  pulumiCommand: () => Promise<PulumiCommand>;
  previewTimeoutMs: number;
  applyTimeoutMs: number;
}

type Automation = typeof import("@pulumi/pulumi/automation/index.js");
const loadAutomation = (): Promise<Automation> => import("@pulumi/pulumi/automation/index.js");

export class ProjectInfraDriver implements InfraDriver<ProjectSpec> {
  private stackPromise: Promise<Stack> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private projectName: string | undefined;
  /** The last preview's change count per (spec, program): the total of the next apply's progress. */
  private lastPreview: { key: string; total: number } | undefined;

  constructor(private readonly o: ProjectDriverOptions) {}

  get stackName(): string {
    return this.o.stack;
  }

  /** `key` in the project's namespace unless it names one (`aws:region`). */
  qualify(key: string, project: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
  }

  async appliedSpec(signal: AbortSignal): Promise<ProjectSpec | undefined> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal);
      const all = await this.guard("read config", signal, undefined, () => stack.getAllConfig());
      const raw = all[PROJECT_SPEC_KEY]?.value;
      if (raw === undefined) return undefined;
      const parsed = projectSpecSchema.safeParse(safeJson(raw));
      if (!parsed.success) {
        throw new RunbookError(
          `stack ${this.o.stack}: the config key ${PROJECT_SPEC_KEY} does not hold a runbook state`,
          `Remove it with \`pulumi config rm ${PROJECT_SPEC_KEY}\` in ${this.o.projectDir}; the next apply writes it again.`,
        );
      }
      return parsed.data;
    });
  }

  /** The current values of the managed keys (the state before the first step). */
  async currentConfig(signal: AbortSignal): Promise<Record<string, string>> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal);
      const project = await this.project();
      const all = await this.guard("read config", signal, undefined, () => stack.getAllConfig());
      const out: Record<string, string> = {};
      for (const key of this.o.managedKeys) {
        const v = all[this.qualify(key, project)];
        if (v && !v.secret) out[key] = v.value;
      }
      return out;
    });
  }

  /** The program hash recorded by the last apply. */
  async appliedProgramHash(signal: AbortSignal): Promise<string | undefined> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal);
      const all = await this.guard("read config", signal, undefined, () => stack.getAllConfig());
      return all[PROGRAM_HASH_KEY]?.value;
    });
  }

  /**
   * Previews the program as it is on disk with the spec's config, from a copy of the stack's
   * config file: nothing of yours is written, in a dry run or not. The returned plan handle
   * is the program's hash: apply refuses to run if the program changed since.
   */
  async preview(
    spec: ProjectSpec,
    opts: { signal: AbortSignal; onDiagnostic?: (d: Diagnostic) => void; dryRun?: boolean },
  ): Promise<PreviewResult> {
    return this.exclusive(async () => {
      const stack = await this.openStack(opts.signal);
      const hash = await programHash(this.o.projectDir);
      const dir = await mkdtemp(join(tmpdir(), "eks-runbook-preview-"));
      try {
        const configFile = join(dir, "stack.yaml");
        await writeFile(configFile, await this.configFileWith(spec), { mode: 0o600 });
        const collector = new PreviewCollector();
        const errors: string[] = [];
        await this.guard(
          "preview",
          opts.signal,
          this.o.previewTimeoutMs,
          (s) =>
            stack.preview({
              diff: true,
              configFile,
              signal: s,
              onEvent: (e) => {
                collector.add(e);
                forwardDiagnostic(e, errors, opts.onDiagnostic);
              },
            }),
          errors,
        );
        const result = collector.result();
        this.lastPreview = {
          key: `${hash}:${JSON.stringify(spec)}`,
          total: result.resources.length,
        };
        return { ...result, plan: `program:${hash}` };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  async apply(
    spec: ProjectSpec,
    opts: {
      signal: AbortSignal;
      plan?: string;
      onProgress?: (p: ApplyProgress) => void;
      onDiagnostic?: (d: Diagnostic) => void;
    },
  ): Promise<ApplyResult> {
    return this.exclusive(async () => {
      const stack = await this.openStack(opts.signal);
      const hash = await programHash(this.o.projectDir);
      if (opts.plan && opts.plan !== `program:${hash}`) {
        throw new RunbookError(
          `the program in ${this.o.projectDir} changed after its preview`,
          "Retry: the runbook previews the program as it is now and checks it against the step's intent again.",
        );
      }
      await this.writeManagedConfig(stack, spec, opts.signal);
      const key = `${hash}:${JSON.stringify(spec)}`;
      const total = this.lastPreview?.key === key ? this.lastPreview.total : 0;
      this.lastPreview = undefined;
      const tracker = new ProgressTracker(total, (p) => opts.onProgress?.(p));
      const applied = new PreviewCollector();
      const errors: string[] = [];
      const started = Date.now();
      opts.onProgress?.({ done: 0, total, message: "starting update" });
      const result = await this.guard(
        "update",
        opts.signal,
        this.o.applyTimeoutMs,
        (s) =>
          stack.up({
            signal: s,
            onEvent: (e) => {
              tracker.add(e);
              applied.add(e);
              forwardDiagnostic(e, errors, opts.onDiagnostic);
            },
          }),
        errors,
      );
      // Recorded only after success: appliedSpec() never names a half-applied state.
      await this.guard("write config", opts.signal, undefined, () =>
        stack.setAllConfig({
          [PROJECT_SPEC_KEY]: { value: JSON.stringify(spec) },
          [PROGRAM_HASH_KEY]: { value: hash },
        }),
      );
      return {
        changes: applied.result().changes,
        durationMs: Date.now() - started,
        outputs: Object.fromEntries(
          Object.entries(result.outputs).map(([k, v]) => [k, v.secret ? REDACTED : v.value]),
        ),
      };
    });
  }

  /**
   * After an interrupted update: a stale lock of a file backend is removed (a live one is
   * refused), pending operations are settled by a refresh and cleared.
   */
  async recover(signal: AbortSignal): Promise<RecoveryReport> {
    return this.exclusive(async () => {
      const actions: string[] = [];
      const stack = await this.openStack(signal);
      let needsRefresh = false;
      const backend = await this.guard("whoami", signal, undefined, () => stack.workspace.whoAmI());
      if (backend.url?.startsWith("file://")) {
        const dir = backend.url
          .slice("file://".length)
          .replace(/^~(?=\/|$)/, process.env.HOME ?? "~");
        const locks = await findStackLocks(
          dir,
          await this.project(),
          this.o.stack.split("/").at(-1) ?? this.o.stack,
        );
        const live = locks.find((l) => l.live);
        if (live) {
          throw new RunbookError(
            `stack ${this.o.stack} is being updated by another process (pid ${live.pid ?? "?"})`,
            `Wait for it to finish or stop it; if it is gone, delete ${live.file} and run again.`,
          );
        }
        if (locks.length > 0) {
          await this.guard("cancel", signal, undefined, () => stack.cancel());
          actions.push(`removed ${locks.length} stale lock(s) left by an update that died`);
          needsRefresh = true;
        }
      }
      const before = await this.guard("export", signal, undefined, () => stack.exportStack());
      const pending = pendingOperations(before.deployment);
      if (pending.length > 0) {
        actions.push(
          `found ${pending.length} interrupted operation(s): ${pending.map((p) => `${p.type} ${urnName(p.urn)}`).join(", ")}`,
        );
        needsRefresh = true;
      }
      if (!needsRefresh) return { actions };
      const errors: string[] = [];
      await this.guard(
        "refresh",
        signal,
        this.o.previewTimeoutMs,
        (s) =>
          stack.refresh({
            clearPendingCreates: true,
            signal: s,
            onEvent: (e) => forwardDiagnostic(e, errors, undefined),
          }),
        errors,
      );
      actions.push("refreshed the stack's state from the live resources");
      const after = await this.guard("export", signal, undefined, () => stack.exportStack());
      const left = pendingOperations(after.deployment);
      if (left.length > 0) {
        const deployment = {
          ...(after.deployment as Record<string, unknown>),
          pending_operations: [],
        };
        await this.guard("import", signal, undefined, () =>
          stack.importStack({ ...after, deployment }),
        );
        actions.push(`cleared ${left.length} pending operation(s) the refresh left`);
      }
      return { actions };
    });
  }

  async outputs(signal: AbortSignal): Promise<Record<string, unknown>> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal);
      const all = await this.guard("read outputs", signal, undefined, () => stack.outputs());
      return Object.fromEntries(
        Object.entries(all).map(([k, v]) => [k, v.secret ? REDACTED : v.value]),
      );
    });
  }

  /**
   * One run per stack across machines, as for the runbook's own stacks (stack-tag-lock.ts):
   * a tag on your stack names this run. Resolves with the release (bounded; removes the tag
   * only while it is still ours). Your stack must exist; nothing else in it changes.
   */
  async lockStack(
    o: Omit<StackTagLockOptions, "signal"> & { signal: AbortSignal },
  ): Promise<() => Promise<void>> {
    const stack = await this.exclusive(() => this.openStack(o.signal));
    return lockWorkspaceStack(
      stack.workspace,
      this.o.stack,
      (what, signal, fn) => this.exclusive(() => this.guard(what, signal, 60_000, fn)),
      o,
    );
  }

  /** One output's value, secrets included (a kubeconfig): never log or print it. */
  async secretOutput(name: string, signal: AbortSignal): Promise<unknown> {
    return this.exclusive(async () => {
      const stack = await this.openStack(signal);
      const all = await this.guard("read outputs", signal, undefined, () => stack.outputs());
      return all[name]?.value;
    });
  }

  // ── internals ────────────────────────────────────────────────────────────────────

  private async project(): Promise<string> {
    if (this.projectName) return this.projectName;
    let text: string;
    try {
      text = await readFile(join(this.o.projectDir, "Pulumi.yaml"), "utf8");
    } catch {
      text = await readFile(join(this.o.projectDir, "Pulumi.yml"), "utf8");
    }
    const name = (parseYaml(text) as { name?: unknown } | null)?.name;
    if (typeof name !== "string") {
      throw new InputError(
        `${this.o.projectDir}/Pulumi.yaml has no project name`,
        "Add `name: <project>` to Pulumi.yaml.",
      );
    }
    this.projectName = name;
    return name;
  }

  private stackConfigPath(): string {
    return join(this.o.projectDir, `Pulumi.${this.o.stack.split("/").at(-1)}.yaml`);
  }

  /** The stack config file's text with the spec's managed keys set (or removed). */
  private async configFileWith(spec: ProjectSpec): Promise<string> {
    const project = await this.project();
    let doc: { config?: Record<string, unknown> } & Record<string, unknown> = {};
    try {
      doc = (parseYaml(await readFile(this.stackConfigPath(), "utf8")) ?? {}) as typeof doc;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const config: Record<string, unknown> = { ...(doc.config ?? {}) };
    for (const key of this.o.managedKeys) {
      const q = this.qualify(key, project);
      const v = spec.config[key];
      if (v === undefined) delete config[q];
      else config[q] = v;
    }
    return stringifyYaml({ ...doc, config });
  }

  private async writeManagedConfig(stack: Stack, spec: ProjectSpec, signal: AbortSignal) {
    const project = await this.project();
    const set = Object.fromEntries(
      this.o.managedKeys
        .filter((k) => spec.config[k] !== undefined)
        .map((k) => [this.qualify(k, project), { value: spec.config[k] as string }]),
    );
    const remove = this.o.managedKeys
      .filter((k) => spec.config[k] === undefined)
      .map((k) => this.qualify(k, project));
    if (Object.keys(set).length)
      await this.guard("write config", signal, undefined, () => stack.setAllConfig(set));
    if (remove.length)
      await this.guard("write config", signal, undefined, () => stack.removeAllConfig(remove));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private guard<T>(
    operation: string,
    signal: AbortSignal,
    timeoutMs: number | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    errors: string[] = [],
  ): Promise<T> {
    return boundedPulumiCall(
      { target: "your stack", stack: this.o.stack },
      operation,
      signal,
      timeoutMs,
      errors,
      fn,
    );
  }

  /** Selects your stack in your project directory; it must exist. */
  private openStack(signal: AbortSignal): Promise<Stack> {
    this.stackPromise ??= (async () => {
      const auto = await loadAutomation();
      try {
        return await auto.LocalWorkspace.selectStack(
          { stackName: this.o.stack, workDir: this.o.projectDir },
          {
            pulumiCommand: await this.o.pulumiCommand(),
            envVars: { ...this.o.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
            ...(this.o.env.PULUMI_HOME ? { pulumiHome: this.o.env.PULUMI_HOME } : {}),
          },
        );
      } catch (err) {
        if (err instanceof Error && err.name === "StackNotFoundError") {
          throw new InputError(
            `pulumi.stack: stack "${this.o.stack}" does not exist for the project in ${this.o.projectDir}`,
            `Create or select it first (\`pulumi stack init ${this.o.stack}\` in that directory), with the backend your program uses.`,
          );
        }
        throw mapPulumiError(err, {
          target: "your stack",
          stack: this.o.stack,
          operation: "select stack",
          aborted: signal.aborted,
          errors: [],
        });
      }
    })();
    this.stackPromise.catch(() => {
      this.stackPromise = undefined;
    });
    return this.stackPromise;
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
