import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EKSClient } from "@aws-sdk/client-eks";
import { journalPath, reportsDir } from "../../cli/state-dir.js";
import { InputError, PrerequisiteError } from "../../engine/errors.js";
import type { EngineEvent } from "../../engine/events.js";
import type { Diagnostic, Probe } from "../../engine/ports.js";
import type { ProjectInfraDriver } from "../../infra/project-driver.js";
import { type ProjectSpec, programHash } from "../../infra/project-spec.js";
import { INSTANCE_TYPE_LABEL } from "../../infra/workload-names.js";
import type { KubeClients } from "../../kube/clients.js";
import type { NodeGroupSelector } from "../../kube/node-selector.js";
import { allOfProbe } from "../../probes/all-of-probe.js";
import { findAsgName } from "./asg-discovery.js";
import type { GroupRole, OwnStackContext } from "./context.js";
import type { LoadedPlan } from "./plan-file.js";
import { createOwnStackReport } from "./report.js";
import { managedConfigKeys, ownStackInitialSpec } from "./steps.js";

// Binds your plan to the world: your Pulumi project (LocalWorkspace on its directory), your
// cluster (kubeconfig/context or a stack output), the Auto Scaling API, the real probes and
// ops, the load generator and the report. On --target local the world is the sandbox (its
// kubeconfig unless the plan names one, moto's Auto Scaling API, the pinned Pulumi CLI).
// Preflight refuses, before anything changes, a cluster it cannot reach and an old-group
// selector that matches no node.

export interface OwnStackRun {
  ctx: OwnStackContext;
  infra: ProjectInfraDriver;
  initialSpec: ProjectSpec;
  preflight: Diagnostic[];
  reportPath(): string | undefined;
  close(): Promise<void>;
}

const LANGUAGE_HOST = "pulumi-language-nodejs";

function onPath(bin: string, path: string | undefined): boolean {
  return (path ?? "").split(delimiter).some((d) => d && existsSync(join(d, bin)));
}

/** Waits for a condition while the signal lives. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export async function createOwnStackRun(o: {
  plan: LoadedPlan;
  target: "local" | "aws";
  /** The runbook's state name (journal, logs, reports). */
  stateName: string;
  steps: { id: string; title: string }[];
  /** No journal yet: the migration has not started (the old group must exist). */
  fresh: boolean;
  signal: AbortSignal;
  emit: (e: EngineEvent) => void;
}): Promise<OwnStackRun> {
  const { plan } = o;
  const info = (message: string) =>
    o.emit({ type: "diagnostic", severity: "info", message, at: new Date().toISOString() });
  const [
    { AutoScalingClient },
    { EKSClient },
    { kubeClientsFromFile },
    { ProjectInfraDriver },
    { createLoadGenerator },
  ] = await Promise.all([
    import("@aws-sdk/client-auto-scaling"),
    import("@aws-sdk/client-eks"),
    import("../../kube/clients.js"),
    import("../../infra/project-driver.js"),
    import("../../traffic/load-generator.js"),
  ]);
  const preflight: Diagnostic[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  // ── Pulumi: your project, through the CLI and language host ─────────────────────────
  let env: Record<string, string>;
  let pulumiCommand: () => Promise<import("@pulumi/pulumi/automation/index.js").PulumiCommand>;
  let asg: AutoScalingClient;
  let eksClient: () => EKSClient;
  let kubeconfigPath = plan.kubeconfigPath;
  let region: string | undefined = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (o.target === "local") {
    const [
      { pulumiEnv, setupCommand, toolchain },
      { sandboxUp },
      { MOTO_REGION, MOTO_CREDENTIALS },
      { localPulumiCommand },
      { sandboxName },
    ] = await Promise.all([
      import("../../sandbox/toolchain.js"),
      import("../../sandbox/sandbox.js"),
      import("../../sandbox/moto.js"),
      import("../../sandbox/pulumi-command.js"),
      import("../../targets/local.js"),
    ]);
    const tc = toolchain();
    env = pulumiEnv(tc);
    if (!onPath(LANGUAGE_HOST, env.PATH)) {
      throw new PrerequisiteError(
        `the Pulumi Node.js language host (${LANGUAGE_HOST}) is not in ${dirname(tc.bin.pulumi)} nor on PATH; your program cannot run without it`,
        `Build the rehearsal one next to the pinned pulumi: \`${setupCommand("language-host", tc)}\`; or put the directory holding Pulumi's own (it ships with every Pulumi CLI install) on PATH.`,
      );
    }
    pulumiCommand = () => localPulumiCommand(tc);
    const sandbox = await sandboxUp({ name: sandboxName(), signal: o.signal, onProgress: info });
    preflight.push({
      severity: "info",
      message: `sandbox ${sandbox.name}: Kubernetes ${sandbox.kubernetesVersion}, kubeconfig ${sandbox.kubeconfigPath}, Auto Scaling API ${sandbox.motoEndpoint}`,
    });
    kubeconfigPath ??= sandbox.kubeconfigPath;
    region = MOTO_REGION;
    asg = new AutoScalingClient({
      region: MOTO_REGION,
      endpoint: sandbox.motoEndpoint,
      credentials: MOTO_CREDENTIALS,
      maxAttempts: 2,
    });
    // EKS node groups of the rehearsal are moto's too (moto serves EKS on the same endpoint).
    eksClient = () =>
      new EKSClient({
        region: MOTO_REGION,
        endpoint: sandbox.motoEndpoint,
        credentials: MOTO_CREDENTIALS,
        maxAttempts: 2,
      });
  } else {
    env = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    if (!onPath("pulumi", env.PATH)) {
      throw new PrerequisiteError(
        "the Pulumi CLI (pulumi) is not on PATH",
        "Install the Pulumi CLI your program is deployed with, and put it on PATH.",
      );
    }
    pulumiCommand = async () => {
      const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
      return PulumiCommand.get({ skipVersionCheck: false });
    };
    // The default credential chain and region, as the AWS CLI would use them.
    asg = new AutoScalingClient(region ? { region, maxAttempts: 3 } : { maxAttempts: 3 });
    eksClient = () => new EKSClient(region ? { region, maxAttempts: 3 } : { maxAttempts: 3 });
  }
  cleanups.push(() => asg.destroy());

  const infra = new ProjectInfraDriver({
    projectDir: plan.projectDir,
    stack: plan.pulumi.stack,
    managedKeys: managedConfigKeys(plan),
    env,
    pulumiCommand,
    previewTimeoutMs: 10 * 60_000,
    applyTimeoutMs: 60 * 60_000,
  });
  // ── the cluster (first, unless its kubeconfig comes from the stack) ─────────────────
  const context = "context" in plan.cluster ? plan.cluster.context : undefined;
  const fromStack = "kubeconfigOutput" in plan.cluster;
  // Selects your stack (refused with exit 2 when it does not exist) and reads where it stands.
  const initialSpec = fromStack
    ? ownStackInitialSpec(await infra.currentConfig(o.signal))
    : undefined;
  if ("kubeconfigOutput" in plan.cluster) {
    const value = await infra.secretOutput(plan.cluster.kubeconfigOutput, o.signal);
    if (value === undefined) {
      throw new InputError(
        `cluster.kubeconfigOutput: stack ${plan.pulumi.stack} has no output "${plan.cluster.kubeconfigOutput}"`,
        "Name the output that holds your cluster's kubeconfig, or use cluster.kubeconfig/context.",
      );
    }
    const dir = await mkdtemp(join(tmpdir(), "eks-runbook-kube-"));
    kubeconfigPath = join(dir, "kubeconfig");
    await writeFile(kubeconfigPath, typeof value === "string" ? value : JSON.stringify(value), {
      mode: 0o600,
    });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  }
  kubeconfigPath ??=
    process.env.KUBECONFIG?.split(delimiter)[0] ?? join(homedir(), ".kube", "config");
  const kube = kubeClientsFromFile(kubeconfigPath, context);
  cleanups.push(() => kube.close());
  await preflightCluster(kube, plan, o.fresh, o.signal, preflight);
  const startSpec = initialSpec ?? ownStackInitialSpec(await infra.currentConfig(o.signal));

  // ── probes, ops, traffic, report ───────────────────────────────────────────────────
  const [
    { nodesProbe },
    { placementProbe },
    { rolloutProbe },
    { drainedProbe },
    { asgProbe },
    { trafficProbe },
    { onceProbe },
    ops,
  ] = await Promise.all([
    import("../../probes/nodes-probe.js"),
    import("../../probes/placement-probe.js"),
    import("../../probes/rollout-probe.js"),
    import("../../probes/drained-probe.js"),
    import("../../probes/asg-probe.js"),
    import("../../probes/traffic-probe.js"),
    import("../../probes/once-probe.js"),
    import("../../ops/step-actions.js"),
  ]);
  const oldSel: NodeGroupSelector = { labels: plan.groups.old.selector };
  const expect = plan.groups.new.expect;
  // A single expected instance type is part of what makes a node "new" (others are not counted).
  const newSel: NodeGroupSelector = {
    labels: {
      ...plan.groups.new.selector,
      ...(expect.instanceTypes?.length === 1
        ? { [INSTANCE_TYPE_LABEL]: expect.instanceTypes[0]! }
        : {}),
    },
  };
  const placementSel: NodeGroupSelector = { labels: plan.groups.new.selector };
  const traffic = createLoadGenerator({
    connections: plan.traffic !== "none" ? (plan.traffic.connections ?? 8) : 1,
    rate: plan.traffic !== "none" ? (plan.traffic.rate ?? 200) : 0,
    timeoutMs: 2000,
  });
  const waiting = (reason: string): Probe => ({
    observe: async (signal, report) => {
      report({ ok: false, reason });
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    },
  });
  const asgNames = new Map<GroupRole, Promise<string | undefined>>();
  const asgName = (role: GroupRole, signal: AbortSignal) => {
    let p = asgNames.get(role);
    if (!p) {
      p = findAsgName(plan.groups[role].asg, { asg, eks: eksClient }, signal);
      p.catch(() => asgNames.delete(role));
      asgNames.set(role, p);
    }
    return p;
  };
  const workloadProbe = (w: LoadedPlan["workloads"][number]): Probe => ({
    observe: async (signal, report) => {
      let podSelector: string;
      if (w.selector) {
        podSelector = Object.entries(w.selector)
          .map(([k, v]) => `${k}=${v}`)
          .join(",");
      } else {
        try {
          const obj =
            w.kind === "Deployment"
              ? await kube.apps.readNamespacedDeployment({ name: w.name!, namespace: w.namespace })
              : await kube.apps.readNamespacedStatefulSet({
                  name: w.name!,
                  namespace: w.namespace,
                });
          const labels = obj.spec?.selector?.matchLabels ?? {};
          podSelector = Object.entries(labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
        } catch (err) {
          return waiting(
            `${w.kind} ${w.namespace}/${w.name}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
          ).observe(signal, report);
        }
      }
      const label = w.name ?? podSelector;
      const probes: Probe[] = [
        placementProbe(kube, { namespace: w.namespace, podSelector, label, on: placementSel }),
      ];
      if (w.kind === "Deployment" && w.name)
        probes.push(rolloutProbe(kube, { namespace: w.namespace, name: w.name }));
      return allOfProbe(probes).observe(signal, report);
    },
  });
  let reportPath: string | undefined;
  const statePaths = { journal: journalPath(o.stateName), reports: reportsDir(o.stateName) };
  const startHash = await programHash(plan.projectDir);
  const windowSeconds = plan.gates.windowSeconds;

  const ctx: OwnStackContext = {
    plan,
    traffic,
    ...(plan.traffic !== "none"
      ? {
          trafficTarget: {
            url: plan.traffic.url,
            ...(plan.traffic.host ? { host: plan.traffic.host } : {}),
            ...(plan.traffic.path ? { path: plan.traffic.path } : {}),
          },
        }
      : {}),
    probes: {
      newGroupReady: () =>
        nodesProbe(kube, {
          selector: newSel,
          count: expect.count,
          ...(expect.kubeletVersion ? { kubeletVersion: expect.kubeletVersion } : {}),
        }),
      asgInService: (role, count) => ({
        observe: async (signal, report) => {
          let name: string | undefined;
          try {
            name = await asgName(role, signal);
          } catch (err) {
            return waiting(
              `cannot find the ${role} group's Auto Scaling group: ${err instanceof Error ? err.message : String(err)}`,
            ).observe(signal, report);
          }
          if (!name) {
            report({
              ok: true,
              reason: `the ${role} group has no Auto Scaling group in the plan: ASG gate off`,
            });
            await new Promise<void>((r) =>
              signal.addEventListener("abort", () => r(), { once: true }),
            );
            return;
          }
          return asgProbe(asg, { groupName: name, inService: count }).observe(signal, report);
        },
      }),
      workloadsMoved: () => allOfProbe(plan.workloads.map(workloadProbe)),
      oldDrained: () => drainedProbe(kube, { selector: oldSel, passWhenNoNodes: true }),
      oldNodesGone: () => nodesProbe(kube, { selector: oldSel, count: "absent" }),
      trafficHealthy: (step) =>
        trafficProbe(traffic, {
          windowSeconds,
          threshold: plan.gates.successRatePercent / 100,
          minRequests: plan.gates.minRequests,
          sinceMark: step,
        }),
      zeroFailures: () =>
        onceProbe(() => {
          const t = traffic.total();
          if (t.requests === 0) return { ok: false, reason: "no request was measured" };
          return t.failed === 0
            ? { ok: true, reason: `${t.requests.toLocaleString("en-US")} requests, 0 failed` }
            : {
                ok: false,
                terminal: true,
                reason: `${t.failed.toLocaleString("en-US")} of ${t.requests.toLocaleString("en-US")} requests failed`,
              };
        }),
    },
    ops: {
      drainPreview: (signal) => ops.previewDrain({ kube, selector: oldSel }, signal),
      drain: (signal, progress) => ops.runDrain({ kube, selector: oldSel }, signal, progress),
      uncordon: (signal) => ops.uncordonGroup({ kube, selector: oldSel }, signal),
      deleteNodesPreview: (signal) => ops.previewDeleteNodes({ kube, selector: oldSel }, signal),
      deleteNodes: (signal) => ops.deleteNodesOfGroup({ kube, selector: oldSel }, signal),
    },
    program: {
      projectDir: plan.projectDir,
      waitForChange: async (signal, progress) => {
        const baseline = (await infra.appliedProgramHash(signal)) ?? startHash;
        const deadline = Date.now() + plan.gates.timeoutSeconds * 1000;
        progress({ done: 0, total: 1, message: `waiting for your change in ${plan.projectDir}` });
        for (;;) {
          const now = await programHash(plan.projectDir);
          if (now !== baseline) {
            progress({ done: 1, total: 1, message: "the program changed" });
            return {
              summary: `the program in ${plan.projectDir} changed (${baseline} → ${now}); next: its preview`,
              details: { from: baseline, to: now },
            };
          }
          if (Date.now() > deadline) {
            throw new InputError(
              `no change to the program in ${plan.projectDir} within ${plan.gates.timeoutSeconds}s`,
              "Make the change the step describes, save it, and retry.",
            );
          }
          await sleep(300, signal);
        }
      },
    },
    report: createOwnStackReport({
      stack: plan.pulumi.stack,
      target: o.target === "local" ? "local (your program on the sandbox)" : "your cluster",
      steps: o.steps,
      journalPath: statePaths.journal,
      reportsDir: statePaths.reports,
      traffic,
      trafficWatched: plan.traffic !== "none",
      onWritten: (p) => {
        reportPath = p;
      },
    }),
  };
  if (plan.traffic === "none") {
    preflight.push({
      severity: "warning",
      message:
        "the plan watches no traffic (traffic: none): the traffic gates are off and the report says so",
    });
  }
  return {
    ctx,
    infra,
    initialSpec: startSpec,
    preflight,
    reportPath: () => reportPath,
    close: async () => {
      if (traffic.running) await traffic.stop();
      for (const c of cleanups.reverse()) await c();
    },
  };
}

/** The cluster answers, and (before the first step) the old group's selector matches nodes. */
async function preflightCluster(
  kube: KubeClients,
  plan: LoadedPlan,
  fresh: boolean,
  signal: AbortSignal,
  preflight: Diagnostic[],
): Promise<void> {
  const { nodeLabelSelector } = await import("../../kube/node-selector.js");
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(15_000)]);
  const where =
    "context" in plan.cluster && plan.cluster.context
      ? `context "${plan.cluster.context}"`
      : "the cluster";
  const selector = nodeLabelSelector({ labels: plan.groups.old.selector });
  let count: number;
  try {
    const list = await Promise.race([
      kube.core.listNode({ labelSelector: selector }),
      new Promise<never>((_, reject) =>
        bounded.addEventListener("abort", () => reject(new Error("no answer within 15s")), {
          once: true,
        }),
      ),
    ]);
    count = list.items.length;
  } catch (err) {
    if (signal.aborted) throw err;
    throw new InputError(
      `cluster: cannot reach the API server of ${where}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
      "Check cluster.kubeconfig / cluster.context in the plan (kubectl --context <name> get nodes must work).",
    );
  }
  if (fresh && count === 0) {
    throw new InputError(
      `groups.old.selector: no node matches ${selector}`,
      "Name a label your old nodes carry (kubectl get nodes --show-labels), e.g. eks.amazonaws.com/nodegroup: <name>.",
    );
  }
  preflight.push({ severity: "info", message: `old group: ${count} node(s) match ${selector}` });
}
