import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import type {
  AboutResponse,
  GetProgramDependenciesResponse,
  GetRequiredPackagesResponse,
  GetRequiredPluginsResponse,
  LanguageHandshakeResponse,
  RunResponse,
} from "@pulumi/pulumi/proto/language_pb.js";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";
import { hasLanguageHost, LANGUAGE_HOST_MISSING } from "../helpers/language-host.js";

// The rehearsal language host (toolchain/rehearsal-language-host) on its own, spoken to over
// gRPC as the engine speaks to it, with @pulumi/pulumi's own generated stubs: the plugin
// handshake (its port on stdout), what it reports, the plugins it finds in a program's
// node_modules, and the exact command line and environment Run gives @pulumi/pulumi's
// cmd/run (replaced here by a recorder through PULUMI_LANGUAGE_NODEJS_RUN_PATH, which
// Pulumi's host honours too). A real program on the real engine runs in own-stack-driver.

const require = createRequire(import.meta.url);
const langPb =
  require("@pulumi/pulumi/proto/language_pb.js") as typeof import("@pulumi/pulumi/proto/language_pb.js");
const langGrpc =
  require("@pulumi/pulumi/proto/language_grpc_pb.js") as typeof import("@pulumi/pulumi/proto/language_grpc_pb.js");
// The grpc-js and google-protobuf instances the stubs were generated against.
const fromStubs = createRequire(require.resolve("@pulumi/pulumi/proto/language_grpc_pb.js"));
const grpc = fromStubs("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const structPb = fromStubs(
  "google-protobuf/google/protobuf/struct_pb.js",
) as typeof import("google-protobuf/google/protobuf/struct_pb.js");
const emptyPb = fromStubs(
  "google-protobuf/google/protobuf/empty_pb.js",
) as typeof import("google-protobuf/google/protobuf/empty_pb.js");

type Client = InstanceType<typeof langGrpc.LanguageRuntimeClient>;

const root = join(tmpdir(), `rehearsal-language-host-${process.pid}`);
const program = join(root, "program");
const recordFile = join(root, "run-record.json");
const recorder = join(root, "recorder.cjs");

/** The language host the engine would pick (first on the toolchain's PATH), if any. */
function hostBinary(): string | undefined {
  return (pulumiEnv(toolchain()).PATH ?? "")
    .split(delimiter)
    .map((d) => join(d, "pulumi-language-nodejs"))
    .find((f) => existsSync(f));
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value));
}

/** A unary call, from the callback form the generated client offers. */
function call<Res>(invoke: (cb: (err: Error | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res))));
}

function info(options: Record<string, unknown> = {}) {
  return new langPb.ProgramInfo()
    .setRootDirectory(program)
    .setProgramDirectory(program)
    .setEntryPoint("index.ts")
    .setOptions(structPb.Struct.fromJavaScript(options as Record<string, never>));
}

const bin = hasLanguageHost() ? hostBinary() : undefined;
// Only the rehearsal host is tested here (Pulumi's own may be installed instead).
const version = bin ? execFileSync(bin, ["-version"], { encoding: "utf8" }) : "";
const rehearsal = version.includes("eks-runbook rehearsal language host");
if (!bin) console.warn(`rehearsal language host: ${LANGUAGE_HOST_MISSING}`);
else if (!rehearsal) console.warn(`rehearsal language host: skipped, ${bin} is another host`);
let host: ChildProcess | undefined;
let client: Client;

beforeAll(async () => {
  if (!bin || !rehearsal) return;

  // A program with the node_modules a user's would have: two plugin packages (one of them
  // twice, nested), a package that is no plugin, a third-party one that names no plugin, a
  // policy pack (its plugins are not the program's) and a linked workspace package.
  rmSync(root, { recursive: true, force: true });
  writeJson(join(program, "package.json"), {
    name: "shop",
    dependencies: { "@pulumi/kubernetes": "^4.25.0", "left-pad": "1.3.0" },
    devDependencies: { typescript: "^5", "not-installed": "1.0.0" },
  });
  const nm = join(program, "node_modules");
  const k8s = { name: "@pulumi/kubernetes", version: "4.25.0", pulumi: { resource: true } };
  writeJson(join(nm, "@pulumi/kubernetes/package.json"), k8s);
  writeJson(join(nm, "@pulumi/eks/node_modules/@pulumi/kubernetes/package.json"), k8s);
  writeJson(join(nm, "@acme/widgets/package.json"), {
    name: "@acme/widgets",
    version: "1.2.0",
    pulumi: {
      resource: true,
      name: "acme",
      version: "1.2.1",
      parameterization: { name: "widgets", version: "0.3.0", value: "AQID" },
    },
  });
  writeJson(join(nm, "left-pad/package.json"), { name: "left-pad", version: "1.3.0" });
  writeJson(join(nm, "typescript/package.json"), { name: "typescript", version: "5.9.3" });
  writeJson(join(nm, "@other/unnamed/package.json"), {
    name: "@other/unnamed",
    version: "2.0.0",
    pulumi: { resource: true },
  });
  writeJson(join(program, "policy/node_modules/@pulumi/aws/package.json"), {
    name: "@pulumi/aws",
    version: "7.0.0",
    pulumi: { resource: true },
  });
  writeFileSync(join(program, "policy/PulumiPolicy.yaml"), "runtime: nodejs\n");
  writeJson(join(root, "linked/random/package.json"), {
    name: "@pulumi/random",
    version: "4.18.0",
    pulumi: { resource: true },
  });
  symlinkSync(join(root, "linked/random"), join(nm, "@pulumi/random"));
  writeFileSync(join(program, "index.ts"), "export {};\n");
  // Stands in for @pulumi/pulumi's cmd/run: records how it was started, exits as told.
  writeFileSync(
    recorder,
    `const fs = require("node:fs");
const env = {};
for (const k of ["PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "PULUMI_NODEJS_TYPESCRIPT", "PULUMI_NODEJS_TSCONFIG_PATH"]) env[k] = process.env[k];
fs.writeFileSync(${JSON.stringify(recordFile)}, JSON.stringify({ argv: process.argv.slice(2), execArgv: process.execArgv, cwd: process.cwd(), env }));
const config = JSON.parse(process.env.PULUMI_CONFIG || "{}");
process.exit(Number(config["test:config:exit"] || 0));
`,
  );

  const env = { ...pulumiEnv(toolchain()), PULUMI_LANGUAGE_NODEJS_RUN_PATH: recorder };
  host = spawn(bin, [], { env, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    host?.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve(Number(line));
    });
    host?.once("exit", (code) => reject(new Error(`host exited (${code}) before its port`)));
  });
  client = new langGrpc.LanguageRuntimeClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
});

afterAll(() => {
  client?.close();
  host?.kill("SIGTERM");
  rmSync(root, { recursive: true, force: true });
});

async function run(
  configure: (req: InstanceType<typeof langPb.RunRequest>) => void,
  options: Record<string, unknown> = {},
) {
  rmSync(recordFile, { force: true });
  const req = new langPb.RunRequest()
    .setMonitorAddress("127.0.0.1:40001")
    .setProject("shop")
    .setStack("dev")
    .setOrganization("organization")
    .setParallel(16)
    .setInfo(info(options));
  configure(req);
  const res = await call<RunResponse>((cb) => client.run(req, cb));
  let record:
    | { argv: string[]; execArgv: string[]; cwd: string; env: Record<string, string | undefined> }
    | undefined;
  try {
    record = JSON.parse(readFileSync(recordFile, "utf8"));
  } catch {}
  return { error: res.getError(), bail: res.getBail(), record };
}

describe.skipIf(!rehearsal)("the rehearsal language host, over gRPC", () => {
  it("starts as a plugin: its port alone on stdout; reports the pinned Pulumi version", async () => {
    expect(version.trim()).toBe(
      `v${toolchain().versions.pulumi} eks-runbook rehearsal language host (a stand-in for Pulumi's pulumi-language-nodejs)`,
    );
    const pluginInfo = await call<PluginInfo>((cb) =>
      client.getPluginInfo(new emptyPb.Empty(), cb),
    );
    expect(pluginInfo.getVersion()).toBe(toolchain().versions.pulumi);
    const about = await call<AboutResponse>((cb) =>
      client.about(new langPb.AboutRequest().setInfo(info()), cb),
    );
    expect(about.getVersion()).toMatch(/^v24\./);
    expect(about.getExecutable()).toMatch(/node$/);
    expect(about.getMetadataMap().get("languageHost")).toMatch(/rehearsal/);
  });

  it("finds the plugin packages in the program's node_modules, as the engine asks for them", async () => {
    const res = await call<GetRequiredPackagesResponse>((cb) =>
      client.getRequiredPackages(new langPb.GetRequiredPackagesRequest().setInfo(info()), cb),
    );
    const found = res
      .getPackagesList()
      .map((p) => {
        const param = p.getParameterization();
        return `${p.getKind()} ${p.getName()} ${p.getVersion()}${param ? ` [${param.getName()} ${param.getVersion()} ${Buffer.from(param.getValue_asU8()).toString("hex")}]` : ""}`;
      })
      .sort();
    expect(found).toEqual([
      "resource acme v1.2.1 [widgets 0.3.0 010203]",
      "resource kubernetes v4.25.0",
      "resource random v4.18.0",
    ]);
    // The older call engines made before packages: the same plugins.
    const plugins = await call<GetRequiredPluginsResponse>((cb) =>
      client.getRequiredPlugins(new langPb.GetRequiredPluginsRequest().setInfo(info()), cb),
    );
    expect(plugins.getPluginsList().map((p) => `${p.getName()} ${p.getVersion()}`)).toEqual(
      expect.arrayContaining(["kubernetes v4.25.0", "acme v1.2.1", "random v4.18.0"]),
    );
    expect(plugins.getPluginsList()).toHaveLength(3);
  });

  it("lists the program's direct dependencies at their installed versions", async () => {
    const res = await call<GetProgramDependenciesResponse>((cb) =>
      client.getProgramDependencies(new langPb.GetProgramDependenciesRequest().setInfo(info()), cb),
    );
    expect(res.getDependenciesList().map((d) => `${d.getName()}@${d.getVersion()}`)).toEqual([
      "@pulumi/kubernetes@4.25.0",
      "left-pad@1.3.0",
      "typescript@5.9.3",
    ]);
  });

  it("refuses to install dependencies, saying what to run instead", async () => {
    const stream = client.installDependencies(
      new langPb.InstallDependenciesRequest().setInfo(info()),
    );
    const err = await new Promise<Error & { code?: number }>((resolve) => {
      stream.on("error", resolve);
      stream.on("data", () => undefined);
    });
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.message).toContain(`run \`npm install\` in ${program} yourself`);
  });

  it("runs cmd/run with the engine's addresses, the run's identity, config and runtime options", async () => {
    await call<LanguageHandshakeResponse>((cb) =>
      client.handshake(
        new langPb.LanguageHandshakeRequest().setEngineAddress("127.0.0.1:40002"),
        cb,
      ),
    );
    const { error, bail, record } = await run(
      (req) => {
        req.setDryrun(true).setArgsList(["--verbose", "x"]);
        req.getConfigMap().set("shop:blueSize", "3").set("aws:region", "us-east-1");
        req.setConfigsecretkeysList(["shop:token"]);
      },
      { typescript: false, tsconfig: "tsconfig.pulumi.json", nodeargs: "--no-warnings" },
    );
    expect({ error, bail }).toEqual({ error: "", bail: false });
    expect(record?.argv).toEqual([
      "--monitor",
      "127.0.0.1:40001",
      "--engine",
      "127.0.0.1:40002",
      "--organization",
      "organization",
      "--project",
      "shop",
      "--stack",
      "dev",
      "--root-directory",
      program,
      "--pwd",
      program,
      "--dry-run",
      "--parallel",
      "16",
      "index.ts",
      "--verbose",
      "x",
    ]);
    expect(record?.execArgv).toEqual(["--no-warnings"]);
    expect(record?.cwd).toBe(program);
    expect(JSON.parse(record?.env.PULUMI_CONFIG ?? "")).toEqual({
      "shop:config:blueSize": "3",
      "aws:config:region": "us-east-1",
    });
    expect(JSON.parse(record?.env.PULUMI_CONFIG_SECRET_KEYS ?? "")).toEqual(["shop:token"]);
    expect(record?.env.PULUMI_NODEJS_TYPESCRIPT).toBeUndefined();
    expect(record?.env.PULUMI_NODEJS_TSCONFIG_PATH).toBe("tsconfig.pulumi.json");

    // TypeScript is the default, as with Pulumi's host; an update is no dry run.
    const ts = await run(() => undefined);
    expect(ts.record?.env.PULUMI_NODEJS_TYPESCRIPT).toBe("true");
    expect(ts.record?.argv).not.toContain("--dry-run");
    expect(JSON.parse(ts.record?.env.PULUMI_CONFIG_SECRET_KEYS ?? "")).toEqual([]);
  });

  it("returns the program's failure as the real host does: an error, or a bail after exit 32", async () => {
    const failed = await run((req) => req.getConfigMap().set("test:exit", "3"));
    expect(failed).toMatchObject({
      error: "Program exited with non-zero exit code: 3",
      bail: false,
    });
    const bailed = await run((req) => req.getConfigMap().set("test:exit", "32"));
    expect(bailed).toMatchObject({ error: "", bail: true });
    const badOption = await run(() => undefined, { typescript: "yes" });
    expect(badOption.error).toBe("runtime option typescript must be a boolean");
    expect(badOption.record).toBeUndefined();
    const badKey = await run((req) => req.getConfigMap().set("no-namespace", "1"));
    expect(badKey.error).toMatch(/could not parse "no-namespace" as a configuration key/);
  });
});
