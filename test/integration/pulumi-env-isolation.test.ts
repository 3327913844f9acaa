import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localProcessEnv } from "../../src/sandbox/child-env.js";
import { requireComponents } from "../../src/sandbox/doctor.js";
import { localPulumiCommand, writeIsolatingPulumi } from "../../src/sandbox/pulumi-command.js";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";

// What a local Pulumi run's plugins see of the operator's environment, measured inside a
// real dynamic provider (a plugin process the real Pulumi CLI starts): the operator's
// AWS keys and Pulumi token must not be there. The Automation API starts the CLI with
// process.env merged in, so the control run (the CLI started directly) shows the leak the
// isolating wrapper closes.

const tc = toolchain();
const PLANTED = {
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  PULUMI_ACCESS_TOKEN: "pul-0123456789abcdef0123456789abcdef01234567",
};
let tmp: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  await requireComponents(["pulumi", "pulumi-resource-pulumi-nodejs", "node"]);
  tmp = await mkdtemp(join(tmpdir(), "pulumi-env-"));
  for (const [k, v] of Object.entries(PLANTED)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Runs `pulumi up` of a program whose dynamic resource reports its plugin's env names. */
async function pluginEnvNames(
  name: string,
  command: (env: Record<string, string>) => Promise<PulumiCommand>,
) {
  const auto = await import("@pulumi/pulumi/automation/index.js");
  const nodeModules = resolve(
    dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json")),
    "..",
    "..",
  );
  const envVars = {
    ...pulumiEnv(tc, localProcessEnv()),
    PULUMI_CONFIG_PASSPHRASE: "env-isolation-test",
    PULUMI_BACKEND_URL: `file://${tmp}`,
    NODE_PATH: nodeModules,
  };
  const ws = await auto.LocalWorkspace.create({
    workDir: tmp,
    pulumiHome: tc.pulumiHome,
    pulumiCommand: await command(envVars),
    envVars,
    projectSettings: {
      name: "env-isolation",
      runtime: "nodejs",
      backend: { url: `file://${tmp}` },
    },
  });
  const stack = await auto.Stack.createOrSelect(name, ws);
  const res = await stack.up({
    // As the driver does: an event stream (the CLI's --event-log needs the debug commands).
    onEvent: () => {},
    program: async () => {
      const pulumi = await import("@pulumi/pulumi");
      class Probe extends pulumi.dynamic.Resource {
        declare readonly names: unknown;
        constructor(n: string) {
          super(
            {
              // Runs in the plugin process: report which variables it was given.
              async create() {
                return { id: "probe", outs: { names: Object.keys(process.env).sort() } };
              },
            },
            n,
            { names: undefined },
          );
        }
      }
      return { names: new Probe("probe").names };
    },
  });
  return res.outputs.names?.value as string[];
}

describe("local Pulumi runs get a minimal environment", () => {
  it("the plugin of a run through the isolating wrapper sees no operator credentials", async () => {
    // Control: the CLI started the Automation API's way inherits everything.
    const leaky = await pluginEnvNames("control", async () => {
      const auto = await import("@pulumi/pulumi/automation/index.js");
      return auto.PulumiCommand.get({ root: tc.dirs.pulumi });
    });
    expect(leaky).toContain("AWS_SECRET_ACCESS_KEY");

    const names = await pluginEnvNames("isolated", async (envVars) =>
      localPulumiCommand(
        tc,
        await writeIsolatingPulumi(join(tmp, "cli"), tc.bin.pulumi, Object.keys(envVars)),
      ),
    );
    expect(names).not.toContain("AWS_SECRET_ACCESS_KEY");
    expect(names).not.toContain("PULUMI_ACCESS_TOKEN");
    expect(names).toEqual(expect.arrayContaining(["PATH", "PULUMI_HOME", "NODE_PATH"]));
  });
});
