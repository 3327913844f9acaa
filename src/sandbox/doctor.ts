import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PrerequisiteError } from "../engine/errors.js";
import { which } from "../which.js";
import { DEBIAN_NGINX_MODULES } from "./dataplane/nginx-config.js";
import { runCapture } from "./run-capture.js";
import { pulumiEnv, setupCommand, type ToolchainPaths, toolchain } from "./toolchain.js";

// `eks-runbook sandbox doctor`: every component of the local target, whether it is there,
// whether it runs, and whether it reports the pinned version; for anything wrong, the exact
// command that fixes it.

export type ComponentStatus = "ok" | "missing" | "broken";

export interface ComponentCheck {
  name: string;
  /** The pinned version, or what the tool reports for unpinned system tools. */
  version: string;
  path: string;
  status: ComponentStatus;
  detail: string;
  /** Command that builds or installs it (empty when status is ok). */
  fix: string;
}

export const COMPONENT_NAMES = [
  "etcd",
  "kwok",
  "kwokctl",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "pulumi",
  "pulumi-resource-pulumi-nodejs",
  "pulumi-resource-kubernetes",
  "moto",
  "node",
  "nginx",
  "hey",
  "wrk",
  "tmux",
] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

interface Spec {
  name: ComponentName;
  version: string;
  path: string;
  /** Toolchain dir whose `.complete` marker says the build finished (pinned components). */
  dir?: string;
  fix: string;
  /** Runs the binary; returns an error detail, or the reported version line when fine. */
  probe: (signal?: AbortSignal) => Promise<{ ok: boolean; detail: string }>;
}

const SYSTEM_FIX = "npm run setup";

function firstLine(s: string): string {
  return s.trim().split("\n")[0]?.trim() ?? "";
}

/** Runs `path args` and checks that its output contains `expect`. */
function versionProbe(path: string, args: string[], expect: string, env?: NodeJS.ProcessEnv) {
  return async (signal?: AbortSignal) => {
    const r = await runCapture(path, args, { signal, env, timeoutMs: 30_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    if (r.error) return { ok: false, detail: `does not run: ${r.error}` };
    if (!out.includes(expect)) {
      return {
        ok: false,
        detail: `reports "${firstLine(out) || `exit ${r.code}`}", expected ${expect}`,
      };
    }
    return { ok: true, detail: lineWith(out, expect).trim() };
  };
}

function lineWith(out: string, needle: string): string {
  return out.split("\n").find((l) => l.includes(needle)) ?? "";
}

function npmPackageVersion(repoRoot: string, pkg: string): string | undefined {
  try {
    const json = JSON.parse(
      readFileSync(join(repoRoot, "node_modules", pkg, "package.json"), "utf8"),
    ) as { version?: string };
    return json.version;
  } catch {
    return undefined;
  }
}

function specs(tc: ToolchainPaths): Spec[] {
  const v = tc.versions;
  const kube = (name: ComponentName, path: string): Spec => ({
    name,
    version: v.kubernetes,
    path,
    dir: tc.dirs.kubernetes,
    fix: setupCommand("kubernetes", tc),
    probe:
      name === "kubectl"
        ? versionProbe(path, ["version", "--client"], `v${v.kubernetes}`)
        : versionProbe(path, ["--version"], `Kubernetes v${v.kubernetes}`),
  });
  const pulumiFix = setupCommand("pulumi", tc);
  const k8sPluginFix = setupCommand("pulumi-kubernetes", tc);
  return [
    {
      name: "etcd",
      version: v.etcd,
      path: tc.bin.etcd,
      dir: tc.dirs.etcd,
      fix: setupCommand("etcd", tc),
      probe: versionProbe(tc.bin.etcd, ["--version"], `etcd Version: ${v.etcd}`),
    },
    {
      name: "kwok",
      version: v.kwok,
      path: tc.bin.kwok,
      dir: tc.dirs.kwok,
      fix: setupCommand("kwok", tc),
      probe: versionProbe(tc.bin.kwok, ["--version"], `v${v.kwok}`),
    },
    {
      name: "kwokctl",
      version: v.kwok,
      path: tc.bin.kwokctl,
      dir: tc.dirs.kwok,
      fix: setupCommand("kwok", tc),
      probe: versionProbe(tc.bin.kwokctl, ["--version"], `v${v.kwok}`),
    },
    kube("kube-apiserver", tc.bin.kubeApiserver),
    kube("kube-controller-manager", tc.bin.kubeControllerManager),
    kube("kube-scheduler", tc.bin.kubeScheduler),
    kube("kubectl", tc.bin.kubectl),
    {
      name: "pulumi",
      version: v.pulumi,
      path: tc.bin.pulumi,
      dir: tc.dirs.pulumi,
      fix: pulumiFix,
      probe: async (signal) => {
        // Exactly what the Automation API parses: the whole stdout must be the version.
        const r = await runCapture(tc.bin.pulumi, ["version"], {
          signal,
          env: pulumiEnv(tc),
          timeoutMs: 30_000,
        });
        if (r.error) return { ok: false, detail: `does not run: ${r.error}` };
        const got = r.stdout.trim();
        return got === `v${v.pulumi}`
          ? { ok: true, detail: got }
          : { ok: false, detail: `reports "${got}", expected v${v.pulumi}` };
      },
    },
    {
      name: "pulumi-resource-pulumi-nodejs",
      version: v.pulumi,
      path: tc.bin.pulumiResourcePulumiNodejs,
      dir: tc.dirs.pulumi,
      fix: pulumiFix,
      probe: async () => {
        try {
          accessSync(tc.bin.pulumiResourcePulumiNodejs, constants.X_OK);
          return { ok: true, detail: "dynamic-provider launcher next to pulumi" };
        } catch {
          return { ok: false, detail: "not executable" };
        }
      },
    },
    {
      name: "pulumi-resource-kubernetes",
      version: v.pulumiKubernetes,
      path: tc.kubernetesPlugin,
      dir: tc.dirs.pulumiKubernetes,
      fix: k8sPluginFix,
      probe: async () => {
        // The engine picks a cached plugin only at exactly the version the npm package asks for.
        const npm = npmPackageVersion(tc.repoRoot, "@pulumi/kubernetes");
        if (npm !== v.pulumiKubernetes) {
          return {
            ok: false,
            detail: `@pulumi/kubernetes in node_modules is ${npm ?? "absent"}, the plugin is pinned to ${v.pulumiKubernetes}; keep them equal (package.json and pins/versions.env)`,
          };
        }
        try {
          accessSync(tc.kubernetesPlugin, constants.X_OK);
        } catch {
          return { ok: false, detail: `not installed in ${tc.pulumiHome}/plugins` };
        }
        return { ok: true, detail: `installed in PULUMI_HOME, matches @pulumi/kubernetes ${npm}` };
      },
    },
    {
      name: "moto",
      version: v.moto,
      path: tc.bin.motoServer,
      dir: tc.dirs.moto,
      fix: setupCommand("moto", tc),
      probe: async (signal) => {
        const r = await runCapture(
          tc.bin.motoPython,
          ["-c", "import moto, flask; print(moto.__version__)"],
          { signal, timeoutMs: 60_000 },
        );
        if (r.error || r.code !== 0)
          return { ok: false, detail: `venv broken: ${r.error ?? firstLine(r.stderr)}` };
        const got = r.stdout.trim();
        const entry = await runCapture(tc.bin.motoServer, ["--help"], {
          signal,
          timeoutMs: 60_000,
        });
        if (entry.error || entry.code !== 0) {
          return {
            ok: false,
            detail: `moto_server does not start: ${entry.error ?? firstLine(entry.stderr)}`,
          };
        }
        return got === v.moto
          ? { ok: true, detail: `moto ${got}` }
          : { ok: false, detail: `venv has moto ${got}, expected ${v.moto}` };
      },
    },
    {
      name: "node",
      version: "24",
      path: tc.bin.node,
      fix: "npm install",
      probe: async (signal) => {
        const r = await runCapture(tc.bin.node, ["--version"], { signal });
        if (r.error) return { ok: false, detail: `does not run: ${r.error}` };
        const got = r.stdout.trim();
        return got.startsWith("v24.")
          ? { ok: true, detail: got }
          : { ok: false, detail: `reports ${got}, expected v24.x` };
      },
    },
    nginxWithLua(),
    systemTool("hey", []),
    systemTool("wrk", ["--version"]),
    systemTool("tmux", ["-V"]),
  ];
}

/** nginx and the Lua module its ingress pods load (endpoints arrive without a reload). */
function nginxWithLua(): Spec {
  const spec = systemTool("nginx", ["-v"]);
  const lua = join(DEBIAN_NGINX_MODULES, "ngx_http_lua_module.so");
  return {
    ...spec,
    probe: async (signal) => {
      if (!existsSync(lua)) {
        return { ok: false, detail: `${lua} missing (Debian package libnginx-mod-http-lua)` };
      }
      return spec.probe(signal);
    },
  };
}

/** A Debian tool on PATH: present and starts; its version is whatever it reports. */
function systemTool(name: ComponentName, args: string[]): Spec {
  const path = which(name) ?? "";
  return {
    name,
    version: "",
    path,
    fix: SYSTEM_FIX,
    probe: async (signal) => {
      const r = await runCapture(path, args, { signal, timeoutMs: 10_000 });
      // Some of these print usage and exit non-zero; starting at all is what matters.
      if (r.error) return { ok: false, detail: `does not run: ${r.error}` };
      return { ok: true, detail: firstLine(`${r.stdout}\n${r.stderr}`.trim()) };
    },
  };
}

async function check(spec: Spec, signal?: AbortSignal): Promise<ComponentCheck> {
  const base = { name: spec.name, version: spec.version, path: spec.path };
  if (!spec.path || !existsSync(spec.path)) {
    const where = spec.path || `${spec.name} (not on PATH)`;
    return { ...base, status: "missing", detail: `${where} not found`, fix: spec.fix };
  }
  if (spec.dir && !existsSync(join(spec.dir, ".complete"))) {
    return {
      ...base,
      status: "broken",
      detail: `${spec.dir} has no .complete marker (interrupted build)`,
      fix: spec.fix,
    };
  }
  const r = await spec.probe(signal);
  if (!spec.version && r.ok) {
    base.version = r.detail.match(/\d+\.\d+(\.\d+)?/)?.[0] ?? "";
  }
  return r.ok
    ? { ...base, status: "ok", detail: r.detail, fix: "" }
    : { ...base, status: "broken", detail: r.detail, fix: spec.fix };
}

/** Checks every component (or only `names`), in parallel. */
export async function doctor(
  opts: { signal?: AbortSignal; names?: readonly ComponentName[]; toolchain?: ToolchainPaths } = {},
): Promise<ComponentCheck[]> {
  const tc = opts.toolchain ?? toolchain();
  const all = specs(tc).filter((s) => !opts.names || opts.names.includes(s.name));
  return Promise.all(all.map((s) => check(s, opts.signal)));
}

/** The components a running sandbox needs. */
export const SANDBOX_COMPONENTS: readonly ComponentName[] = [
  "etcd",
  "kwok",
  "kwokctl",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "moto",
  "node",
];

/** What a Pulumi run on the local target needs. */
export const PULUMI_COMPONENTS: readonly ComponentName[] = [
  "pulumi",
  "pulumi-resource-pulumi-nodejs",
  "pulumi-resource-kubernetes",
  "node",
];

/** Throws a PrerequisiteError naming every missing or broken component and its fix. */
export async function requireComponents(
  names: readonly ComponentName[],
  opts: { signal?: AbortSignal; toolchain?: ToolchainPaths } = {},
): Promise<ComponentCheck[]> {
  const checks = await doctor({ ...opts, names });
  const bad = checks.filter((c) => c.status !== "ok");
  if (bad.length > 0) {
    const fixes = [...new Set(bad.map((c) => c.fix))];
    throw new PrerequisiteError(
      `toolchain not ready: ${bad.map((c) => `${c.name} ${c.status} (${c.detail})`).join("; ")}`,
      `Run \`npm run setup\` (or just: ${fixes.map((f) => `\`${f}\``).join(", ")}), then \`eks-runbook sandbox doctor\`.`,
    );
  }
  return checks;
}
