import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { InputError } from "../../engine/errors.js";
import { type Plan, planSchema } from "./plan-schema.js";

// Reads a plan file and refuses, with the file, the field and the fix, anything that would
// fail later: unknown keys, wrong types, a project directory without Pulumi.yaml, a
// kubeconfig that does not exist, duplicate step ids. Nothing has been touched yet.

export interface LoadedPlan extends Plan {
  /** The plan file, as given. */
  file: string;
  /** pulumi.projectDir, absolute. */
  projectDir: string;
  /** cluster.kubeconfig, absolute (or undefined: the default kubeconfig). */
  kubeconfigPath?: string;
}

function describeReceived(v: unknown): string {
  if (v === undefined) return "nothing (the key is missing)";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.join(".") : "(top level)";
  switch (issue.code) {
    case "unrecognized_keys":
      return `${field}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling; docs/plan.schema.json lists the allowed keys)`;
    case "invalid_type":
      return `${field}: expected ${issue.expected}, got ${describeReceived(issue.input)}`;
    case "invalid_union":
      return `${field}: none of the allowed forms matches (see "Migrate your own cluster" in README.md)`;
    case "too_small":
      return `${field}: must be ≥ ${String(issue.minimum)}${issue.origin === "array" ? " items" : ""}`;
    case "too_big":
      return `${field}: must be ≤ ${String(issue.maximum)}${issue.origin === "array" ? " items" : ""}`;
    default:
      return `${field}: ${issue.message}`;
  }
}

const expandHome = (p: string) =>
  p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;

/** Validates a parsed plan; paths are resolved against the plan file's directory. */
export function validatePlan(raw: unknown, file: string): LoadedPlan {
  const fail = (lines: string[], hint: string): never => {
    throw new InputError(
      `${file}: invalid migration plan\n${lines.map((l) => `  - ${l}`).join("\n")}`,
      hint,
    );
  };
  const result = planSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    fail(
      result.error.issues.map(describeIssue),
      "Fix the fields named above; nothing was changed.",
    );
  }
  const plan = (result as { data: Plan }).data;
  const base = dirname(resolve(file));
  const projectDir = resolve(base, expandHome(plan.pulumi.projectDir));
  if (!existsSync(projectDir) || !statSync(projectDir).isDirectory()) {
    fail(
      [`pulumi.projectDir: ${projectDir} is not a directory`],
      "Point pulumi.projectDir at your Pulumi project (the directory holding Pulumi.yaml), relative to the plan file.",
    );
  }
  if (!existsSync(join(projectDir, "Pulumi.yaml")) && !existsSync(join(projectDir, "Pulumi.yml"))) {
    fail(
      [`pulumi.projectDir: ${projectDir} holds no Pulumi.yaml`],
      "Point pulumi.projectDir at your Pulumi project (the directory holding Pulumi.yaml).",
    );
  }
  let kubeconfigPath: string | undefined;
  if ("kubeconfig" in plan.cluster && plan.cluster.kubeconfig) {
    const k = expandHome(plan.cluster.kubeconfig);
    kubeconfigPath = isAbsolute(k) ? k : resolve(base, k);
    if (!existsSync(kubeconfigPath)) {
      fail(
        [`cluster.kubeconfig: ${kubeconfigPath} does not exist`],
        "Name an existing kubeconfig file (or leave cluster.kubeconfig out for the default one).",
      );
    }
  }
  const ids = plan.steps.map((s) => s.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) fail([`steps: the id "${dup}" is used twice`], "Give every step its own id.");
  const reserved = ["start-traffic", "verify-report"];
  const clash = ids.find((id) => reserved.includes(id) || id.endsWith("-edit"));
  if (clash) {
    fail(
      [
        `steps: the id "${clash}" is reserved (start-traffic, verify-report, and ids ending in -edit)`,
      ],
      "Rename the step.",
    );
  }
  const drainAt = plan.steps.findIndex((s) => s.kind === "drain");
  const deleteAt = plan.steps.findIndex((s) => s.kind === "delete-nodes");
  if (deleteAt >= 0 && (drainAt < 0 || drainAt > deleteAt)) {
    fail(
      [`steps[${deleteAt}]: delete-nodes needs a drain step before it`],
      "Add a step of kind drain before the delete-nodes step: nodes are emptied before they go.",
    );
  }
  return {
    ...plan,
    file,
    projectDir,
    ...(kubeconfigPath ? { kubeconfigPath } : {}),
  };
}

/** Reads and validates a plan file. */
export function loadPlan(file: string): LoadedPlan {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `${file}: cannot read the plan file (${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(code)})`,
      "Pass an existing YAML plan with --plan (see examples/own-stack/migration.yaml).",
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const where =
      err instanceof YAMLParseError && err.linePos
        ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}`
        : "";
    throw new InputError(
      `${file}: not valid YAML${where}: ${(err as Error).message.split("\n")[0]}`,
      "Fix the YAML syntax (indentation, colons, quotes).",
    );
  }
  return validatePlan(raw, file);
}
