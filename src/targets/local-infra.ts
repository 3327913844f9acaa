import { join, resolve } from "node:path";
import { MOTO_ENDPOINT_ENV } from "../infra/local-env.js";
import { nodeModulesDir, PROJECT_NAME, PulumiInfraDriver } from "../infra/pulumi-driver.js";
import type { ShutdownMistake } from "../infra/shutdown-mistakes.js";
import {
  ensureLocalStackDirs,
  ensurePassphraseFile,
  findStackLocks,
  localStackPaths,
} from "../infra/stack-files.js";

// The local target's Pulumi: the pinned CLI from the toolchain, a file backend and a
// passphrase file (0600) under the stack's state dir, and the local program whose node
// groups are Auto Scaling groups in the sandbox's moto.

export interface LocalInfraOptions {
  target: "local";
  stack: string;
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
  /** Environment of every Pulumi run (default: the toolchain's, see pulumiEnv). */
  env?: Record<string, string>;
  /** See LocalProgramOptions; defaults: true, 120 s, false. */
  awaitLoadBalancer?: boolean;
  loadBalancerTimeoutSeconds?: number;
  awaitIngress?: boolean;
  previewTimeoutMs?: number;
  applyTimeoutMs?: number;
  /** NGINX shutdown timings broken on purpose (config rehearsal.mistake). */
  shutdownMistake?: ShutdownMistake;
}

export async function localInfraDriver(o: LocalInfraOptions): Promise<PulumiInfraDriver> {
  const [{ pulumiEnv, toolchain }, { MOTO_DEFAULT_AMI, MOTO_REGION }] = await Promise.all([
    import("../sandbox/toolchain.js"),
    import("../sandbox/moto.js"),
  ]);
  const paths = localStackPaths(resolve(o.stateDir));
  const env = { ...(o.env ?? pulumiEnv()) };
  // Our passphrase file, never one from the operator's environment.
  delete env.PULUMI_CONFIG_PASSPHRASE;
  env.PULUMI_CONFIG_PASSPHRASE_FILE = paths.passphraseFile;
  env.PULUMI_BACKEND_URL = `file://${paths.backendDir}`;
  env[MOTO_ENDPOINT_ENV] = o.motoEndpoint;
  env.NODE_PATH = [nodeModulesDir(), env.NODE_PATH].filter(Boolean).join(":");
  const clusterName = o.clusterName ?? o.stack;
  return new PulumiInfraDriver({
    stack: o.stack,
    target: "local",
    workDir: paths.workDir,
    backendUrl: `file://${paths.backendDir}`,
    env,
    pulumiCommand: async () => {
      const { localPulumiCommand, writeIsolatingPulumi } = await import(
        "../sandbox/pulumi-command.js"
      );
      // The CLI (and every plugin it starts) sees `env` only, not the operator's
      // environment: no AWS keys or Pulumi tokens reach a local run.
      const isolate = (real: string) =>
        writeIsolatingPulumi(join(paths.workDir, "..", "cli"), real, Object.keys(env));
      if (o.pulumiRoot) {
        const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
        return PulumiCommand.get({
          root: await isolate(join(resolve(o.pulumiRoot), "bin", "pulumi")),
        });
      }
      // The pinned CLI, version-checked (a PrerequisiteError naming the setup otherwise).
      const tc = toolchain();
      return localPulumiCommand(tc, await isolate(tc.bin.pulumi));
    },
    prepare: async () => {
      await ensureLocalStackDirs(paths);
      await ensurePassphraseFile(paths.passphraseFile);
    },
    findLocks: () => findStackLocks(paths.backendDir, PROJECT_NAME, o.stack),
    program: (spec) => async () => {
      const [{ localProgram }, { SHUTDOWN_MISTAKES }, { GRACEFUL_SHUTDOWN }] = await Promise.all([
        import("../infra/local-program.js"),
        import("../infra/shutdown-mistakes.js"),
        import("../infra/graceful-shutdown.js"),
      ]);
      return localProgram(spec, {
        ...(o.shutdownMistake
          ? { shutdown: SHUTDOWN_MISTAKES[o.shutdownMistake].apply(GRACEFUL_SHUTDOWN) }
          : {}),
        clusterName,
        kubeconfigPath: resolve(o.kubeconfigPath),
        region: o.region ?? MOTO_REGION,
        imageId: o.imageId ?? MOTO_DEFAULT_AMI,
        awaitLoadBalancer: o.awaitLoadBalancer ?? true,
        loadBalancerTimeoutSeconds: o.loadBalancerTimeoutSeconds ?? 120,
        awaitIngress: o.awaitIngress ?? false,
      });
    },
    // Plan-bound applies as on AWS: the apply runs exactly the approved preview's plan.
    // A local update takes seconds to a minute.
    previewTimeoutMs: o.previewTimeoutMs ?? 5 * 60_000,
    applyTimeoutMs: o.applyTimeoutMs ?? 10 * 60_000,
  });
}
