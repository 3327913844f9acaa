import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AbortedError, ExitCode, InputError } from "../../src/engine/errors.js";
import type { ApplyProgress, PreviewResult } from "../../src/engine/ports.js";
import type { PulumiInfraDriver } from "../../src/infra/pulumi-driver.js";
import type { MigrationSpec } from "../../src/infra/spec.js";
import { stepSpecs } from "../../src/infra/spec-steps.js";
import { findStackLocks, localStackPaths } from "../../src/infra/stack-files.js";
import { INSTANCE_TYPE_LABEL, WORKLOAD } from "../../src/infra/workload-names.js";
import { type AgentHandle, startAgent } from "../../src/sandbox/agent.js";
import { SANDBOX_COMPONENTS } from "../../src/sandbox/doctor.js";
import { MOTO_CREDENTIALS, MOTO_REGION } from "../../src/sandbox/moto.js";
import { toolchain } from "../../src/sandbox/toolchain.js";
import { createInfraDriver, type LocalInfraOptions } from "../../src/targets/infra-driver.js";
import { requireForTest, startTestSandbox, type TestSandbox } from "../helpers/sandbox.js";
import { freePort } from "./infra-helpers.js";

// The local target end to end with the real engine: a sandbox (real control plane, kwok,
// moto), the sandbox agent in-process (ASG instances → kwok Nodes; real nginx/echo
// processes and a load balancer published in the Service status), and the driver running
// the tutorial's Pulumi steps. Each step's preview must be exactly its expected diff.

// Workaround, to remove once src/sandbox/ports.ts is fixed: its allocatePortBlock probes
// 127.0.0.1:p and 0.0.0.0:p at the same time, so the two probes collide and every block
// looks busy. Probing one after the other gives the function's intended answer.
vi.mock("../../src/sandbox/ports.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/sandbox/ports.js")>();
  return {
    ...real,
    allocatePortBlock: async (name: string, count: number) => {
      for (
        let base = real.PORT_RANGE.start + ((name.length * 97) % 4000);
        base < real.PORT_RANGE.end;
        base += 16
      ) {
        const ports = Array.from({ length: count }, (_, j) => base + j);
        let free = true;
        for (const p of ports)
          free = free && (await real.isPortFree(p)) && (await real.isPortFree(p, "0.0.0.0"));
        if (free) return ports;
      }
      throw new Error(`no ${count} free ports`);
    },
  };
});

const tc = toolchain();
const steps = stepSpecs();
const VALUES_PATH =
  "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]";

let sb: TestSandbox;
let agent: AgentHandle;
let stateDir: string;
let agentDir: string;
let options: LocalInfraOptions;
let driver: PulumiInfraDriver;
let asg: AutoScalingClient;
const signal = new AbortController().signal;

function summary(p: PreviewResult): [string, string, string][] {
  return p.resources.map((r) => [r.op, r.type, r.name]);
}

async function asgOf(group: string) {
  const res = await asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [`${sb.name}-${group}`] }),
  );
  return res.AutoScalingGroups?.[0];
}

/** NGINX pods that are not terminating, with their nodes' instance types. */
async function nginxPlacement(): Promise<string[]> {
  const pods = await sb.core.listNamespacedPod({
    namespace: WORKLOAD.namespace,
    labelSelector: `app=${WORKLOAD.nginx.appLabel}`,
  });
  const nodes = await sb.core.listNode();
  const typeOf = new Map(
    nodes.items.map((n) => [n.metadata?.name, n.metadata?.labels?.[INSTANCE_TYPE_LABEL]]),
  );
  return pods.items
    .filter((p: V1Pod) => !p.metadata?.deletionTimestamp)
    .map((p) => typeOf.get(p.spec?.nodeName) ?? "unscheduled")
    .sort();
}

function httpGet(url: string, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request(u, { headers: { host }, signal: AbortSignal.timeout(2_000) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Waits (bounded) until the load balancer answers 200 for host + path. */
async function until200(url: string, spec: MigrationSpec): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const code = await httpGet(url, spec.host, spec.path);
      if (code === 200) return;
      last = `HTTP ${code}`;
    } catch (err) {
      last = String(err);
    }
    await delay(200);
  }
  throw new Error(`${url}${spec.path} (Host ${spec.host}) never answered 200; last: ${last}`);
}

async function checkpointPendingOps(): Promise<
  { type: string; resource: { urn: string; type: string } }[]
> {
  const stacksDir = join(localStackPaths(stateDir).backendDir, ".pulumi", "stacks");
  const files = (await readdir(stacksDir, { recursive: true })).filter((f) =>
    f.endsWith(`${sb.name}.json`),
  );
  if (files.length === 0) return [];
  try {
    const state = JSON.parse(await readFile(join(stacksDir, files[0]!), "utf8")) as {
      checkpoint?: {
        latest?: {
          pending_operations?: { type: string; resource: { urn: string; type: string } }[];
        };
      };
    };
    return state.checkpoint?.latest?.pending_operations ?? [];
  } catch {
    return []; // caught mid-write: look again
  }
}

beforeAll(async () => {
  await requireForTest([
    ...SANDBOX_COMPONENTS,
    "pulumi",
    "pulumi-resource-pulumi-nodejs",
    "pulumi-resource-kubernetes",
  ]);
  sb = await startTestSandbox("infra");
  agentDir = await mkdtemp(join(tmpdir(), "infra-agent-"));
  agent = await startAgent({
    kubeconfig: sb.info.kubeconfigPath,
    motoEndpoint: sb.info.motoEndpoint,
    stateDir: agentDir,
    cluster: sb.name,
    lbPort: await freePort(),
  });
  stateDir = await mkdtemp(join(tmpdir(), "infra-stack-"));
  options = {
    target: "local",
    stack: sb.name,
    stateDir,
    kubeconfigPath: sb.info.kubeconfigPath,
    motoEndpoint: sb.info.motoEndpoint,
  };
  driver = await createInfraDriver(options);
  asg = new AutoScalingClient({
    region: MOTO_REGION,
    endpoint: sb.info.motoEndpoint,
    credentials: MOTO_CREDENTIALS,
  });
});

afterAll(async () => {
  try {
    await agent?.stop();
  } finally {
    try {
      await sb?.stop();
    } finally {
      if (stateDir) await rm(stateDir, { recursive: true, force: true });
      if (agentDir) await rm(agentDir, { recursive: true, force: true });
    }
  }
});

describe("the local target through the Automation API", () => {
  it("an invalid spec never reaches Pulumi: typed error naming the field, nothing created", async () => {
    const bad = { ...steps.provision, nginx: { replicas: 3, instanceTypes: ["m5.large"] } };
    const fresh = await createInfraDriver({ ...options, stateDir: join(stateDir, "never") });
    const err = await fresh.preview(bad, { signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(ExitCode.badInput);
    expect((err as InputError).message).toMatch(
      /nginx\.instanceTypes: 3 NGINX replicas need 3 nodes of m5\.large/,
    );
    await expect(fresh.apply(bad, { signal })).rejects.toBeInstanceOf(InputError);
    expect(existsSync(join(stateDir, "never"))).toBe(false);
    expect(await driver.appliedSpec(signal)).toBeUndefined();
  });

  it("step 1 provisions: preview lists only creates, apply reports progress, outputs", async () => {
    const p = await driver.preview(steps.provision, { signal });
    expect(p.changes).toMatchObject({ update: 0, replace: 0, delete: 0 });
    expect(summary(p)).toEqual(
      expect.arrayContaining([
        ["create", "pulumi-nodejs:dynamic/local:AutoScalingGroup", "asg-standard"],
        ["create", "pulumi-nodejs:dynamic/local:AutoScalingGroup", "asg-old"],
        ["create", "kubernetes:apps/v1:Deployment", WORKLOAD.nginx.name],
        ["create", "kubernetes:apps/v1:Deployment", WORKLOAD.echoserver.name],
        ["create", "kubernetes:networking.k8s.io/v1:Ingress", "echoserver-ingress"],
        ["create", "kubernetes:policy/v1:PodDisruptionBudget", "nginx-ing-cntlr-pdb"],
      ]),
    );
    const progress: ApplyProgress[] = [];
    const res = await driver.apply(steps.provision, {
      signal,
      onProgress: (x) => progress.push(x),
    });
    expect(res.changes.create).toBe(p.changes.create);
    expect(progress.at(-1)).toEqual({
      done: p.resources.length,
      total: p.resources.length,
      message: "update complete",
    });
    expect(progress.some((x) => x.current?.startsWith("creating nginx-ing-cntlr"))).toBe(true);
    // The sandbox's admin kubeconfig is not in the stack's state (only its path).
    expect(res.outputs).not.toHaveProperty("kubeconfig");
    expect(JSON.stringify(res.outputs)).not.toContain("client-key-data");
    expect(res.outputs).toMatchObject({
      kubeconfigPath: sb.info.kubeconfigPath,
      clusterName: sb.name,
      asgNames: { standard: `${sb.name}-standard`, old: `${sb.name}-old` },
    });
    expect(String(res.outputs.nginxServiceUrl)).toMatch(/^http:\/\/[\w.]+:\d+$/);
    expect(await driver.appliedSpec(signal)).toEqual(steps.provision);
    expect(await nginxPlacement()).toEqual(["t3.2xlarge", "t3.2xlarge", "t3.2xlarge"]);
    expect((await asgOf("old"))?.Instances).toHaveLength(3);
    // Traffic flows: load balancer → NGINX → echoserver, for the Ingress's host and path.
    await until200(String(res.outputs.nginxServiceUrl), steps.provision);
  });

  it("a second preview of the same spec shows no changes", async () => {
    const p = await driver.preview(steps.provision, { signal });
    expect(p.resources).toEqual([]);
    expect(p.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(p.changes.same).toBeGreaterThan(10);
  });

  it("step 3 (create new group) creates exactly the new group's ASG", async () => {
    const p = await driver.preview(steps.createNewGroup, { signal });
    expect(summary(p)).toEqual([
      ["create", "pulumi-nodejs:dynamic/local:AutoScalingGroup", "asg-new"],
    ]);
    await driver.apply(steps.createNewGroup, { signal });
    expect((await asgOf("new"))?.Instances).toHaveLength(5);
  });

  it("step 4 (migrate NGINX) is one Deployment update changing the affinity values", async () => {
    const p = await driver.preview(steps.migrateNginx, { signal });
    expect(p.changes).toMatchObject({ create: 0, update: 1, replace: 0, delete: 0 });
    expect(p.resources).toEqual([
      expect.objectContaining({
        op: "update",
        type: "kubernetes:apps/v1:Deployment",
        name: WORKLOAD.nginx.name,
        replaceKeys: [],
        diffs: [{ path: VALUES_PATH, kind: "update", old: "t3.2xlarge", new: "c5.4xlarge" }],
      }),
    ]);
  });

  it("an apply SIGKILLed mid-update is recovered, and the next apply succeeds", async () => {
    // Given: an eks-runbook process applying step 4, killed with everything it started
    // (its pulumi CLI and plugins) once the engine has recorded the Deployment update as
    // in progress.
    const here = fileURLToPath(new URL(".", import.meta.url));
    const child: ChildProcess = spawn(
      tc.bin.node,
      [
        "--experimental-transform-types",
        "--no-warnings",
        "--import",
        join(here, "infra-ts-hooks.mjs"),
        join(here, "infra-apply-child.ts"),
        JSON.stringify({ driver: options, spec: steps.migrateNginx }),
      ],
      { cwd: tc.repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    createInterface({ input: child.stdout! }).on("line", (l) => {
      output += `${l}\n`;
    });
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once("exit", () => {
        exited = true;
        resolve();
      }),
    );
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const pending = await checkpointPendingOps();
        if (pending.some((p) => p.resource.type === "kubernetes:apps/v1:Deployment")) break;
        if (exited) throw new Error(`the update ended before it could be interrupted:\n${output}`);
        if (Date.now() > deadline)
          throw new Error(`no update in progress within 120 s:\n${output}`);
        await delay(10);
      }
      process.kill(-child.pid!, "SIGKILL");
    } finally {
      if (!exited) process.kill(-child.pid!, "SIGKILL");
      await exit;
    }
    // The kill left what a crash leaves: the lock and the pending operation.
    const paths = localStackPaths(stateDir);
    expect((await findStackLocks(paths.backendDir, "eks-runbook", sb.name)).length).toBe(1);
    expect((await checkpointPendingOps()).map((p) => [p.type, p.resource.type])).toContainEqual([
      "updating",
      "kubernetes:apps/v1:Deployment",
    ]);

    // When: a new process recovers.
    const restarted = await createInfraDriver(options);
    const report = await restarted.recover(signal);

    // Then: it says what it did, the stack is clean, and the interrupted step applies.
    expect(report.actions[0]).toMatch(/^removed a stale lock left by an update that died/);
    expect(report.actions).toContainEqual(
      expect.stringMatching(/interrupted operation\(s\): updating nginx-ing-cntlr/),
    );
    expect(report.actions).toContain("refreshed the stack's state from the live resources");
    expect(await findStackLocks(paths.backendDir, "eks-runbook", sb.name)).toEqual([]);
    expect(await checkpointPendingOps()).toEqual([]);
    expect((await restarted.recover(signal)).actions).toEqual([]);
    await restarted.apply(steps.migrateNginx, { signal });
    expect((await restarted.preview(steps.migrateNginx, { signal })).resources).toEqual([]);
    expect(await nginxPlacement()).toEqual(["c5.4xlarge", "c5.4xlarge", "c5.4xlarge"]);
    expect(await restarted.appliedSpec(signal)).toEqual(steps.migrateNginx);
  });

  it("step 7 (scale old to 0) changes only the old group's capacities", async () => {
    const p = await driver.preview(steps.scaleOldToZero, { signal });
    expect(p.resources).toEqual([
      expect.objectContaining({
        op: "update",
        name: "asg-old",
        diffs: [
          { path: "desired", kind: "update", old: 3, new: 0 },
          { path: "min", kind: "update", old: 3, new: 0 },
        ],
      }),
    ]);
    await driver.apply(steps.scaleOldToZero, { signal });
    expect(await asgOf("old")).toMatchObject({ DesiredCapacity: 0, MinSize: 0, MaxSize: 3 });
  });

  it("step 8 (remove old group) deletes only the old group", async () => {
    const p = await driver.preview(steps.removeOldGroup, { signal });
    expect(summary(p)).toEqual([
      ["delete", "pulumi-nodejs:dynamic/local:AutoScalingGroup", "asg-old"],
    ]);
    const res = await driver.apply(steps.removeOldGroup, { signal });
    expect(res.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 1 });
    expect(await asgOf("old")).toBeUndefined();
    expect((await driver.outputs(signal)).asgNames).toEqual({
      standard: `${sb.name}-standard`,
      new: `${sb.name}-new`,
    });
    expect((await driver.preview(steps.removeOldGroup, { signal })).resources).toEqual([]);
    await until200(String((await driver.outputs(signal)).nginxServiceUrl), steps.removeOldGroup);
  });

  it("an apply cancelled through its AbortSignal stops gracefully: no lock, nothing pending", async () => {
    // Given: an update that scales the echoserver, cancelled once that update is running.
    const bigger = {
      ...steps.removeOldGroup,
      echoserver: { ...steps.removeOldGroup.echoserver, replicas: 5 },
    };
    const ac = new AbortController();
    const err = await driver
      .apply(bigger, {
        signal: ac.signal,
        onProgress: (x) => {
          if (x.current?.startsWith(`updating ${WORKLOAD.echoserver.name}`)) ac.abort();
        },
      })
      .catch((e: unknown) => e);
    // Then: the caller gets an interruption (exit 130), and the CLI left a clean stack.
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).exitCode).toBe(ExitCode.interrupted);
    expect(
      await findStackLocks(localStackPaths(stateDir).backendDir, "eks-runbook", sb.name),
    ).toEqual([]);
    expect(await checkpointPendingOps()).toEqual([]);
    expect((await driver.recover(signal)).actions).toEqual([]);
    // The spec on record is still the last one applied in full.
    expect(await driver.appliedSpec(signal)).toEqual(steps.removeOldGroup);
    await driver.apply(steps.removeOldGroup, { signal });
    expect((await driver.preview(steps.removeOldGroup, { signal })).resources).toEqual([]);
  });
});
