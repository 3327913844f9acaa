import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackDir } from "../cli/state-dir.js";
import { PrerequisiteError } from "../engine/errors.js";
import type { Diagnostic } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import type { RunTarget, TargetDeps, TargetRequest } from "./target.js";

// The AWS target: the operator's Pulumi (CLI on PATH, their backend) and AWS credentials
// from the default provider chain; the cluster's kubeconfig from the stack once it exists.

export async function createAwsTarget(req: TargetRequest, deps: TargetDeps): Promise<RunTarget> {
  const [
    { which },
    { AutoScalingClient },
    { ElasticLoadBalancingV2Client },
    { kubeClientsFromFile },
    { awsInfraDriver },
  ] = await Promise.all([
    import("../which.js"),
    import("@aws-sdk/client-auto-scaling"),
    import("@aws-sdk/client-elastic-load-balancing-v2"),
    import("../kube/clients.js"),
    import("./aws-infra.js"),
  ]);
  deps.signal.throwIfAborted();
  const pulumi = which("pulumi");
  if (!pulumi) {
    throw new PrerequisiteError(
      "the pulumi CLI is not on PATH",
      "Install Pulumi (https://www.pulumi.com/docs/install/) and run `pulumi login`.",
    );
  }
  // The EKS kubeconfig authenticates with `aws eks get-token`.
  if (!which("aws")) {
    throw new PrerequisiteError(
      "the aws CLI is not on PATH (the cluster's kubeconfig runs `aws eks get-token`)",
      "Install the AWS CLI v2.",
    );
  }
  const asg = new AutoScalingClient({});
  try {
    await asg.config.credentials();
  } catch (err) {
    asg.destroy();
    throw new PrerequisiteError(
      `no AWS credentials found by the default provider chain (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`,
      "Configure credentials (AWS_PROFILE, `aws sso login`, environment variables or an instance role) and run again.",
    );
  }
  const region = await asg.config.region();
  const preflight: Diagnostic[] = [
    { severity: "info", message: `pulumi: ${pulumi}; AWS credentials: found (region ${region})` },
  ];
  const infra = await awsInfraDriver({
    target: "aws",
    stack: req.stack,
    workDir: join(stackDir(req.stack), "pulumi-aws"),
  });
  const elbv2 = new ElasticLoadBalancingV2Client({});
  let kube: KubeClients | undefined;
  return {
    name: "aws",
    cluster: `eks-runbook-${req.stack}`,
    region,
    infra,
    kube: async (signal) => {
      if (kube) return kube;
      const kubeconfig = await infra.secretOutput("kubeconfig", signal);
      if (!kubeconfig)
        throw new Error(
          "the stack has no kubeconfig output yet (the cluster is created in step 1)",
        );
      const file = join(stackDir(req.stack), "kubeconfig");
      // Written 0600 and never printed: it holds cluster credentials.
      writeFileSync(
        file,
        typeof kubeconfig === "string" ? kubeconfig : JSON.stringify(kubeconfig),
        {
          mode: 0o600,
        },
      );
      kube = kubeClientsFromFile(file);
      return kube;
    },
    asg,
    elbv2,
    preflight,
    close: async () => {
      kube?.close();
      asg.destroy();
      elbv2.destroy();
    },
  };
}
