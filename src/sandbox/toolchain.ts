import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { PrerequisiteError } from "../engine/errors.js";
import { localProcessEnv } from "./child-env.js";

// Where the local target's pinned toolchain lives. Versions come from pins/versions.env
// (the same file scripts/setup-toolchain.sh sources); binaries live in a cache outside the
// repo, one directory per component and version, complete when it holds a `.complete` file.

export interface ToolchainVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  pulumi: string;
  pulumiKubernetes: string;
  moto: string;
}

export interface ToolchainPaths {
  /** The project's root (package.json, toolchain/, scripts/). */
  repoRoot: string;
  /** ${EKS_RUNBOOK_CACHE:-~/.cache/eks-runbook} */
  cacheRoot: string;
  versions: ToolchainVersions;
  dirs: {
    etcd: string;
    kwok: string;
    kubernetes: string;
    /** Also the `root` for Automation API `PulumiCommand.get` (it runs <root>/bin/pulumi). */
    pulumi: string;
    pulumiKubernetes: string;
    moto: string;
  };
  bin: {
    etcd: string;
    kwok: string;
    kwokctl: string;
    kubeApiserver: string;
    kubeControllerManager: string;
    kubeScheduler: string;
    kubectl: string;
    pulumi: string;
    pulumiResourcePulumiNodejs: string;
    pulumiResourceKubernetes: string;
    motoServer: string;
    motoPython: string;
    /** The project's Node.js 24 (the `node` dev dependency). */
    node: string;
  };
  /** PULUMI_HOME used for every Pulumi run (holds the installed kubernetes plugin). */
  pulumiHome: string;
  /** The kubernetes resource plugin as installed in PULUMI_HOME. */
  kubernetesPlugin: string;
  /** Directory holding the project's `node` (node_modules/.bin). */
  nodeBinDir: string;
  /** Where named sandboxes keep their state. */
  sandboxesDir: string;
}

const VERSION_KEYS: Record<keyof ToolchainVersions, string> = {
  kubernetes: "KUBERNETES_VERSION",
  etcd: "ETCD_VERSION",
  kwok: "KWOK_VERSION",
  pulumi: "PULUMI_VERSION",
  pulumiKubernetes: "PULUMI_KUBERNETES_VERSION",
  moto: "MOTO_VERSION",
};

/**
 * The project root, found by walking up from this module: the code runs from src/ under
 * vitest and from dist/ after tsc, and both sit below the root.
 */
export function findRepoRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, "pins", "versions.env")) && existsSync(join(dir, "package.json")))
      return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new PrerequisiteError(
        `pins/versions.env not found above ${from}`,
        "Run eks-runbook from its package or repository; the toolchain pins ship with it.",
      );
    }
    dir = parent;
  }
}

/** Parses KEY=VALUE lines (comments and blank lines ignored, optional quotes stripped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

export function readVersions(repoRoot: string = findRepoRoot()): ToolchainVersions {
  const file = join(repoRoot, "pins", "versions.env");
  const env = parseEnvFile(readFileSync(file, "utf8"));
  const versions = {} as ToolchainVersions;
  for (const [key, name] of Object.entries(VERSION_KEYS) as [keyof ToolchainVersions, string][]) {
    const v = env[name];
    if (!v) {
      throw new PrerequisiteError(`${file} has no ${name}`, `Add ${name}=<version> to ${file}.`);
    }
    versions[key] = v;
  }
  return versions;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.EKS_RUNBOOK_CACHE;
  return fromEnv && fromEnv !== "" ? fromEnv : join(homedir(), ".cache", "eks-runbook");
}

let cached: ToolchainPaths | undefined;

/** Every path of the toolchain. Pure path arithmetic: nothing is checked or run here. */
export function toolchain(
  opts: { repoRoot?: string; env?: NodeJS.ProcessEnv } = {},
): ToolchainPaths {
  if (!opts.repoRoot && !opts.env && cached) return cached;
  const repoRoot = opts.repoRoot ?? findRepoRoot();
  const cache = cacheRoot(opts.env);
  const versions = readVersions(repoRoot);
  const tc = join(cache, "toolchain");
  const dirs = {
    etcd: join(tc, `etcd-${versions.etcd}`),
    kwok: join(tc, `kwok-${versions.kwok}`),
    kubernetes: join(tc, `kubernetes-${versions.kubernetes}`),
    pulumi: join(tc, `pulumi-${versions.pulumi}`),
    pulumiKubernetes: join(tc, `pulumi-kubernetes-${versions.pulumiKubernetes}`),
    moto: join(tc, `moto-${versions.moto}`),
  };
  const pulumiHome = join(cache, "pulumi-home");
  const nodeBinDir = join(repoRoot, "node_modules", ".bin");
  const paths: ToolchainPaths = {
    repoRoot,
    cacheRoot: cache,
    versions,
    dirs,
    bin: {
      etcd: join(dirs.etcd, "bin", "etcd"),
      kwok: join(dirs.kwok, "bin", "kwok"),
      kwokctl: join(dirs.kwok, "bin", "kwokctl"),
      kubeApiserver: join(dirs.kubernetes, "bin", "kube-apiserver"),
      kubeControllerManager: join(dirs.kubernetes, "bin", "kube-controller-manager"),
      kubeScheduler: join(dirs.kubernetes, "bin", "kube-scheduler"),
      kubectl: join(dirs.kubernetes, "bin", "kubectl"),
      pulumi: join(dirs.pulumi, "bin", "pulumi"),
      pulumiResourcePulumiNodejs: join(dirs.pulumi, "bin", "pulumi-resource-pulumi-nodejs"),
      pulumiResourceKubernetes: join(dirs.pulumiKubernetes, "bin", "pulumi-resource-kubernetes"),
      motoServer: join(dirs.moto, "bin", "moto_server"),
      motoPython: join(dirs.moto, "venv", "bin", "python"),
      node: join(nodeBinDir, "node"),
    },
    pulumiHome,
    kubernetesPlugin: join(
      pulumiHome,
      "plugins",
      `resource-kubernetes-v${versions.pulumiKubernetes}`,
      "pulumi-resource-kubernetes",
    ),
    nodeBinDir,
    sandboxesDir: join(cache, "sandboxes"),
  };
  if (!opts.repoRoot && !opts.env) cached = paths;
  return paths;
}

/** The command that builds one toolchain component, as the operator would type it. */
export function setupCommand(
  component: string | undefined,
  tc: ToolchainPaths = toolchain(),
): string {
  let script = relative(process.cwd(), join(tc.repoRoot, "scripts", "setup-toolchain.sh"));
  if (script.startsWith("..")) script = join(tc.repoRoot, "scripts", "setup-toolchain.sh");
  return component ? `bash ${script} ${component}` : `bash ${script}`;
}

/**
 * The environment every Pulumi run uses: our PULUMI_HOME (where the kubernetes plugin is
 * installed), the pinned CLI's directory first on PATH (so its bundled
 * pulumi-resource-pulumi-nodejs is found) followed by the project's Node.js 24 (dynamic
 * providers run on it), no plugin downloads, no update check. The Automation API's version
 * check is left on: PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK is removed.
 */
export function pulumiEnv(
  tc: ToolchainPaths = toolchain(),
  // Not the operator's whole environment: no AWS keys or Pulumi tokens for local runs.
  base: NodeJS.ProcessEnv = localProcessEnv(),
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  delete env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK;
  env.PULUMI_HOME = tc.pulumiHome;
  env.PATH = [dirname(tc.bin.pulumi), tc.nodeBinDir, base.PATH ?? ""].filter(Boolean).join(":");
  env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
  env.PULUMI_SKIP_UPDATE_CHECK = "true";
  return env;
}
