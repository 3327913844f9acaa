import { join } from "node:path";
import { stackDir } from "../cli/state-dir.js";
import { InputError } from "../engine/errors.js";
import type { Diagnostic } from "../engine/ports.js";
import type { RunTarget, TargetDeps, TargetRequest } from "./target.js";

// The local target: the sandbox (started or reused), the pinned Pulumi engine with a file
// backend, and moto's Auto Scaling API.

/** One sandbox per machine by default; tests (and parallel rehearsals) pick their own. */
export const sandboxName = () => process.env.EKS_RUNBOOK_SANDBOX ?? "eks-runbook";

export async function createLocalTarget(req: TargetRequest, deps: TargetDeps): Promise<RunTarget> {
  const [
    { requireComponents, SANDBOX_COMPONENTS, PULUMI_COMPONENTS },
    { readVersions },
    { sandboxUp },
    { MOTO_REGION, MOTO_CREDENTIALS },
    { AutoScalingClient },
    { ElasticLoadBalancingV2Client },
    { kubeClientsFromFile },
    { localInfraDriver },
  ] = await Promise.all([
    import("../sandbox/doctor.js"),
    import("../sandbox/toolchain.js"),
    import("../sandbox/sandbox.js"),
    import("../sandbox/moto.js"),
    import("@aws-sdk/client-auto-scaling"),
    import("@aws-sdk/client-elastic-load-balancing-v2"),
    import("../kube/clients.js"),
    import("./local-infra.js"),
  ]);
  const info = (message: string) =>
    deps.emit({ type: "diagnostic", severity: "info", message, at: new Date().toISOString() });
  // Skew first: the local control plane's version is the toolchain's, fixed at build time.
  const k8s = readVersions().kubernetes;
  const minor = k8s.split(".").slice(0, 2).join(".");
  if (minor !== req.clusterVersion) {
    throw new InputError(
      `clusterVersion: the local target runs Kubernetes ${k8s} (pins/versions.env), the config asks for ${req.clusterVersion}`,
      `Set clusterVersion: "${minor}" (and kubelet versions at most that) for --target local.`,
    );
  }
  const preflight: Diagnostic[] = [];
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
  const infra = await localInfraDriver({
    target: "local",
    stack: req.stack,
    stateDir: join(stackDir(req.stack), "pulumi"),
    clusterName: sandbox.name,
    kubeconfigPath: sandbox.kubeconfigPath,
    motoEndpoint: sandbox.motoEndpoint,
    region: MOTO_REGION,
    ...(req.rehearsalMistake ? { shutdownMistake: req.rehearsalMistake } : {}),
  });
  if (req.rehearsalMistake) {
    const { SHUTDOWN_MISTAKES } = await import("../infra/shutdown-mistakes.js");
    preflight.push({
      severity: "warning",
      message: `rehearsal.mistake: this rehearsal plays a production mistake on purpose (${SHUTDOWN_MISTAKES[req.rehearsalMistake].title}); the NGINX rollout (step 4) is expected to drop requests and fail its traffic gate`,
    });
  }
  const asg = new AutoScalingClient({
    region: MOTO_REGION,
    endpoint: sandbox.motoEndpoint,
    credentials: MOTO_CREDENTIALS,
    maxAttempts: 2,
  });
  // The sandbox mirrors its load balancer's targets into moto's ELBv2 (the lb-targets gate).
  const elbv2 = new ElasticLoadBalancingV2Client({
    region: MOTO_REGION,
    endpoint: sandbox.motoEndpoint,
    credentials: MOTO_CREDENTIALS,
    maxAttempts: 2,
  });
  const kube = kubeClientsFromFile(sandbox.kubeconfigPath);
  return {
    name: "local",
    cluster: sandbox.name,
    region: MOTO_REGION,
    infra,
    kube: async () => kube,
    asg,
    elbv2,
    preflight,
    close: async () => {
      kube.close();
      asg.destroy();
      elbv2.destroy();
    },
  };
}
