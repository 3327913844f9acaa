import { join } from "node:path";
import { stackDir } from "../cli/state-dir.js";
import { ExitCode, InputError, PrerequisiteError } from "../engine/errors.js";
import type { Diagnostic } from "../engine/ports.js";
import type { PulumiInfraDriver } from "../infra/pulumi-driver.js";
import type { MigrationSpec } from "../infra/spec.js";
import { type AwsAccess, awsClients, requestedRegion } from "./aws-preflight/aws-access.js";
import {
  type AwsPreflightResult,
  awsPreflight,
  type PreflightCheck,
  preflightFailure,
} from "./aws-preflight/preflight.js";
import type { TargetRequest } from "./target.js";

// Everything the AWS target decides before a run (and `eks-runbook preflight` shows): the
// stack's recorded state, the region (pinned with the stack at step 1; a later run that
// asks for another one is refused), the SDK clients and the preflight checks.

export interface AwsPrepared {
  region: string | undefined;
  /** The desired state the stack records (undefined: no stack yet). */
  applied: MigrationSpec | undefined;
  infra: PulumiInfraDriver | undefined;
  clients: Awaited<ReturnType<typeof awsClients>> | undefined;
  preflight: AwsPreflightResult;
  access: AwsAccess;
}

export const awsWorkDir = (stack: string) => join(stackDir(stack), "pulumi-aws");

async function pulumiVersion(): Promise<{ version?: string; error?: string }> {
  try {
    const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
    const cmd = await PulumiCommand.get();
    return cmd.version ? { version: cmd.version.toString() } : { error: "no version reported" };
  } catch (err) {
    return { error: err instanceof Error ? err.message.split("\n")[0] : String(err) };
  }
}

export async function prepareAws(
  req: TargetRequest,
  signal: AbortSignal,
  o: { endpoint?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<AwsPrepared> {
  const [{ which }, { awsInfraDriver }] = await Promise.all([
    import("../which.js"),
    import("./aws-infra.js"),
  ]);
  const access: AwsAccess = {
    ...(req.region ? { region: req.region } : {}),
    ...(req.profile ? { profile: req.profile } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.env ? { env: o.env } : {}),
  };
  const version = await pulumiVersion();
  signal.throwIfAborted();
  const base = {
    target: "aws" as const,
    stack: req.stack,
    workDir: awsWorkDir(req.stack),
    ...(req.profile ? { profile: req.profile } : {}),
    ...(o.env ? { env: envRecord(o.env) } : {}),
  };
  // The stack's own record: where it lives and what was applied (any machine reads it).
  let applied: MigrationSpec | undefined;
  if (version.version) applied = await (await awsInfraDriver(base)).appliedSpec(signal);
  const requested = await requestedRegion(access);
  const stackRegion = applied?.aws?.region;
  if (stackRegion && requested && requested.region !== stackRegion) {
    throw new InputError(
      `stack ${req.stack} lives in region ${stackRegion} (pinned when it was provisioned); this run asks for ${requested.region} (${requested.source})`,
      `Run with --region ${stackRegion}${requested.source.startsWith("AWS_") ? ` or unset ${requested.source}` : ""}; a stack never moves between regions.`,
    );
  }
  const region = stackRegion ?? requested?.region;
  const clients = region ? await awsClients(region, access) : undefined;
  const preflight = await awsPreflight({
    region,
    clients,
    specs: req.plan ?? [],
    which: (name) => which(name, o.env ? { env: o.env } : {}),
    pulumiVersion: async () => version,
    signal,
  });
  const infra =
    region && version.version
      ? await awsInfraDriver({
          ...base,
          region,
          ...(req.aws?.adminPrincipalArns
            ? { adminPrincipalArns: req.aws.adminPrincipalArns }
            : {}),
          ...(req.aws?.tags ? { tags: req.aws.tags } : {}),
          ...(req.aws?.permissionsBoundary
            ? { permissionsBoundary: req.aws.permissionsBoundary }
            : {}),
        })
      : undefined;
  return { region, applied, infra, clients, preflight, access };
}

function envRecord(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export function checksAsDiagnostics(checks: PreflightCheck[]): Diagnostic[] {
  return checks.map((c) => ({
    severity: c.severity,
    message: `preflight ${c.name}: ${c.message}${c.severity !== "info" && c.fix ? ` — ${c.fix}` : ""}`,
  }));
}

/** Throws the preflight's failures (exit 2: the operator can fix each of them). */
export function throwIfFailed(checks: PreflightCheck[]): void {
  const f = preflightFailure(checks);
  if (f) throw new PrerequisiteError(f.message, f.hint, ExitCode.badInput);
}
