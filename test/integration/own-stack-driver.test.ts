import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/engine/errors.js";
import { intentViolations } from "../../src/engine/intent.js";
import { currentOwner } from "../../src/engine/run-lock.js";
import { type ProjectDriverOptions, ProjectInfraDriver } from "../../src/infra/project-driver.js";
import { LOCK_TAG } from "../../src/infra/stack-tag-lock.js";
import { stepIntent } from "../../src/migrations/own-stack/intent.js";
import {
  MOTO_CREDENTIALS,
  MOTO_REGION,
  type MotoPaths,
  motoEndpoint,
  motoPaths,
  startMoto,
  stopMoto,
} from "../../src/sandbox/moto.js";
import { allocatePortBlock } from "../../src/sandbox/ports.js";
import { localPulumiCommand } from "../../src/sandbox/pulumi-command.js";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";
import { hasLanguageHost, LANGUAGE_HOST_MISSING } from "../helpers/language-host.js";
import { requireForTest, uniqueName } from "../helpers/sandbox.js";

// The driver for your own Pulumi project, on the real engine: LocalWorkspace on a project
// directory (the example's node groups, run by the Node.js language host), a file backend
// with a passphrase, moto's Auto Scaling API. Config steps set stack config; a manual edit
// of the program is previewed and checked against the step's intent before anything applies.

const repoRoot = join(import.meta.dirname, "../..");
const example = join(repoRoot, "examples/own-stack");
// Under the repository, so the program resolves @pulumi/pulumi from its node_modules.
const root = join(repoRoot, ".state", `own-stack-driver-${process.pid}`);
const projectDir = join(root, "prog");
const stackFile = join(projectDir, "Pulumi.dev.yaml");
let moto: MotoPaths;
let endpoint: string;
let driver: ProjectInfraDriver;
let driverOptions: ProjectDriverOptions;
let asg: AutoScalingClient;
const signal = new AbortController().signal;

const PROGRAM = (pool: {
  name: string;
  labels: string;
}) => `import * as pulumi from "@pulumi/pulumi";
import { NodeGroup, NodeGroupProvider } from "./node-groups.ts";
const config = new pulumi.Config();
export const blue = new NodeGroup("pool-blue", {
  name: "${pool.name}",
  endpoint: config.require("asgEndpoint"),
  region: "us-east-1",
  cluster: "own-stack-driver",
  instanceType: "m5.large",
  kubeletVersion: "1.33",
  size: config.getNumber("blueSize") ?? 1,
  labels: ${pool.labels},
}, { provider: new NodeGroupProvider("node-groups") }).id;
`;

async function desired(name: string): Promise<number | undefined> {
  const out = await asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return out.AutoScalingGroups?.[0]?.DesiredCapacity;
}

const languageHost = hasLanguageHost();
if (!languageHost) console.warn(`own-stack driver: ${LANGUAGE_HOST_MISSING}`);

beforeAll(async () => {
  if (!languageHost) return;
  await requireForTest(["moto", "pulumi"]);
  const tc = toolchain();
  const env = pulumiEnv(tc);
  mkdirSync(join(root, "moto"), { recursive: true });
  mkdirSync(join(root, "backend"), { recursive: true });
  mkdirSync(projectDir, { recursive: true });
  for (const f of ["Pulumi.yaml", "package.json", "node-groups.ts"])
    writeFileSync(join(projectDir, f), readFileSync(join(example, f)));
  writeFileSync(
    join(projectDir, "index.ts"),
    PROGRAM({ name: "odr-blue", labels: '{ pool: "blue" }' }),
  );
  moto = motoPaths(join(root, "moto"), join(root, "moto"));
  const [port] = (await allocatePortBlock(uniqueName("own-stack-moto"), 1)) as [number];
  await startMoto(tc, moto, port);
  endpoint = motoEndpoint(port);
  asg = new AutoScalingClient({ region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS });
  // Your backend and secrets, as you would have them: a file backend and a passphrase.
  env.PULUMI_BACKEND_URL = `file://${join(root, "backend")}`;
  env.PULUMI_CONFIG_PASSPHRASE = "own-stack-driver-test";
  driverOptions = {
    projectDir,
    stack: "dev",
    managedKeys: ["blueSize"],
    env,
    pulumiCommand: () => localPulumiCommand(tc),
    previewTimeoutMs: 180_000,
    applyTimeoutMs: 180_000,
  };
  driver = new ProjectInfraDriver(driverOptions);
  // The user's existing stack: created and deployed before the migration.
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "dev", workDir: projectDir },
    { pulumiCommand: await localPulumiCommand(tc), envVars: env },
  );
  await stack.setConfig("asgEndpoint", { value: endpoint });
  await stack.up();
}, 300_000);

afterAll(async () => {
  asg?.destroy();
  if (moto) await stopMoto(moto);
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!languageHost)("your own Pulumi project through the LocalWorkspace driver", () => {
  it("previews a config step without writing your stack file, then applies it", async () => {
    expect(await driver.appliedSpec(signal)).toBeUndefined();
    expect(await driver.currentConfig(signal)).toEqual({});
    const before = readFileSync(stackFile, "utf8");
    const spec = { config: { blueSize: "3" }, edits: [] };
    const p = await driver.preview(spec, { signal, dryRun: true });
    expect(p.resources.map((r) => `${r.op} ${r.name}`)).toEqual(["update pool-blue"]);
    expect(intentViolations(p, stepIntent({ updates: ["pool-blue"] }))).toEqual([]);
    expect(readFileSync(stackFile, "utf8")).toBe(before);
    expect(await desired("odr-blue")).toBe(1);

    const r = await driver.apply(spec, { signal, ...(p.plan ? { plan: p.plan } : {}) });
    expect(r.changes.update).toBe(1);
    expect(await desired("odr-blue")).toBe(3);
    expect(readFileSync(stackFile, "utf8")).toContain("shop:blueSize");
    expect(await driver.appliedSpec(signal)).toEqual(spec);
    expect(await driver.appliedProgramHash(signal)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("refuses a manual edit outside the step's intent before anything applies", async () => {
    const intent = stepIntent({ updates: ["pool-blue"] });
    // A typo in the group's name: Pulumi would replace (delete and recreate) the group.
    writeFileSync(
      join(projectDir, "index.ts"),
      PROGRAM({ name: "odr-blu", labels: '{ pool: "blue" }' }),
    );
    const spec = { config: { blueSize: "3" }, edits: ["relabel"] };
    const bad = await driver.preview(spec, { signal });
    const v = intentViolations(bad, intent);
    expect(v.map((x) => `${x.op} ${x.name}`)).toEqual(["replace pool-blue"]);
    expect(await desired("odr-blue")).toBe(3);

    // The right edit: a label, updated in place.
    writeFileSync(
      join(projectDir, "index.ts"),
      PROGRAM({ name: "odr-blue", labels: '{ pool: "blue", tier: "web" }' }),
    );
    const good = await driver.preview(spec, { signal });
    expect(intentViolations(good, intent)).toEqual([]);
    expect(good.resources.map((r) => `${r.op} ${r.name}`)).toEqual(["update pool-blue"]);

    // Changed again after the preview: apply refuses the plan it was given.
    writeFileSync(
      join(projectDir, "index.ts"),
      PROGRAM({ name: "odr-blue", labels: '{ pool: "blue", tier: "api" }' }),
    );
    await expect(driver.apply(spec, { signal, plan: good.plan! })).rejects.toThrow(
      /changed after its preview/,
    );
    const fresh = await driver.preview(spec, { signal });
    await driver.apply(spec, { signal, plan: fresh.plan! });
    expect(await driver.appliedSpec(signal)).toEqual(spec);
    expect(await desired("odr-blue")).toBe(3);
  });

  it("rolls back to a spec without the key by removing it; a clean stack needs no recovery", async () => {
    await driver.apply({ config: {}, edits: [] }, { signal });
    expect(readFileSync(stackFile, "utf8")).not.toContain("shop:blueSize");
    expect(await desired("odr-blue")).toBe(1);
    expect((await driver.recover(signal)).actions).toEqual([]);
  });

  it("one run per stack: a tag on your stack refuses a run from another machine; only the tag changes", async () => {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
    const stack = await LocalWorkspace.selectStack(
      { stackName: "dev", workDir: projectDir },
      { pulumiCommand: await localPulumiCommand(toolchain()), envVars: driverOptions.env },
    );
    const configBefore = await stack.getAllConfig();
    const ci = { pid: 4242, host: "ci-runner-7", user: "ci", command: "eks-runbook --plan p.yaml" };
    const owner = { ...ci, startedAt: new Date().toISOString() };
    const warnings: string[] = [];
    const release = await driver.lockStack({ owner, warn: (m) => warnings.push(m), signal });
    expect(JSON.parse((await stack.workspace.listTags("dev"))[LOCK_TAG] ?? "{}")).toMatchObject(ci);
    // A second machine's run (its own driver, same project and backend) is refused, by name.
    const other = new ProjectInfraDriver(driverOptions);
    const refused = await other
      .lockStack({
        owner: currentOwner({ command: "eks-runbook --plan p.yaml", user: "alice" }),
        warn: (m) => warnings.push(m),
        signal,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(InputError);
    expect((refused as InputError).message).toMatch(
      /stack dev is locked by a run on another machine: pid 4242 on ci-runner-7/,
    );
    await release();
    expect((await stack.workspace.listTags("dev"))[LOCK_TAG]).toBeUndefined();
    expect(await stack.getAllConfig()).toEqual(configBefore);
    expect(warnings).toEqual([]);
  });
});
