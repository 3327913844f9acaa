import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kwokctlConfigYaml, POD_CIDR } from "../../src/sandbox/kwok-config.js";
import { validateSandboxName } from "../../src/sandbox/layout.js";
import {
  cacheRoot,
  findRepoRoot,
  parseEnvFile,
  pulumiEnv,
  readVersions,
  toolchain,
} from "../../src/sandbox/toolchain.js";

const tmp = mkdtempSync(join(tmpdir(), "tc-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("toolchain pins", () => {
  it("parses KEY=VALUE lines, ignoring comments and quotes", () => {
    expect(parseEnvFile("# c\nA=1\n\nB='x y'\nC=\"z\"\n  D=4  \nnot a line\n")).toEqual({
      A: "1",
      B: "x y",
      C: "z",
      D: "4",
    });
  });

  it("finds the repo root from a nested module path and reads every pin", () => {
    const root = join(tmp, "repo");
    mkdirSync(join(root, "pins"), { recursive: true });
    mkdirSync(join(root, "dist", "sandbox"), { recursive: true });
    writeFileSync(join(root, "package.json"), "{}");
    writeFileSync(
      join(root, "pins", "versions.env"),
      "KUBERNETES_VERSION=1.33.1\nETCD_VERSION=3.5.0\nKWOK_VERSION=0.7.0\nPULUMI_VERSION=3.1.0\nPULUMI_KUBERNETES_VERSION=4.2.0\nMOTO_VERSION=5.0.0\n",
    );
    expect(findRepoRoot(join(root, "dist", "sandbox", "toolchain.js"))).toBe(root);
    expect(readVersions(root)).toEqual({
      kubernetes: "1.33.1",
      etcd: "3.5.0",
      kwok: "0.7.0",
      pulumi: "3.1.0",
      pulumiKubernetes: "4.2.0",
      moto: "5.0.0",
    });
    const tc = toolchain({ repoRoot: root, env: { EKS_RUNBOOK_CACHE: join(tmp, "cache") } });
    expect(tc.bin.kubeApiserver).toBe(
      join(tmp, "cache", "toolchain", "kubernetes-1.33.1", "bin", "kube-apiserver"),
    );
    expect(tc.kubernetesPlugin).toBe(
      join(
        tmp,
        "cache",
        "pulumi-home",
        "plugins",
        "resource-kubernetes-v4.2.0",
        "pulumi-resource-kubernetes",
      ),
    );
  });

  it("names the missing pin", () => {
    const root = join(tmp, "bad");
    mkdirSync(join(root, "pins"), { recursive: true });
    writeFileSync(join(root, "pins", "versions.env"), "KUBERNETES_VERSION=1.33.1\n");
    expect(() => readVersions(root)).toThrow(/ETCD_VERSION/);
  });

  it("defaults the cache to ~/.cache/eks-runbook unless EKS_RUNBOOK_CACHE is set", () => {
    expect(cacheRoot({ HOME: "/h" })).toMatch(/\.cache\/eks-runbook$/);
    expect(cacheRoot({ EKS_RUNBOOK_CACHE: "/x" })).toBe("/x");
  });
});

describe("pulumiEnv", () => {
  it("puts the pinned CLI then Node 24 first on PATH, never downloads, keeps the version check", () => {
    const tc = toolchain();
    const env = pulumiEnv(tc, {
      PATH: "/usr/bin",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      KEEP: "me",
    });
    expect(env.PATH).toBe(`${join(tc.dirs.pulumi, "bin")}:${tc.nodeBinDir}:/usr/bin`);
    expect(env.PULUMI_HOME).toBe(tc.pulumiHome);
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
    expect(env.PULUMI_SKIP_UPDATE_CHECK).toBe("true");
    expect(env).not.toHaveProperty("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK");
    expect(env.KEEP).toBe("me");
  });
});

describe("kwokctl configuration", () => {
  const ports = {
    kubeApiserver: 21001,
    etcd: 21002,
    etcdPeer: 21003,
    kubeControllerManager: 21004,
    kubeScheduler: 21005,
    kwokController: 21006,
    moto: 21007,
  };
  const docs = parseAllDocuments(
    kwokctlConfigYaml(toolchain({ repoRoot: findRepoRoot() }), ports),
  ).map(
    (d) =>
      d.toJS() as {
        kind: string;
        options?: Record<string, unknown>;
        metadata?: { name: string };
      } & Record<string, unknown>,
  );

  it("binds everything to loopback on the chosen ports with the pinned binaries", () => {
    const kwokctl = docs.find((d) => d.kind === "KwokctlConfiguration")!;
    expect(kwokctl.options).toMatchObject({
      runtime: "binary",
      bindAddress: "127.0.0.1",
      kubeApiserverPort: 21001,
      etcdPort: 21002,
      etcdPeerPort: 21003,
      kwokControllerPort: 21006,
    });
    expect(String(kwokctl.options?.kubeApiserverBinary)).toMatch(
      /kubernetes-.*\/bin\/kube-apiserver$/,
    );
    const patches = kwokctl.componentsPatches as {
      name: string;
      extraArgs: { key: string; value: string }[];
    }[];
    const apiArgs = patches.find((p) => p.name === "kube-apiserver")!.extraArgs;
    expect(apiArgs).toContainEqual({ key: "advertise-address", value: "127.0.0.1" });
    expect(apiArgs).toContainEqual({ key: "endpoint-reconciler-type", value: "none" });
  });

  it("gives pods an ordinary pod CIDR and replaces pod-delete with the grace-period stage", () => {
    expect(docs.find((d) => d.kind === "KwokConfiguration")?.options?.cidr).toBe(POD_CIDR);
    expect(POD_CIDR.startsWith("10.")).toBe(true);
    const stages = docs.filter((d) => d.kind === "Stage").map((d) => d.metadata?.name);
    expect(stages.sort()).toEqual(["pod-complete", "pod-delete", "pod-ready"]);
    const del = docs.find(
      (d) => d.kind === "Stage" && d.metadata?.name === "pod-delete",
    ) as unknown as {
      spec: { delay: { durationFrom: { expressionFrom: string } } };
    };
    expect(del.spec.delay.durationFrom.expressionFrom).toContain(".metadata.deletionTimestamp");
  });
});

describe("sandbox names", () => {
  it("accepts DNS-like names and rejects others naming the flag", () => {
    expect(validateSandboxName("eks-runbook")).toBe("eks-runbook");
    expect(() => validateSandboxName("Bad_Name")).toThrow(/not valid/);
    try {
      validateSandboxName("../x");
    } catch (err) {
      expect((err as { hint: string }).hint).toContain("--name");
    }
  });
});
