import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError, RunbookError } from "../../src/engine/errors.js";
import { currentOwner, type LockOwner } from "../../src/engine/run-lock.js";
import { PROJECT_NAME, PulumiInfraDriver } from "../../src/infra/pulumi-driver.js";
import { recordedSpec } from "../../src/infra/recorded-spec.js";
import type { MigrationSpec } from "../../src/infra/spec.js";
import { stepSpecs } from "../../src/infra/spec-steps.js";
import { LOCK_TAG } from "../../src/infra/stack-tag-lock.js";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";
import { prepareAws } from "../../src/targets/aws-prepare.js";
import { requireForTest } from "../helpers/sandbox.js";

// The AWS target's state-with-the-stack, on the real Pulumi engine with a file backend that
// two "machines" (two workspaces, two state homes) share. The program stands in for the
// AWS one (no AWS here): one component per node group, the same outputs the runbook reads
// (asgNames, runbookSpec); the driver under test is the real one.

const tc = toolchain();
const signal = new AbortController().signal;
let tmp: string;
let backend: string;
const STACK = "prod";

/** Extra components a "drifted" program registers (set between a preview and its apply). */
let drift: string[] = [];

function program(spec: MigrationSpec): pulumi.automation.PulumiFn {
  return async () => {
    const groups = spec.nodeGroups.map(
      (g) => new pulumi.ComponentResource("test:index:NodeGroup", `${g.name}-nodes`, {}),
    );
    const extra = drift.map((d) => new pulumi.ComponentResource("test:index:Extra", d, {}));
    const asgNames = Object.fromEntries(spec.nodeGroups.map((g) => [g.name, `${g.name}-asg-1`]));
    return { asgNames, runbookSpec: recordedSpec(spec, [...groups, ...extra]) };
  };
}

function driver(machine: string): PulumiInfraDriver {
  const env = {
    ...pulumiEnv(tc),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "aws-stack-state-test",
  };
  return new PulumiInfraDriver({
    stack: STACK,
    target: "aws",
    workDir: join(tmp, machine, "workspace"),
    backendUrl: `file://${backend}`,
    env,
    pulumiCommand: async () => {
      const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
      return PulumiCommand.get({ root: dirname(dirname(tc.bin.pulumi)) });
    },
    program,
    previewTimeoutMs: 120_000,
    applyTimeoutMs: 120_000,
  });
}

const pins = {
  region: "eu-west-1",
  amiIds: { "1.32": "ami-0aaa", "1.33": "ami-0bbb" },
  addonVersions: {},
};
const steps = stepSpecs();
const s1 = { ...steps.provision, aws: pins };
const s3 = { ...steps.createNewGroup, aws: pins };
const s7 = { ...steps.scaleOldToZero, aws: pins };
const s8 = { ...steps.removeOldGroup, aws: pins };

beforeAll(async () => {
  await requireForTest(["pulumi"]);
  tmp = await mkdtemp(join(tmpdir(), "aws-stack-state-"));
  backend = join(tmp, "backend");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(backend, { recursive: true });
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function stackFiles(): Promise<string[]> {
  const dir = join(backend, ".pulumi", "stacks", PROJECT_NAME);
  return existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith(".json")) : [];
}

describe("AWS stack state with the stack (real Pulumi engine, file backend)", () => {
  it("a dry run of a stack that does not exist creates nothing in the backend", async () => {
    const a = driver("machine-a");
    const p = await a.preview(s1, { signal, dryRun: true });
    expect(p.changes.create).toBeGreaterThanOrEqual(2);
    expect(p.plan).toBeUndefined();
    expect(await stackFiles()).toEqual([]);
    expect(await a.appliedSpec(signal)).toBeUndefined();
  });

  it("a preview saves a plan; the apply runs exactly it; another machine reads the applied spec", async () => {
    const a = driver("machine-a");
    const p = await a.preview(s1, { signal });
    expect(p.plan).toMatch(/plans\/prod-.*\.json$/);
    expect(existsSync(p.plan ?? "")).toBe(true);
    await a.apply(s1, { signal, ...(p.plan ? { plan: p.plan } : {}) });
    // Machine B: its own workspace (no Pulumi.prod.yaml, no config cache), same backend.
    const b = driver("machine-b");
    expect(await b.appliedSpec(signal)).toEqual(s1);
  });

  it("an apply whose program drifted from the approved plan is refused by the engine", async () => {
    const a = driver("machine-a");
    const p = await a.preview(s3, { signal });
    expect(p.resources.map((r) => r.name)).toEqual(["new-nodes"]);
    drift = ["surprise"];
    try {
      const err = await a
        .apply(s3, { signal, ...(p.plan ? { plan: p.plan } : {}) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunbookError);
      expect((err as Error).message).toMatch(/plan|surprise/i);
    } finally {
      drift = [];
    }
    // Nothing of the refused update is recorded as applied.
    expect(await driver("machine-b").appliedSpec(signal)).toEqual(s1);
  });

  it("a plan from another spec is refused before anything runs", async () => {
    const a = driver("machine-a");
    const p = await a.preview(s3, { signal });
    const err = await a
      .apply(s7, { signal, ...(p.plan ? { plan: p.plan } : {}) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunbookError);
    expect((err as Error).message).toMatch(/approved plan does not belong/);
  });

  it("the removed group's ASG name stays with the stack after step 8", async () => {
    const a = driver("machine-a");
    for (const s of [s3, s7, s8]) {
      const p = await a.preview(s, { signal });
      await a.apply(s, { signal, ...(p.plan ? { plan: p.plan } : {}) });
    }
    const out = await driver("machine-b").outputs(signal);
    expect(out.asgNames).toEqual({ standard: "standard-asg-1", new: "new-asg-1" });
    expect(out.retiredAsgNames).toEqual({ old: "old-asg-1" });
    expect(await driver("machine-b").appliedSpec(signal)).toEqual(s8);
  });

  it("a run that asks for another region than the stack's is refused (exit 2, names it)", async () => {
    const saved = { ...process.env };
    try {
      // The operator's environment on machine C: same backend, its own state home.
      Object.assign(process.env, pulumiEnv(tc), {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "aws-stack-state-test",
        EKS_RUNBOOK_HOME: join(tmp, "machine-c"),
      });
      const err = await prepareAws(
        { target: "aws", stack: STACK, clusterVersion: "1.33", region: "us-west-2" },
        signal,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).exitCode).toBe(2);
      expect((err as InputError).message).toBe(
        "stack prod lives in region eu-west-1 (pinned when it was provisioned); this run asks for us-west-2 (--region)",
      );
      expect((err as InputError).hint).toMatch(/--region eu-west-1/);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe("one run per stack across machines: the stack's lock tag (real engine, file backend)", () => {
  const owner = (over: Partial<LockOwner> = {}): LockOwner => ({
    ...currentOwner({ command: "eks-runbook --target aws", user: "alice" }),
    ...over,
  });
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const lockTag = async (machine: string) =>
    (await readTags(machine))[LOCK_TAG] as string | undefined;
  async function readTags(machine: string): Promise<Record<string, string>> {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
    const ws = await LocalWorkspace.create({
      workDir: join(tmp, machine, "workspace"),
      envVars: {
        ...pulumiEnv(tc),
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "aws-stack-state-test",
      },
      pulumiCommand: await (await import("@pulumi/pulumi/automation/index.js")).PulumiCommand.get({
        root: dirname(dirname(tc.bin.pulumi)),
      }),
    });
    return ws.listTags(STACK);
  }

  it("a run on machine B is refused while machine A's run holds the stack, naming it", async () => {
    const release = await driver("machine-a").lockStack({ owner: owner(), warn, signal });
    expect(JSON.parse((await lockTag("machine-a")) ?? "{}")).toMatchObject({
      pid: process.pid,
      user: "alice",
    });
    const other = owner({ host: "ci-runner-7", pid: 4242, user: "ci" });
    const refused = await driver("machine-b")
      .lockStack({ owner: other, warn, signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(InputError);
    // Same host here, so A's live pid is checked: refused as a live run.
    expect((refused as InputError).message).toMatch(
      new RegExp(`stack prod is locked by another run: pid ${process.pid} `),
    );
    await release();
    expect(await lockTag("machine-a")).toBeUndefined();
  });

  it("a lock from another host is broken only with --break-lock; the old owner's release leaves it", async () => {
    const foreign = owner({ host: "laptop-of-bob", pid: 999_999, user: "bob" });
    const releaseForeign = await driver("machine-a").lockStack({ owner: foreign, warn, signal });
    const refused = await driver("machine-b")
      .lockStack({ owner: owner(), warn, signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((refused as InputError).message).toMatch(
      /locked by a run on another machine: pid 999999 on laptop-of-bob .*cannot be checked from here/,
    );
    expect((refused as InputError).hint).toMatch(/--break-lock/);
    const release = await driver("machine-b").lockStack({
      owner: owner(),
      breakLock: true,
      warn,
      signal,
    });
    expect(warnings.at(-1)).toMatch(/broke stack prod's lock of pid 999999 on laptop-of-bob/);
    await releaseForeign(); // bob's run ending late must not free alice's lock
    expect(JSON.parse((await lockTag("machine-a")) ?? "{}")).toMatchObject({ user: "alice" });
    await release();
    expect(await lockTag("machine-a")).toBeUndefined();
  });

  it("a lock left by a killed run on this host is taken over with a warning", async () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    const releaseDead = await driver("machine-a").lockStack({
      owner: owner({ pid: dead }),
      warn,
      signal,
    });
    void releaseDead; // never called: the run was SIGKILLed
    const release = await driver("machine-b").lockStack({ owner: owner(), warn, signal });
    expect(warnings.at(-1)).toMatch(
      new RegExp(`took over stack prod's lock of pid ${dead} .*not running`),
    );
    await release();
  });
});
