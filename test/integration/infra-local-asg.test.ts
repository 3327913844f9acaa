import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
} from "@aws-sdk/client-auto-scaling";
import type { LocalWorkspace, Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrerequisiteError } from "../../src/engine/errors.js";
import { decodeNodeGroupTags, encodeNodeGroupTags } from "../../src/infra/asg-tags.js";
import { PreviewCollector } from "../../src/infra/engine-events.js";
import type { AsgInputs } from "../../src/infra/local-asg.js";
import { requireComponents } from "../../src/sandbox/doctor.js";
import {
  MOTO_CREDENTIALS,
  MOTO_DEFAULT_AMI,
  MOTO_REGION,
  motoEndpoint,
  motoPaths,
  startMoto,
  stopMoto,
} from "../../src/sandbox/moto.js";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";
import { freePort } from "./infra-helpers.js";

// The local node-group provider under the real Pulumi engine against a real moto server:
// the provider is serialised into the stack, run by the engine's dynamic-provider host on
// Node 24, and creates, resizes, replaces and deletes Auto Scaling groups.

const tc = toolchain();
let tmp: string;
let moto: ReturnType<typeof motoPaths>;
let endpoint: string;
let asg: AutoScalingClient;
let stack: Stack;
let groups: Record<string, Omit<AsgInputs, "region" | "imageId">>;

function group(
  name: string,
  instanceType: string,
  size: number,
): Omit<AsgInputs, "region" | "imageId"> {
  return {
    asgName: `infra-asg-test-${name}`,
    instanceType,
    desired: size,
    min: size,
    max: Math.max(size, 1),
    tags: encodeNodeGroupTags({
      cluster: "infra-asg-test",
      nodeGroup: name,
      instanceType,
      kubeletVersion: "1.33",
      labels: {},
      taints: [],
    }),
  };
}

async function program(): Promise<Record<string, unknown>> {
  const { LocalAutoScalingGroup } = await import("../../src/infra/local-asg.js");
  const out: Record<string, unknown> = {};
  for (const [key, g] of Object.entries(groups)) {
    const r = new LocalAutoScalingGroup(`asg-${key}`, {
      ...g,
      region: MOTO_REGION,
      imageId: MOTO_DEFAULT_AMI,
    });
    out[key] = r.asgName;
  }
  return out;
}

async function describe1(name: string) {
  const res = await asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return res.AutoScalingGroups?.[0];
}

async function previewChanges() {
  const collector = new PreviewCollector();
  await stack.preview({ program, onEvent: (e) => collector.add(e) });
  return collector.result();
}

beforeAll(async () => {
  // moto is started through its venv's python (as the sandbox does), not its script.
  await requireComponents(["pulumi", "pulumi-resource-pulumi-nodejs", "node"]);
  if (!existsSync(tc.bin.motoPython)) {
    throw new PrerequisiteError(
      `moto is not installed (${tc.bin.motoPython})`,
      "Run `npm run setup`.",
    );
  }
  tmp = await mkdtemp(join(tmpdir(), "infra-asg-"));
  const port = await freePort();
  moto = motoPaths(tmp, tmp);
  await startMoto(tc, moto, port);
  endpoint = motoEndpoint(port);
  asg = new AutoScalingClient({ region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS });
  const auto = await import("@pulumi/pulumi/automation/index.js");
  const nodeModules = resolve(
    dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json")),
    "..",
    "..",
  );
  const ws = await auto.LocalWorkspace.create({
    workDir: tmp,
    pulumiHome: tc.pulumiHome,
    pulumiCommand: await auto.PulumiCommand.get({ root: tc.dirs.pulumi }),
    envVars: {
      ...pulumiEnv(tc),
      PULUMI_CONFIG_PASSPHRASE: "infra-asg-test",
      PULUMI_BACKEND_URL: `file://${tmp}`,
      EKS_RUNBOOK_MOTO_ENDPOINT: endpoint,
      NODE_PATH: nodeModules,
    },
    projectSettings: {
      name: "infra-asg-test",
      runtime: "nodejs",
      backend: { url: `file://${tmp}` },
    },
  });
  stack = await auto.Stack.createOrSelect("asg", ws);
});

afterAll(async () => {
  if (moto) await stopMoto(moto);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("local Auto Scaling groups through the dynamic provider", () => {
  it("creates each group with its capacity, launch configuration and tags", async () => {
    groups = { standard: group("standard", "t3.medium", 2), old: group("old", "t3.2xlarge", 3) };
    const res = await stack.up({ program });
    expect(res.summary.result).toBe("succeeded");
    expect(res.outputs.old?.value).toBe("infra-asg-test-old");
    const old = await describe1("infra-asg-test-old");
    expect(old).toMatchObject({ DesiredCapacity: 3, MinSize: 3, MaxSize: 3 });
    expect(old?.Instances).toHaveLength(3);
    expect(old?.LaunchConfigurationName).toBe("infra-asg-test-old-t3.2xlarge");
    const tags = Object.fromEntries((old?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
    expect(decodeNodeGroupTags(tags)).toMatchObject({
      cluster: "infra-asg-test",
      nodeGroup: "old",
      instanceType: "t3.2xlarge",
    });
  });

  it("a re-run with the same inputs changes nothing", async () => {
    const p = await previewChanges();
    expect(p.resources).toEqual([]);
    expect(p.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0 });
  });

  it("a capacity change is an in-place update of that group only, with its old and new values", async () => {
    groups = { ...groups, old: { ...groups.old!, desired: 0, min: 0 } };
    const p = await previewChanges();
    expect(p.resources).toHaveLength(1);
    expect(p.resources[0]).toMatchObject({ op: "update", name: "asg-old", replaceKeys: [] });
    expect(p.resources[0]?.diffs).toEqual([
      { path: "desired", kind: "update", old: 3, new: 0 },
      { path: "min", kind: "update", old: 3, new: 0 },
    ]);
    await stack.up({ program });
    const old = await describe1("infra-asg-test-old");
    expect(old).toMatchObject({ DesiredCapacity: 0, MinSize: 0, MaxSize: 3 });
    expect(old?.Instances ?? []).toHaveLength(0);
  });

  it("a new ASG name replaces the group (the old one is deleted first)", async () => {
    groups = { ...groups, standard: { ...groups.standard!, asgName: "infra-asg-test-standard-2" } };
    const p = await previewChanges();
    expect(p.resources).toHaveLength(1);
    expect(p.resources[0]).toMatchObject({
      op: "replace",
      name: "asg-standard",
      replaceKeys: ["asgName"],
    });
    await stack.up({ program });
    expect(await describe1("infra-asg-test-standard")).toBeUndefined();
    expect((await describe1("infra-asg-test-standard-2"))?.Instances).toHaveLength(2);
  });

  it("removing a group from the program force-deletes it and its launch configuration", async () => {
    groups = { standard: groups.standard! };
    const p = await previewChanges();
    expect(p.resources.map((r) => [r.op, r.name])).toEqual([["delete", "asg-old"]]);
    await stack.up({ program });
    expect(await describe1("infra-asg-test-old")).toBeUndefined();
    const lcs = await asg.send(new DescribeLaunchConfigurationsCommand({}));
    expect((lcs.LaunchConfigurations ?? []).map((l) => l.LaunchConfigurationName)).toEqual([
      "infra-asg-test-standard-2-t3.medium",
    ]);
    // Inline destroy runs through the workspace's program.
    (stack.workspace as LocalWorkspace).program = program;
    await stack.destroy();
    expect(await describe1("infra-asg-test-standard-2")).toBeUndefined();
  });
});
