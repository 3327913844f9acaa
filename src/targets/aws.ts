import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { User } from "@kubernetes/client-node";
import { stackDir } from "../cli/state-dir.js";
import { InputError } from "../engine/errors.js";
import type { AwsPins, MigrationSpec } from "../infra/spec.js";
import type { KubeClients } from "../kube/clients.js";
import { clientConfig } from "./aws-preflight/aws-access.js";
import { checksAsDiagnostics, prepareAws, throwIfFailed } from "./aws-prepare.js";
import type { RunTarget, TargetDeps, TargetRequest } from "./target.js";

// The AWS target: the operator's Pulumi (CLI on PATH, their backend) and AWS credentials
// from the default provider chain (or --profile), in the region the stack was provisioned in.
// Preflight runs first; the AMIs and add-on versions are pinned with the stack; the cluster's
// kubeconfig comes from the stack, authenticated with a token made in-process.

export async function createAwsTarget(req: TargetRequest, deps: TargetDeps): Promise<RunTarget> {
  const [
    { AutoScalingClient },
    { ElasticLoadBalancingV2Client },
    { makeKubeClients },
    { loadKubeConfig },
    { EksTokenAuthenticator, EKS_AUTH_PROVIDER },
  ] = await Promise.all([
    import("@aws-sdk/client-auto-scaling"),
    import("@aws-sdk/client-elastic-load-balancing-v2"),
    import("../kube/clients.js"),
    import("../kube/kube-config.js"),
    import("./aws-preflight/eks-token.js"),
  ]);
  const prepared = await prepareAws(req, deps.signal);
  const close = () => prepared.clients?.close();
  try {
    // Tearing down needs credentials, region and Pulumi, not quota for the peak.
    throwIfFailed(
      req.purpose === "destroy"
        ? prepared.preflight.checks.filter((c) => c.name !== "vcpu-quota")
        : prepared.preflight.checks,
    );
  } catch (err) {
    close();
    throw err;
  }
  const { infra, clients, region } = prepared;
  // throwIfFailed guarantees these (a missing region or CLI is a preflight error).
  if (!infra || !clients || !region) throw new Error("AWS preflight passed without a region");
  const asg = new AutoScalingClient(clientConfig(region, prepared.access));
  const elbv2 = new ElasticLoadBalancingV2Client(clientConfig(region, prepared.access));
  const preflight = [
    {
      severity: "info" as const,
      message: `AWS region ${region}${prepared.applied ? " (the stack's)" : ""}`,
    },
    ...checksAsDiagnostics(prepared.preflight.checks),
  ];

  const pinSpec = async (initial: MigrationSpec, signal: AbortSignal): Promise<MigrationSpec> => {
    const versions = [
      ...new Set([
        ...(req.plan ?? [initial]).flatMap((s) => s.nodeGroups.map((g) => g.kubeletVersion)),
      ]),
    ].sort();
    const recorded = prepared.applied?.aws;
    if (recorded) {
      // Never re-read: the stack's pins hold for the whole migration.
      const missing = versions.filter((v) => !recorded.amiIds[v]);
      if (missing.length > 0) {
        throw new InputError(
          `the stack pins AMIs for kubelet ${Object.keys(recorded.amiIds).join(", ")}; the configuration now asks for ${missing.join(", ")}`,
          "Keep the groups' kubeletVersion as provisioned for this migration (a new AMI enters only through a new, previewed migration).",
        );
      }
      return { ...initial, aws: recorded };
    }
    const [{ SSMClient }, { EKSClient }, { resolveAmis, resolveAddonVersions }] = await Promise.all(
      [import("@aws-sdk/client-ssm"), import("@aws-sdk/client-eks"), import("../infra/ami.js")],
    );
    const config = clientConfig(region, prepared.access);
    const ssm = new SSMClient(config);
    const eks = new EKSClient(config);
    try {
      const pins: AwsPins = {
        region,
        amiIds: await resolveAmis(ssm, versions, signal),
        addonVersions: await resolveAddonVersions(eks, initial.clusterVersion, signal),
      };
      deps.emit({
        type: "diagnostic",
        severity: "info",
        message: `pinned for this stack: ${Object.entries(pins.amiIds)
          .map(([v, ami]) => `AMI ${ami} (kubelet ${v})`)
          .join(
            ", ",
          )}; CoreDNS ${pins.addonVersions.coredns}, kube-proxy ${pins.addonVersions.kubeProxy}`,
        at: new Date().toISOString(),
      });
      return { ...initial, aws: pins };
    } finally {
      ssm.destroy();
      eks.destroy();
    }
  };

  let kube: KubeClients | undefined;
  return {
    name: "aws",
    cluster: `eks-runbook-${req.stack}`,
    region,
    infra,
    pinSpec,
    kube: async (signal) => {
      if (kube) return kube;
      const [kubeconfig, clusterName] = await Promise.all([
        infra.secretOutput("kubeconfig", signal),
        infra.secretOutput("clusterName", signal),
      ]);
      if (!kubeconfig || typeof clusterName !== "string")
        throw new Error(
          "the stack has no kubeconfig output yet (the cluster is created in step 1)",
        );
      const file = join(stackDir(req.stack), "kubeconfig");
      // Written 0600 and never printed: it holds the cluster's endpoint and CA.
      writeFileSync(
        file,
        typeof kubeconfig === "string" ? kubeconfig : JSON.stringify(kubeconfig),
        {
          mode: 0o600,
        },
      );
      const kc = loadKubeConfig(file);
      // The runbook's own client: the EKS token made in-process instead of the `aws eks
      // get-token` exec plugin the kubeconfig names.
      kc.users = kc.users.map(
        (u): User => ({
          name: u.name,
          authProvider: { name: EKS_AUTH_PROVIDER, config: { cluster: clusterName, region } },
        }),
      );
      kc.addAuthenticator(
        new EksTokenAuthenticator({
          clusterName,
          region,
          credentials: clients.sts.config.credentials,
        }),
      );
      kube = makeKubeClients(kc);
      return kube;
    },
    asg,
    elbv2,
    preflight,
    close: async () => {
      kube?.close();
      asg.destroy();
      elbv2.destroy();
      close();
    },
  };
}
