import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { EngineEvent } from "../../src/engine/events.js";
import { localPulumiCommand } from "../../src/sandbox/pulumi-command.js";
import { pulumiEnv, toolchain } from "../../src/sandbox/toolchain.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { CliProcess } from "../helpers/cli-process.js";
import { hasLanguageHost, LANGUAGE_HOST_MISSING } from "../helpers/language-host.js";
import { startTestSandbox, type TestSandbox } from "../helpers/sandbox.js";

// Your own stack, end to end through the real binary: the example program (its node groups
// are the sandbox's moto-backed Auto Scaling groups, its workloads its own code) deployed as
// a user would have it, then migrated by its plan: config steps applied by the runbook, a
// manual step driven by editing the program (a wrong edit refused before confirmation, the
// right one previewed, checked and applied), the run killed in the middle and resumed, two
// workloads moved with 0 failed requests. Bad plans are refused with exit 2 first.

const example = join(repoRoot, "examples/own-stack");
// Under the repository, so the program resolves its packages from its node_modules.
const root = join(repoRoot, ".state", `own-stack-e2e-${process.pid}`);
const projectDir = join(root, "shop");
const home = join(root, "home");

function writePlan(name: string, edit: (plan: Record<string, unknown>) => void): string {
  const plan = parseYaml(readFileSync(join(example, "migration.yaml"), "utf8")) as Record<
    string,
    unknown
  >;
  plan.pulumi = { projectDir: "shop", stack: "dev" };
  edit(plan);
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, stringifyYaml(plan));
  return file;
}

/** The user's project: a copy of the example (once; each describe may run alone). */
function copyExample(): void {
  if (existsSync(join(projectDir, "Pulumi.yaml"))) return;
  mkdirSync(projectDir, { recursive: true });
  for (const f of ["Pulumi.yaml", "package.json", "index.ts", "node-groups.ts"])
    writeFileSync(join(projectDir, f), readFileSync(join(example, f)));
}

/** The environment a user's shell has: Pulumi on PATH (with its language host), a backend. */
function userEnv(): Record<string, string> {
  const env = pulumiEnv(toolchain());
  return {
    ...env,
    EKS_RUNBOOK_HOME: home,
    CI: "true",
    PULUMI_BACKEND_URL: `file://${join(root, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: "own-stack-e2e",
  };
}

describe("--plan: bad input is refused with exit 2 before anything changes", () => {
  beforeAll(copyExample);

  it.each([
    [
      "unknown keys",
      (p: Record<string, unknown>) => Object.assign(p, { trafic: "none" }),
      /\(top level\): unknown key "trafic"/,
    ],
    [
      "a missing program directory",
      (p: Record<string, unknown>) =>
        Object.assign(p, { pulumi: { projectDir: "nowhere", stack: "dev" } }),
      /pulumi\.projectDir: .*nowhere is not a directory/,
    ],
    [
      "a wrong type",
      (p: Record<string, unknown>) => {
        (p.groups as { new: { expect: { count: unknown } } }).new.expect.count = "two";
      },
      /groups\.new\.expect\.count: expected number/,
    ],
  ])("%s", (_what, edit, message) => {
    const r = runCli(["--plan", writePlan("bad", edit), "--yes", "--json"], { env: userEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(home)).toBe(false);
  });

  it("an unreachable context", () => {
    const kubeconfig = join(root, "unreachable.kubeconfig");
    writeFileSync(
      kubeconfig,
      stringifyYaml({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [{ name: "prod", context: { cluster: "c", user: "u" } }],
        "current-context": "prod",
      }),
    );
    const plan = writePlan("unreachable", (p) => {
      p.cluster = { kubeconfig, context: "prod" };
    });
    const r = runCli(["--plan", plan, "--target", "aws", "--yes", "--json"], { env: userEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cluster: cannot reach the API server of context "prod"/);
    expect(existsSync(join(projectDir, "Pulumi.dev.yaml"))).toBe(false);
  });
});

const languageHost = hasLanguageHost();
if (!languageHost) console.warn(`--plan examples/own-stack: ${LANGUAGE_HOST_MISSING}`);

describe.skipIf(!languageHost)("--plan examples/own-stack on the local target", () => {
  let sb: TestSandbox;
  let plan: string;
  let env: Record<string, string>;
  const runs: CliProcess[] = [];

  beforeAll(async () => {
    copyExample();
    sb = await startTestSandbox("own-stack", { agent: true });
    env = { ...userEnv(), EKS_RUNBOOK_SANDBOX: sb.name };
    mkdirSync(join(root, "backend"), { recursive: true });
    // The user's stack as it is before the migration: blue runs both workloads.
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "dev", workDir: projectDir },
      { pulumiCommand: await localPulumiCommand(toolchain()), envVars: env },
    );
    await stack.setAllConfig({
      // As a team keeps it: the kubeconfig itself, a secret (the program exports it).
      kubeconfig: { value: readFileSync(sb.info.kubeconfigPath, "utf8"), secret: true },
      asgEndpoint: { value: sb.info.motoEndpoint },
      clusterName: { value: sb.name },
    });
    await stack.up();
    // The storefront's address: the load balancer the sandbox publishes for the Service.
    let url: string | undefined;
    for (let i = 0; i < 240 && !url; i++) {
      const svc = await sb.core.readNamespacedService({
        name: "nginx-ing-cntlr",
        namespace: "apps",
      });
      const ing = svc.status?.loadBalancer?.ingress?.[0];
      if (ing) url = `http://${ing.ip ?? ing.hostname}:${ing.ports?.[0]?.port ?? 80}`;
      else await new Promise((r) => setTimeout(r, 500));
    }
    if (!url) throw new Error("the sandbox published no load balancer for apps/nginx-ing-cntlr");
    plan = writePlan("migration", (p) => {
      const groups = p.groups as Record<string, { asg: unknown }>;
      groups.old!.asg = { name: `${sb.name}-shop-blue` };
      groups.new!.asg = { name: `${sb.name}-shop-green` };
      p.traffic = { ...(p.traffic as object), url };
    });
  }, 600_000);

  afterAll(async () => {
    for (const r of runs) {
      try {
        r.killGroup();
      } catch {
        // Already gone (it exited or was killed by the test).
      }
    }
    await sb?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const start = () => {
    const r = new CliProcess(["--plan", plan, "--target", "local", "--yes", "--json"], env);
    runs.push(r);
    return r;
  };
  /** Why a run stopped: its failed steps and error diagnostics. */
  const why = (r: CliProcess) =>
    r.events
      .filter(
        (e) =>
          (e.type === "step" && e.status === "failed") ||
          (e.type === "diagnostic" && e.severity === "error"),
      )
      .map((e) => JSON.stringify(e))
      .join("\n");
  const expectStep = async (r: CliProcess, step: string, status: string, timeoutMs?: number) => {
    try {
      return await r.step(step, status, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${why(r)}`);
    }
  };
  const index = () => join(projectDir, "index.ts");
  const program = () => readFileSync(index(), "utf8");

  it("refuses a selector that matches no node, before anything changes", () => {
    const bad = writePlan("no-nodes", (p) => {
      (p.groups as { old: { selector: unknown } }).old.selector = {
        "shop.example.com/pool": "purple",
      };
      p.traffic = "none";
    });
    const r = runCli(["--plan", bad, "--target", "local", "--yes", "--json"], {
      env,
      timeoutMs: 300_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /groups\.old\.selector: no node matches shop\.example\.com\/pool=purple/,
    );
  });

  it("dry-runs the plan, reaching the cluster through the stack's kubeconfig output: previews only, manual steps wait", () => {
    const stackFile = join(projectDir, "Pulumi.dev.yaml");
    const before = readFileSync(stackFile, "utf8");
    const dry = writePlan("dry-run", (p) => {
      Object.assign(p, parseYaml(readFileSync(plan, "utf8")) as object);
      p.cluster = { kubeconfigOutput: "kubeconfig" };
    });
    const r = runCli(["--plan", dry, "--target", "local", "--dry-run", "--json"], {
      env,
      timeoutMs: 300_000,
    });
    const events = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as EngineEvent);
    expect(r.code, r.stderr).toBe(0);
    const summary = events.find((e) => e.type === "summary") as Extract<
      EngineEvent,
      { type: "summary" }
    >;
    expect(summary.result).toBe("dry-run");
    const previews = new Map(
      events.flatMap((e) => (e.type === "preview" ? [[e.step, e] as const] : [])),
    );
    // The config step: the green pool grows, within its intent.
    const grow = previews.get("grow-green");
    expect(grow?.resources.map((x) => `${x.op} ${x.name}`)).toEqual(["update pool-green"]);
    expect(grow?.intent?.violations).toEqual([]);
    // The manual step: shown as waiting for your change; its preview is of the program as it
    // is, so no Deployment moves yet. (A dry run applies nothing, so each later preview also
    // carries the earlier steps' config: here green's size.)
    expect(previews.get("move-workloads-edit")?.action?.summary).toMatch(
      /^waits for your change to the program in /,
    );
    const moved = previews.get("move-workloads")?.resources ?? [];
    expect(moved.filter((x) => x.type === "kubernetes:apps/v1:Deployment")).toEqual([]);
    expect(previews.get("shrink-blue")?.resources.map((x) => `${x.op} ${x.name}`)).toContain(
      "update pool-blue",
    );
    const pending = events.filter(
      (e) => e.type === "step" && e.status === "pending" && e.reason === "dry run: nothing applied",
    );
    expect(pending.length).toBeGreaterThanOrEqual(5);
    // Nothing of yours was written.
    expect(readFileSync(stackFile, "utf8")).toBe(before);
    expect(r.stdout + r.stderr).not.toContain("BEGIN CERTIFICATE");
  });

  it("runs the plan: config steps, a wrong edit refused, the right edit applied, killed and resumed, 0 failed", async () => {
    const original = program();
    // Run 1: the config step applies; at the manual step, a wrong edit (a typo in the
    // Service's name would replace it) is refused before confirmation.
    const r1 = start();
    await expectStep(r1, "grow-green", "done", 300_000);
    await expectStep(r1, "move-workloads-edit", "applying");
    writeFileSync(
      index(),
      original
        .replace('const workloadPool = "blue";', 'const workloadPool = "green";')
        .replace(
          'metadata: { name: "echoserver", namespace: ns }',
          'metadata: { name: "echo-server", namespace: ns }',
        ),
    );
    const refused = (await r1.waitFor(
      (e) => e.type === "preview" && e.step === "move-workloads",
      "the manual step's preview",
    )) as Extract<EngineEvent, { type: "preview" }>;
    expect(refused.intent?.violations.map((v) => `${v.op} ${v.name}`)).toEqual([
      "replace echoserver",
    ]);
    expect((await r1.exited).code).toBe(1);
    const moveEvents = r1.events.filter((e) => e.type === "step" && e.step === "move-workloads");
    expect(moveEvents.map((e) => (e as { status: string }).status)).not.toContain("applying");
    expect(
      r1.events.some(
        (e) => e.type === "awaiting" && e.step === "move-workloads" && e.kind === "confirm",
      ),
    ).toBe(false);

    // Run 2: the right edit; resumes at the manual step; killed in the middle of the last
    // Pulumi update (the CLI and its Pulumi processes, as a dying terminal would).
    writeFileSync(
      index(),
      original.replace('const workloadPool = "blue";', 'const workloadPool = "green";'),
    );
    const r2 = start();
    await expectStep(r2, "move-workloads", "done", 300_000);
    await expectStep(r2, "shrink-blue", "applying", 300_000);
    await new Promise((r) => setTimeout(r, 1500));
    r2.killGroup();
    await r2.exited;

    // Run 3: resumes and finishes.
    const r3 = start();
    const run = (await r3.waitFor((e) => e.type === "run", "run")) as Extract<
      EngineEvent,
      { type: "run" }
    >;
    expect(run.resumeFrom?.step).toBe("shrink-blue");
    const summary = (await r3.waitFor((e) => e.type === "summary", "summary", 600_000)) as Extract<
      EngineEvent,
      { type: "summary" }
    >;
    expect((await r3.exited).code).toBe(0);
    expect(summary.result).toBe("completed");
    expect(summary.requests.total).toBeGreaterThan(0);
    expect(summary.requests.failed).toBe(0);
    // Both workloads on green, blue gone; the runbook's state recorded with the stack.
    const pods = await sb.core.listNamespacedPod({ namespace: "apps" });
    const nodes = await sb.core.listNode();
    const pool = new Map(
      nodes.items.map((n) => [n.metadata?.name, n.metadata?.labels?.["shop.example.com/pool"]]),
    );
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live.length).toBeGreaterThanOrEqual(4);
    for (const p of live) expect(pool.get(p.spec?.nodeName)).toBe("green");
    expect([...pool.values()]).not.toContain("blue");
    const stackFile = readFileSync(join(projectDir, "Pulumi.dev.yaml"), "utf8");
    expect(stackFile).toMatch(/shop:greenSize: "2"/);
    expect(stackFile).toMatch(/shop:blueSize: "0"/);
    const recovery = r3.events
      .filter((e) => e.type === "diagnostic" && e.message.startsWith("recovery:"))
      .map((e) => (e.type === "diagnostic" ? e.message : ""));
    process.stdout.write(
      `own-stack rehearsal: run 3 resumed at ${run.resumeFrom?.step} (${recovery.join("; ") || "no recovery needed"}); ${summary.stepsDone} steps done; ${summary.requests.total} requests, ${summary.requests.failed} failed; report ${summary.report}\n`,
    );
  });
});
