import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import type { STSClient } from "@aws-sdk/client-sts";
import type { MigrationSpec } from "../../infra/spec.js";
import {
  type CostEstimate,
  estimateHourlyCost,
  type Footprint,
  KNOWN_VCPUS,
  peakFootprint,
} from "./footprint.js";

// What a real AWS account needs before step 1, checked up front (and by `eks-runbook
// preflight`): a region, working credentials, two availability zones, EC2 vCPU quota for
// the plan's peak, the CLIs the run uses, and what the peak costs per hour. Each failure
// says what to do.

export interface PreflightCheck {
  name: string;
  /** error: the run cannot work (the operator must fix it); warning: it may; info: found. */
  severity: "info" | "warning" | "error";
  message: string;
  fix?: string;
}

export interface AwsClients {
  sts: STSClient;
  ec2: EC2Client;
  quotas: ServiceQuotasClient;
}

export interface AwsPreflightInput {
  region: string | undefined;
  clients: AwsClients | undefined;
  /** Every desired state the plan passes through (the peak is among them). */
  specs: MigrationSpec[];
  /** Path of an executable on PATH, or undefined. */
  which: (name: string) => string | undefined;
  /** The Pulumi CLI's version, or an error message. */
  pulumiVersion: () => Promise<{ version?: string; error?: string }>;
  signal: AbortSignal;
}

export interface AwsPreflightResult {
  checks: PreflightCheck[];
  peak?: Footprint;
  cost?: CostEstimate;
  identityArn?: string;
}

/** "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", in vCPUs. */
export const ON_DEMAND_STANDARD_QUOTA = "L-1216C47A";
/** The Pulumi version this runbook is built and tested with (pins/versions.env). */
export const TESTED_PULUMI = "3.259.0";

const firstLine = (err: unknown) =>
  err instanceof Error ? `${err.name}: ${err.message.split("\n")[0]}` : String(err);

function semverLess(a: string, b: string): boolean {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** vCPUs per instance type: the known defaults, then EC2 DescribeInstanceTypes. */
async function vcpusOf(
  ec2: EC2Client,
  types: string[],
  signal: AbortSignal,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const unknown = types.filter((t) => {
    const n = KNOWN_VCPUS[t];
    if (n !== undefined) out[t] = n;
    return n === undefined;
  });
  if (unknown.length === 0) return out;
  const { DescribeInstanceTypesCommand } = await import("@aws-sdk/client-ec2");
  const res = await ec2.send(
    new DescribeInstanceTypesCommand({
      InstanceTypes: unknown as import("@aws-sdk/client-ec2")._InstanceType[],
    }),
    { abortSignal: signal },
  );
  for (const it of res.InstanceTypes ?? []) {
    if (it.InstanceType && it.VCpuInfo?.DefaultVCpus !== undefined)
      out[it.InstanceType] = it.VCpuInfo.DefaultVCpus;
  }
  return out;
}

export async function awsPreflight(i: AwsPreflightInput): Promise<AwsPreflightResult> {
  const checks: PreflightCheck[] = [];
  const result: AwsPreflightResult = { checks };
  const add = (c: PreflightCheck) => checks.push(c);

  // Tools first: they need no account.
  const pulumi = await i.pulumiVersion();
  if (pulumi.error || !pulumi.version) {
    add({
      name: "pulumi",
      severity: "error",
      message: `the Pulumi CLI is missing or unusable (${pulumi.error ?? "no version"})`,
      fix: "Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and run `pulumi login` to your backend.",
    });
  } else if (semverLess(pulumi.version, TESTED_PULUMI)) {
    add({
      name: "pulumi",
      severity: "warning",
      message: `Pulumi CLI ${pulumi.version} is older than ${TESTED_PULUMI}, the version the runbook is tested with (saved update plans need a recent CLI)`,
      fix: `Upgrade the Pulumi CLI to ${TESTED_PULUMI} or newer.`,
    });
  } else {
    add({ name: "pulumi", severity: "info", message: `Pulumi CLI ${pulumi.version}` });
  }
  // The runbook's own Kubernetes client makes its EKS token in-process; the kubeconfig that
  // @pulumi/eks gives Pulumi's Kubernetes provider runs `aws eks get-token`.
  const aws = i.which("aws");
  add(
    aws
      ? {
          name: "aws-cli",
          severity: "info",
          message: `aws CLI ${aws} (Pulumi's Kubernetes provider uses it for cluster tokens)`,
        }
      : {
          name: "aws-cli",
          severity: "error",
          message:
            "the aws CLI is not on PATH: the cluster kubeconfig @pulumi/eks hands Pulumi's Kubernetes provider runs `aws eks get-token`",
          fix: "Install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html).",
        },
  );

  if (!i.region) {
    add({
      name: "region",
      severity: "error",
      message: "no AWS region: none passed, none in AWS_REGION / AWS_DEFAULT_REGION or the profile",
      fix: "Pass --region (e.g. --region eu-west-1) or set AWS_REGION.",
    });
  }
  if (!i.clients || !i.region) return result;
  const { sts, ec2, quotas } = i.clients;

  // Credentials: the identity every AWS call (and Pulumi) will act as.
  try {
    const { GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
    const id = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: i.signal });
    result.identityArn = id.Arn;
    add({
      name: "credentials",
      severity: "info",
      message: `AWS identity ${id.Arn ?? "?"} (account ${id.Account ?? "?"})`,
    });
  } catch (err) {
    add({
      name: "credentials",
      severity: "error",
      message: `AWS credentials do not work (${firstLine(err)})`,
      fix: "Configure credentials for the default provider chain (--profile, `aws sso login`, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance role) and run again.",
    });
    return result;
  }

  // EKS needs subnets in at least two availability zones (EKS user guide, "View Amazon
  // EKS networking requirements for VPC and subnets").
  try {
    const { DescribeAvailabilityZonesCommand } = await import("@aws-sdk/client-ec2");
    const res = await ec2.send(
      new DescribeAvailabilityZonesCommand({
        Filters: [{ Name: "state", Values: ["available"] }],
      }),
      { abortSignal: i.signal },
    );
    const zones = (res.AvailabilityZones ?? []).map((z) => z.ZoneName ?? "?");
    add(
      zones.length >= 2
        ? {
            name: "region",
            severity: "info",
            message: `region ${i.region}: ${zones.length} availability zones (${zones.join(", ")})`,
          }
        : {
            name: "region",
            severity: "error",
            message: `region ${i.region} offers ${zones.length} available zone(s); EKS needs two`,
            fix: "Pick another region with --region.",
          },
    );
  } catch (err) {
    add({
      name: "region",
      severity: "error",
      message: `region ${i.region} does not answer EC2 (${firstLine(err)})`,
      fix: "Check the region name (--region) and that your account may use it.",
    });
  }

  // vCPU quota vs the plan's peak.
  try {
    const types = [...new Set(i.specs.flatMap((s) => s.nodeGroups.map((g) => g.instanceType)))];
    const vcpus = await vcpusOf(ec2, types, i.signal);
    result.peak = peakFootprint(i.specs, vcpus);
  } catch (err) {
    add({
      name: "vcpu-quota",
      severity: "error",
      message: `cannot count the plan's vCPUs (${firstLine(err)})`,
      fix: "Check the instance types in the configuration (groups.*.instanceType) exist in this region.",
    });
  }
  if (result.peak) {
    const peak = result.peak;
    const shape = Object.entries(peak.instances)
      .map(([t, n]) => `${n} × ${t}`)
      .join(" + ");
    try {
      const { GetServiceQuotaCommand } = await import("@aws-sdk/client-service-quotas");
      const res = await quotas.send(
        new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: ON_DEMAND_STANDARD_QUOTA }),
        { abortSignal: i.signal },
      );
      const limit = res.Quota?.Value;
      if (limit === undefined) throw new Error("the quota has no value");
      add(
        limit >= peak.vcpus
          ? {
              name: "vcpu-quota",
              severity: "info",
              message: `EC2 On-Demand Standard vCPU quota ${limit} ≥ the plan's peak ${peak.vcpus} (${shape}); other running instances in the account count against it too`,
            }
          : {
              name: "vcpu-quota",
              severity: "error",
              message: `EC2 On-Demand Standard vCPU quota is ${limit}, the plan's peak needs ${peak.vcpus} (${shape})`,
              fix: `Request an increase of quota ${ON_DEMAND_STANDARD_QUOTA} ("Running On-Demand Standard instances") to at least ${peak.vcpus} in Service Quotas, or make the groups smaller in the configuration.`,
            },
      );
    } catch (err) {
      add({
        name: "vcpu-quota",
        severity: "warning",
        message: `could not read the EC2 vCPU quota ${ON_DEMAND_STANDARD_QUOTA} (${firstLine(err)}); the plan's peak needs ${peak.vcpus} vCPUs (${shape})`,
        fix: "Check the quota in the Service Quotas console (EC2, Running On-Demand Standard instances) or allow servicequotas:GetServiceQuota.",
      });
    }
    result.cost = estimateHourlyCost(peak);
    add({
      name: "cost",
      severity: "info",
      message: `estimated cost at the peak: about $${result.cost.usdPerHour.toFixed(2)}/hour (${result.cost.lines.join(", ")}${result.cost.unpriced.length ? `; not priced: ${result.cost.unpriced.join(", ")}` : ""}) — an estimate from us-east-1 On-Demand list prices; your region, data transfer, volumes and logs differ`,
    });
  }
  add({
    name: "ingress-nginx",
    severity: "warning",
    message:
      "ingress-nginx reached end of life in March 2026 (no more security fixes); the migration procedure is the same for any ingress controller",
  });
  return result;
}

/** The failures an operator must fix, as one message and one hint (exit 2). */
export function preflightFailure(
  checks: PreflightCheck[],
): { message: string; hint: string } | undefined {
  const errors = checks.filter((c) => c.severity === "error");
  if (errors.length === 0) return undefined;
  return {
    message: `AWS preflight failed:\n${errors.map((e) => `  - ${e.name}: ${e.message}`).join("\n")}`,
    hint: errors
      .map((e) => e.fix)
      .filter(Boolean)
      .join("\n      "),
  };
}
