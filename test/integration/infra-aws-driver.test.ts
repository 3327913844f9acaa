import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PrerequisiteError } from "../../src/engine/errors.js";
import { DEFAULT_SPEC } from "../../src/infra/spec-steps.js";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";
import { createInfraDriver } from "../../src/targets/infra-driver.js";
import { requireForTest } from "../helpers/sandbox.js";

// The aws target cannot run here (no AWS), but its driver can fail the way an operator's
// machine fails: no `pulumi` on PATH, or the AWS providers' plugins not installed. Both must
// be typed prerequisites with the command that fixes them, not a stack trace.

const tc = toolchain();
const signal = new AbortController().signal;
const savedPath = process.env.PATH;
let tmp: string;

beforeAll(async () => {
  await requireForTest(["pulumi", "node"]);
  tmp = await mkdtemp(join(tmpdir(), "infra-aws-"));
});

afterEach(() => {
  process.env.PATH = savedPath;
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("aws target prerequisites", () => {
  it("no pulumi on PATH: a prerequisite error that says to install it", async () => {
    process.env.PATH = tc.nodeBinDir;
    const driver = await createInfraDriver({
      target: "aws",
      stack: "dev",
      workDir: join(tmp, "a"),
    });
    const err = await driver.preview(DEFAULT_SPEC, { signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect((err as PrerequisiteError).message).toBe("the Pulumi CLI is missing or unusable");
    expect((err as PrerequisiteError).hint).toMatch(/Install the Pulumi CLI/);
  });

  it("the AWS providers' plugins missing: names the plugin and the install command", async () => {
    // The operator's own pulumi, with a DIY backend and an empty plugin cache.
    process.env.PATH = [dirname(tc.bin.pulumi), savedPath].join(":");
    const env = {
      ...pulumiEnv(tc),
      PULUMI_HOME: join(tmp, "home"),
      PULUMI_BACKEND_URL: `file://${tmp}`,
      PULUMI_CONFIG_PASSPHRASE: "infra-aws-test",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    const driver = await createInfraDriver({
      target: "aws",
      stack: "dev",
      workDir: join(tmp, "b"),
      region: "us-west-2",
      env,
    });
    // The aws target always previews a spec with its pins (region, AMIs) set at provisioning.
    const pinned = {
      ...DEFAULT_SPEC,
      aws: {
        region: "us-west-2",
        amiIds: { "1.32": "ami-0a", "1.33": "ami-0b" },
        addonVersions: {},
      },
    };
    const err = await driver.preview(pinned, { signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect((err as PrerequisiteError).message).toMatch(
      /^the Pulumi plugin "(aws|awsx|eks|kubernetes)" is not installed$/,
    );
    expect((err as PrerequisiteError).hint).toMatch(
      /pulumi plugin install resource (aws 7\.48\.0|awsx 3\.9\.0|eks 4\.3\.0|kubernetes 4\.25\.0)`/,
    );
  });
});
