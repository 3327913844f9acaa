import type { EKSClient } from "@aws-sdk/client-eks";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { PrerequisiteError } from "../engine/errors.js";
import type { AwsPins, MigrationSpec } from "./spec.js";

// EKS-optimised Amazon Linux 2023 AMIs are published per Kubernetes minor as public SSM
// parameters ("Retrieve recommended Amazon Linux AMI IDs", EKS user guide,
// docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id.html). The runbook reads them
// ONCE, when the stack is provisioned, and pins the ids in the spec (spec.aws.amiIds): the
// "recommended" parameter moves whenever AWS publishes an AMI, and a moved AMI would change
// the launch template and roll every node without the runbook's drain.

export function al2023AmiParameter(kubernetesVersion: string): string {
  return `/aws/service/eks/optimized-ami/${kubernetesVersion}/amazon-linux-2023/x86_64/standard/recommended/image_id`;
}

/** The pinned AMI of a kubelet version; the program never looks one up itself. */
export function pinnedAmi(spec: MigrationSpec, kubeletVersion: string): string {
  const ami = spec.aws?.amiIds[kubeletVersion];
  if (!ami) {
    throw new PrerequisiteError(
      `the spec pins no AMI for kubelet ${kubeletVersion} (pinned: ${Object.keys(spec.aws?.amiIds ?? {}).join(", ") || "none"})`,
      "AMIs are resolved when the stack is provisioned; run through `eks-runbook --target aws`, which pins them in step 1.",
    );
  }
  return ami;
}

/** Reads the recommended AL2023 AMI of each version from SSM (one call per version). */
export async function resolveAmis(
  ssm: SSMClient,
  versions: string[],
  signal: AbortSignal,
  /** The parameter per version (tests point it at parameters they can write). */
  parameter: (version: string) => string = al2023AmiParameter,
): Promise<Record<string, string>> {
  const { GetParameterCommand } = await import("@aws-sdk/client-ssm");
  const out: Record<string, string> = {};
  for (const v of [...new Set(versions)].sort()) {
    const name = parameter(v);
    let value: string | undefined;
    try {
      const res = await ssm.send(new GetParameterCommand({ Name: name }), {
        abortSignal: signal,
      });
      value = res.Parameter?.Value;
    } catch (err) {
      const why = err instanceof Error ? `${err.name}: ${err.message.split("\n")[0]}` : String(err);
      throw new PrerequisiteError(
        `cannot read the EKS-optimised AL2023 AMI for Kubernetes ${v} from SSM ${name} (${why})`,
        `Check the region (EKS must offer ${v} there) and that your credentials allow ssm:GetParameter.`,
      );
    }
    if (!value || !/^ami-[0-9a-f]+$/.test(value)) {
      throw new PrerequisiteError(
        `SSM ${name} holds no AMI id (got ${JSON.stringify(value ?? null)})`,
        `Check that EKS publishes AL2023 AMIs for Kubernetes ${v} in this region.`,
      );
    }
    out[v] = value;
  }
  return out;
}

/**
 * The default versions of the managed add-ons @pulumi/eks installs (CoreDNS, kube-proxy)
 * for a cluster version, from DescribeAddonVersions ("defaultVersion" in its
 * compatibilities; EKS user guide, "Amazon EKS add-ons"), pinned like the AMIs.
 */
export async function resolveAddonVersions(
  eks: EKSClient,
  clusterVersion: string,
  signal: AbortSignal,
): Promise<AwsPins["addonVersions"]> {
  const { DescribeAddonVersionsCommand } = await import("@aws-sdk/client-eks");
  const pick = async (addonName: string): Promise<string> => {
    let res: import("@aws-sdk/client-eks").DescribeAddonVersionsCommandOutput;
    try {
      res = await eks.send(
        new DescribeAddonVersionsCommand({ addonName, kubernetesVersion: clusterVersion }),
        { abortSignal: signal },
      );
    } catch (err) {
      const why = err instanceof Error ? `${err.name}: ${err.message.split("\n")[0]}` : String(err);
      throw new PrerequisiteError(
        `cannot read the ${addonName} add-on versions for Kubernetes ${clusterVersion} from EKS (${why})`,
        "Check that your credentials allow eks:DescribeAddonVersions and that EKS offers this version in the region.",
      );
    }
    const versions = res.addons?.[0]?.addonVersions ?? [];
    const preferred = versions.find((v) =>
      v.compatibilities?.some((c) => c.clusterVersion === clusterVersion && c.defaultVersion),
    );
    const version = (preferred ?? versions[0])?.addonVersion;
    if (!version) {
      throw new PrerequisiteError(
        `EKS offers no ${addonName} add-on version for Kubernetes ${clusterVersion}`,
        "Check clusterVersion against the versions EKS supports in this region.",
      );
    }
    return version;
  };
  return { coredns: await pick("coredns"), kubeProxy: await pick("kube-proxy") };
}

/** Every kubelet version a plan's groups use (each needs a pinned AMI). */
export function planKubeletVersions(groups: { kubeletVersion: string }[]): string[] {
  return [...new Set(groups.map((g) => g.kubeletVersion))].sort();
}
