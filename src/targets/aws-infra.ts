import { resolve } from "node:path";
import { PulumiInfraDriver } from "../infra/pulumi-driver.js";

// The AWS target's Pulumi: the operator's own `pulumi` (PATH), backend (`pulumi login`) and
// credentials (the default provider chain, through the environment), and the AWS program.

export interface AwsInfraOptions {
  target: "aws";
  stack: string;
  /** Where Pulumi.yaml and Pulumi.<stack>.yaml live (keep it stable across runs). */
  workDir: string;
  /** Sets `aws:region` when given; otherwise the stack's or the environment's region. */
  region?: string;
  /** EKS cluster name; default `eks-runbook-<stack>`. */
  clusterName?: string;
  adminPrincipalArns?: string[];
  /** Tags for every taggable AWS resource. */
  tags?: Record<string, string>;
  /** IAM policy ARN set as permissions boundary on every role the program creates. */
  permissionsBoundary?: string;
  /** Sets AWS_PROFILE for Pulumi's AWS provider. */
  profile?: string;
  /** Environment of every Pulumi run (default: this process's). */
  env?: Record<string, string>;
  previewTimeoutMs?: number;
  applyTimeoutMs?: number;
}

export async function awsInfraDriver(o: AwsInfraOptions): Promise<PulumiInfraDriver> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.env ?? process.env)) if (v !== undefined) env[k] = v;
  if (o.profile) env.AWS_PROFILE = o.profile;
  const clusterName = o.clusterName ?? `eks-runbook-${o.stack}`;
  return new PulumiInfraDriver({
    stack: o.stack,
    target: "aws",
    workDir: resolve(o.workDir),
    env,
    pulumiCommand: async () => {
      const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
      return PulumiCommand.get();
    },
    // The region is pinned in the spec (the program's provider uses it); the stack's config
    // says the same for `pulumi` commands run by hand in the workspace.
    ...(o.region ? { stackConfig: { "aws:region": o.region } } : {}),
    program: (spec) => async () => {
      const { awsProgram } = await import("../infra/aws-program.js");
      return awsProgram(spec, {
        clusterName,
        ...(o.adminPrincipalArns ? { adminPrincipalArns: o.adminPrincipalArns } : {}),
        ...(o.tags ? { tags: o.tags } : {}),
        ...(o.permissionsBoundary ? { permissionsBoundary: o.permissionsBoundary } : {}),
      });
    },
    // An EKS cluster alone takes ~15 minutes.
    previewTimeoutMs: o.previewTimeoutMs ?? 20 * 60_000,
    applyTimeoutMs: o.applyTimeoutMs ?? 90 * 60_000,
  });
}
