import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PULUMI_COMPONENTS } from "../../src/sandbox/doctor.js";
import { localPulumiCommand } from "../../src/sandbox/pulumi-command.js";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";
import { requireForTest, startTestSandbox, type TestSandbox } from "../helpers/sandbox.js";

// The real Pulumi engine (pinned CLI, version check on) with the pinned Kubernetes provider
// applies a ConfigMap on the sandbox through the Automation API: local file backend,
// passphrase secrets, and a second preview that shows no changes.

const tc = toolchain();
let sb: TestSandbox;
let work: string;
let stack: Stack;
const SECRET = `secret-${randomBytes(8).toString("hex")}`;

beforeAll(async () => {
  await requireForTest(PULUMI_COMPONENTS);
  // The version check must pass for real.
  delete process.env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK;
  sb = await startTestSandbox("pulumi");
  work = mkdtempSync(join(tmpdir(), "pulumi-smoke-"));
});

afterAll(async () => {
  await sb?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("Pulumi on the sandbox", () => {
  it("runs the pinned CLI with the version check on", async () => {
    const cmd = await PulumiCommand.get({ root: tc.dirs.pulumi });
    expect(cmd.version?.toString()).toBe(tc.versions.pulumi);
    expect((await localPulumiCommand(tc)).command).toBe(join(tc.dirs.pulumi, "bin", "pulumi"));
  });

  it("previews and applies a ConfigMap, then previews no changes", async () => {
    const backend = join(work, "backend");
    mkdirSync(backend);
    const passphraseFile = join(work, "passphrase");
    writeFileSync(passphraseFile, randomBytes(24).toString("hex"), { mode: 0o600 });
    expect(statSync(passphraseFile).mode & 0o777).toBe(0o600);

    const kubeconfig = sb.info.kubeconfigPath;
    const program = async () => {
      const k8s = await import("@pulumi/kubernetes");
      const provider = new k8s.Provider("sandbox", { kubeconfig });
      const cm = new k8s.core.v1.ConfigMap(
        "smoke",
        { metadata: { name: "smoke", namespace: "default" }, data: { hello: "world" } },
        { provider },
      );
      return { name: cm.metadata.name };
    };
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "smoke", projectName: "sandbox-smoke", program },
      {
        workDir: work,
        pulumiHome: tc.pulumiHome,
        pulumiCommand: await localPulumiCommand(tc),
        envVars: {
          ...pulumiEnv(tc),
          PULUMI_BACKEND_URL: `file://${backend}`,
          PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
        },
        projectSettings: {
          name: "sandbox-smoke",
          runtime: "nodejs",
          backend: { url: `file://${backend}` },
        },
      },
    );
    await stack.setConfig("token", { value: SECRET, secret: true });

    const first = await stack.preview({ diff: true });
    expect(first.changeSummary).toMatchObject({ create: 3 }); // stack, provider, ConfigMap

    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.name?.value).toBe("smoke");
    const cm = await sb.core.readNamespacedConfigMap({ name: "smoke", namespace: "default" });
    expect(cm.data).toEqual({ hello: "world" });

    const second = await stack.preview();
    expect(second.changeSummary).toEqual({ same: 3 });

    // The secret is stored encrypted with the passphrase, never in plain text.
    const files = readdirSync(backend, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath, d.name), "utf8"));
    const config = readFileSync(join(work, "Pulumi.smoke.yaml"), "utf8");
    expect(config).toContain("secure:");
    for (const text of [...files, config]) expect(text).not.toContain(SECRET);

    const destroyed = await stack.destroy();
    expect(destroyed.summary.result).toBe("succeeded");
    await expect(
      sb.core.readNamespacedConfigMap({ name: "smoke", namespace: "default" }),
    ).rejects.toMatchObject({ code: 404 });
  });
});
