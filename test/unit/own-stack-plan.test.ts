import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/engine/errors.js";
import type { ResourceChange } from "../../src/engine/ports.js";
import { stepIntent } from "../../src/migrations/own-stack/intent.js";
import { loadPlan } from "../../src/migrations/own-stack/plan-file.js";
import { planJsonSchema } from "../../src/migrations/own-stack/plan-schema.js";
import {
  editStepId,
  managedConfigKeys,
  ownStackSteps,
} from "../../src/migrations/own-stack/steps.js";

// The plan file: what is refused (with the file, the field and the fix) and what the
// example plan becomes as engine steps.

const exampleDir = join(import.meta.dirname, "../../examples/own-stack");
const examplePlan = join(exampleDir, "migration.yaml");
const dir = mkdtempSync(join(tmpdir(), "plan-"));
mkdirSync(join(dir, "prog"));
writeFileSync(join(dir, "prog", "Pulumi.yaml"), "name: p\nruntime: nodejs\n");
let n = 0;

const MINIMAL = `
pulumi: {projectDir: prog, stack: dev}
cluster: {}
groups:
  old: {selector: {pool: blue}}
  new: {selector: {pool: green}, expect: {count: 2}}
workloads: [{namespace: apps, kind: Deployment, name: web, on: new}]
traffic: none
steps:
  - {id: grow, title: Grow, kind: config, set: {greenSize: 2}, intent: {updates: ["*green*"]}}
`;

function planFile(text: string): string {
  const p = join(dir, `p${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

function errorOf(text: string): InputError {
  try {
    loadPlan(planFile(text));
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

const change = (op: ResourceChange["op"], type: string, name: string): ResourceChange => ({
  op,
  type,
  name,
  urn: `urn:pulumi:dev::p::${type}::${name}`,
  diffs: [],
  replaceKeys: [],
});

describe("plan file", () => {
  it("accepts a minimal plan and resolves the project directory against the plan file", () => {
    const p = loadPlan(planFile(MINIMAL));
    expect(p.projectDir).toBe(join(dir, "prog"));
    expect(p.gates.windowSeconds).toBe(5);
  });

  it("refuses unknown keys with the field and the fix", () => {
    const e = errorOf(MINIMAL.replace("traffic: none", "traffic: none\ntrafic: {}"));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('(top level): unknown key "trafic"');
    const e2 = errorOf(MINIMAL.replace("expect: {count: 2}", "expect: {count: 2, cont: 1}"));
    expect(e2.message).toContain('groups.new.expect: unknown key "cont"');
  });

  it("refuses wrong types", () => {
    const e = errorOf(MINIMAL.replace("count: 2", 'count: "two"'));
    expect(e.message).toContain("groups.new.expect.count: expected number");
  });

  it("refuses a missing program directory, naming it", () => {
    const e = errorOf(MINIMAL.replace("projectDir: prog", "projectDir: nowhere"));
    expect(e.message).toContain(`pulumi.projectDir: ${join(dir, "nowhere")} is not a directory`);
    expect(e.hint).toContain("Pulumi.yaml");
  });

  it("refuses a kubeconfig that does not exist", () => {
    const e = errorOf(MINIMAL.replace("cluster: {}", "cluster: {kubeconfig: ./nope, context: x}"));
    expect(e.message).toContain("cluster.kubeconfig:");
  });

  it("refuses a workload with both a name and a selector, and delete-nodes without a drain", () => {
    expect(
      errorOf(MINIMAL.replace("name: web", "name: web, selector: {app: web}")).message,
    ).toContain("workloads.0");
    const e = errorOf(
      MINIMAL.replace(/steps:\n.*$/s, "steps:\n  - {id: gone, title: Gone, kind: delete-nodes}\n"),
    );
    expect(e.message).toContain("delete-nodes needs a drain step before it");
  });

  it("refuses duplicate and reserved step ids", () => {
    const dup = MINIMAL.replace(/steps:\n(.*)$/s, "steps:\n$1$1");
    expect(errorOf(dup).message).toContain('the id "grow" is used twice');
    expect(errorOf(MINIMAL.replace("id: grow", "id: start-traffic")).message).toContain("reserved");
  });
});

describe("intent", () => {
  const i = stepIntent({ creates: ["*green*"], updates: ["kubernetes:apps/v1:Deployment::web"] });

  it("allows what it names, by name, type or type::name glob", () => {
    expect(i.allows(change("create", "shop:index:NodeGroup", "green"))).toBe(true);
    expect(i.allows(change("create", "local:AutoScalingGroup", "asg-green"))).toBe(true);
    expect(i.allows(change("update", "kubernetes:apps/v1:Deployment", "web"))).toBe(true);
  });

  it("refuses everything else: other resources, other operations", () => {
    expect(i.allows(change("update", "kubernetes:apps/v1:Deployment", "api"))).toBe(false);
    expect(i.allows(change("replace", "kubernetes:apps/v1:Deployment", "web"))).toBe(false);
    expect(i.allows(change("delete", "local:AutoScalingGroup", "asg-blue"))).toBe(false);
  });

  it("lets a provider be updated (a config step changes a default provider's inputs), never replaced", () => {
    expect(i.allows(change("update", "pulumi:providers:pulumi-nodejs", "default"))).toBe(true);
    expect(i.allows(change("replace", "pulumi:providers:kubernetes", "cluster"))).toBe(false);
  });

  it("says what it allows", () => {
    expect(i.summary).toBe(
      "creates *green*; updates kubernetes:apps/v1:Deployment::web; replaces or deletes nothing else",
    );
    expect(stepIntent({}).summary).toBe("creates, updates, replaces or deletes nothing");
  });
});

describe("the example plan", () => {
  const plan = loadPlan(examplePlan);
  const steps = ownStackSteps(plan);

  it("becomes the engine's steps: traffic first, each manual step as edit + preview, report last", () => {
    const ids = steps.map((s) => s.id);
    expect(ids[0]).toBe("start-traffic");
    expect(ids.at(-1)).toBe("verify-report");
    const manual = plan.steps.find((s) => s.kind === "manual");
    expect(manual).toBeDefined();
    expect(ids.indexOf(editStepId(manual!.id))).toBe(ids.indexOf(manual!.id) - 1);
    // Every Pulumi step carries its intent; every step but the report watches traffic.
    for (const s of steps.filter((s) => s.change)) expect(s.intent).toBeDefined();
    for (const s of steps.slice(0, -1).filter((s) => !s.id.endsWith("-edit")))
      expect(s.gates.map((g) => g.id)).toContain("traffic");
  });

  it("config steps change only config; manual steps record their edit", () => {
    const managed = managedConfigKeys(plan);
    let spec = { config: {}, edits: [] as string[] };
    for (const s of steps) spec = s.change ? s.change(spec) : spec;
    expect(Object.keys(spec.config).sort()).toEqual([...managed].sort());
    expect(spec.edits).toEqual(plan.steps.filter((s) => s.kind === "manual").map((s) => s.id));
  });

  it("docs/plan.schema.json is the schema generated from the zod schema", () => {
    const file = join(import.meta.dirname, "../../docs/plan.schema.json");
    const generated = `${JSON.stringify(planJsonSchema(), null, 2)}\n`;
    if (process.env.EKS_RUNBOOK_WRITE_SCHEMA) writeFileSync(file, generated);
    // Compared as data: the formatter may lay the file out differently.
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(JSON.parse(generated));
  });
});
