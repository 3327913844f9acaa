import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunOptions } from "../cli/options.js";
import { journalPath, reportsDir, stackDir } from "../cli/state-dir.js";
import { InputError, PrerequisiteError, RunbookError } from "../engine/errors.js";
import type { Diagnostic } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import type { RunbookConfig } from "../migrations/eks-nodegroups/config.js";
import type { EksContext } from "../migrations/eks-nodegroups/context.js";
import { createEksOps } from "../migrations/eks-nodegroups/ops.js";
import { createEksProbes } from "../migrations/eks-nodegroups/probes.js";
import { createRunReport } from "../migrations/eks-nodegroups/report.js";
import { StackOutputs } from "../migrations/eks-nodegroups/stack-outputs.js";
import { eksMigrationSteps } from "../migrations/eks-nodegroups/steps.js";
import type { RunTarget, TargetDeps } from "./target.js";

// Builds the world a run talks to. Local: the sandbox (started or reused), the pinned
// Pulumi engine with a file backend, moto's Auto Scaling API. AWS: the user's Pulumi and
// credentials, the cluster's kubeconfig from the stack once it exists.

/** One sandbox per machine by default; tests (and parallel rehearsals) pick their own. */
const sandboxName = () => process.env.EKS_RUNBOOK_SANDBOX ?? "eks-runbook";
const INGRESS_NGINX_EOL =
  "ingress-nginx reached end of life in March 2026 (no more releases or security fixes); " +
  "this runbook still uses its last release, as the tutorial did. Plan a move to a maintained controller.";

const MOTO_REGION = "us-east-1";

export async function createRunTarget(
  opts: RunOptions,
  config: RunbookConfig,
  deps: TargetDeps,
): Promise<RunTarget> {
  const preflight: Diagnostic[] = [{ severity: "warning", message: INGRESS_NGINX_EOL }];
  const info = (message: string) =>
    deps.emit({ type: "diagnostic", severity: "info", message, at: new Date().toISOString() });
  const [
    { createInfraDriver },
    { createLoadGenerator },
    { AutoScalingClient },
    { kubeClientsFromFile },
  ] = await Promise.all([
    import("../infra/pulumi-driver.js"),
    import("../traffic/load-generator.js"),
    import("@aws-sdk/client-auto-scaling"),
    import("../kube/clients.js"),
  ]);

  let infra: ReturnType<typeof createInfraDriver>;
  let asg: InstanceType<typeof AutoScalingClient>;
  let getKube: (signal: AbortSignal) => Promise<KubeClients>;
  const closers: (() => Promise<void> | void)[] = [];

  if (opts.target === "local") {
    const [
      { requireComponents, SANDBOX_COMPONENTS, PULUMI_COMPONENTS },
      { readVersions },
      { sandboxUp },
    ] = await Promise.all([
      import("../sandbox/doctor.js"),
      import("../sandbox/toolchain.js"),
      import("../sandbox/sandbox.js"),
    ]);
    // Skew first: the local control plane's version is the toolchain's, fixed at build time.
    const k8s = readVersions().kubernetes;
    const minor = k8s.split(".").slice(0, 2).join(".");
    if (minor !== config.clusterVersion) {
      throw new InputError(
        `clusterVersion: the local target runs Kubernetes ${k8s} (pins/versions.env), the config asks for ${config.clusterVersion}`,
        `Set clusterVersion: "${minor}" (and kubelet versions at most that) for --target local.`,
      );
    }
    const checks = await requireComponents([...SANDBOX_COMPONENTS, ...PULUMI_COMPONENTS, "nginx"], {
      signal: deps.signal,
    });
    preflight.push({
      severity: "info",
      message: `toolchain: ${checks.map((c) => `${c.name} ${c.version}`).join(", ")}`,
    });
    const sandbox = await sandboxUp({ name: sandboxName(), signal: deps.signal, onProgress: info });
    preflight.push({
      severity: "info",
      message: `sandbox ${sandbox.name}: Kubernetes ${sandbox.kubernetesVersion} at ${sandbox.apiServerUrl}, kubeconfig ${sandbox.kubeconfigPath}, logs ${sandbox.logsDir}`,
    });
    infra = createInfraDriver({
      target: "local",
      stack: opts.stack,
      stateDir: join(stackDir(opts.stack), "pulumi"),
      clusterName: sandbox.name,
      kubeconfigPath: sandbox.kubeconfigPath,
      motoEndpoint: sandbox.motoEndpoint,
      region: MOTO_REGION,
    });
    asg = new AutoScalingClient({
      region: MOTO_REGION,
      endpoint: sandbox.motoEndpoint,
      // moto accepts any credentials; these are its documented placeholders, not secrets.
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 2,
    });
    const kube = kubeClientsFromFile(sandbox.kubeconfigPath);
    closers.push(() => kube.close());
    getKube = async () => kube;
  } else {
    const { which } = await import("../which.js");
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
    asg = new AutoScalingClient({});
    try {
      await asg.config.credentials();
    } catch (err) {
      throw new PrerequisiteError(
        `no AWS credentials found by the default provider chain (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`,
        "Configure credentials (AWS_PROFILE, `aws sso login`, environment variables or an instance role) and run again.",
      );
    }
    preflight.push({
      severity: "info",
      message: `pulumi: ${pulumi}; AWS credentials: found (region ${await asg.config.region()})`,
    });
    infra = createInfraDriver({
      target: "aws",
      stack: opts.stack,
      workDir: join(stackDir(opts.stack), "pulumi-aws"),
    });
    let kube: KubeClients | undefined;
    getKube = async (signal) => {
      if (kube) return kube;
      const kubeconfig = await infra.secretOutput("kubeconfig", signal);
      if (!kubeconfig)
        throw new Error(
          "the stack has no kubeconfig output yet (the cluster is created in step 1)",
        );
      const file = join(stackDir(opts.stack), "kubeconfig");
      // Written 0600 and never printed: it holds cluster credentials.
      writeFileSync(
        file,
        typeof kubeconfig === "string" ? kubeconfig : JSON.stringify(kubeconfig),
        { mode: 0o600 },
      );
      kube = kubeClientsFromFile(file);
      const k = kube;
      closers.push(() => k.close());
      return kube;
    };
  }
  closers.push(() => asg.destroy());

  const outputs = new StackOutputs(infra);
  const traffic = createLoadGenerator({
    connections: config.traffic.connections,
    rate: config.traffic.rate,
    timeoutMs: config.traffic.timeoutSeconds * 1000,
  });
  closers.push(async () => {
    if (traffic.running) await traffic.stop();
  });
  let reportPath: string | undefined;
  const steps = eksMigrationSteps(config).map((s) => ({ id: s.id, title: s.title }));

  const ctx: EksContext = {
    config,
    traffic,
    probes: createEksProbes({
      kube: getKube,
      asg,
      traffic,
      outputs,
      stackResources: (signal) => infra.resourceUrns(signal),
    }),
    ops: createEksOps(getKube, { drain: config.drain }),
    trafficTarget: async (signal) => {
      const url = await outputs.loadBalancerUrl(signal);
      if (!url) {
        throw new RunbookError(
          "the stack has no load balancer address (output nginxServiceUrl) yet",
          "Step 1 creates it; if step 1 is done, check the Service nginx-ing-cntlr in namespace apps for status.loadBalancer.",
        );
      }
      return { url, host: config.host, path: config.path };
    },
    report: createRunReport({
      stack: opts.stack,
      target: opts.target,
      steps,
      journalPath: journalPath(opts.stack),
      reportsDir: reportsDir(opts.stack),
      traffic,
      onWritten: (p) => {
        reportPath = p;
      },
    }),
  };

  return {
    ctx,
    infra,
    preflight,
    reportPath: () => reportPath,
    close: async () => {
      for (const c of closers.reverse()) await c();
    },
  };
}
