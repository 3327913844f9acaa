import { isMap, isPair, isScalar, isSeq, type Node, parseDocument, YAMLParseError } from "yaml";
import { z } from "zod";
import { InputError } from "../../engine/errors.js";
import { excerpt, quoteValue } from "../../engine/safe-text.js";
import { SHUTDOWN_MISTAKE_NAMES } from "../../infra/shutdown-mistakes.js";
import {
  hostSchema,
  type MigrationSpec,
  migrationSpecSchema,
  nodeGroupSchema,
  urlPathSchema,
} from "../../infra/spec.js";
import {
  DEFAULT_NEW_GROUP,
  DEFAULT_OLD_GROUP,
  DEFAULT_SPEC,
  DEFAULT_STANDARD_GROUP,
} from "../../infra/spec-steps.js";
import { validateSpec } from "../../infra/validate-spec.js";
import { readInputFile } from "../../input-file.js";
import { isFailureClass } from "../../traffic/error-kind.js";
import { planChanges, planStart } from "./plan.js";

// The operator's configuration: the migration plan (which groups, what moves where) plus
// traffic and gate settings. Defaults reproduce the tutorial, modernised. Everything is
// validated here, before anything touches a state directory, a stack, AWS or a cluster.

const seconds = (max: number) => z.number().positive().max(max);

// AWS resource tags (EC2 User Guide, "Tag restrictions"): keys up to 128 characters, values
// up to 256, the "aws:" prefix reserved, at most 50 tags per resource (the runbook adds 6
// of its own to each Auto Scaling group).
const tagsSchema = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .superRefine((t, ctx) => {
    const keys = Object.keys(t);
    for (const k of keys.filter((k) => k.toLowerCase().startsWith("aws:"))) {
      ctx.addIssue({
        code: "custom",
        path: [k],
        message: `tag key "${k}": the "aws:" prefix is reserved by AWS`,
      });
    }
    if (keys.length > 40) ctx.addIssue({ code: "custom", message: "at most 40 tags" });
  });

const awsSchema = z
  .object({
    /** The region to provision in (--region wins); a provisioned stack keeps its own. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'an AWS region such as "eu-west-1"' })
      .optional(),
    /** IAM roles/users given cluster-admin through EKS access entries (operators, CI). */
    adminPrincipalArns: z
      .array(
        z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role)\/.+$/, {
          message: "an IAM role or user ARN such as arn:aws:iam::123456789012:role/ci",
        }),
      )
      .max(20),
    /** Tags for every taggable resource the stack creates. */
    tags: tagsSchema,
    /** An IAM policy ARN set as the permissions boundary of every role the stack creates. */
    permissionsBoundary: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/, {
        message: "an IAM policy ARN such as arn:aws:iam::123456789012:policy/boundary",
      })
      .optional(),
  })
  .strict();

const groupsSchema = z
  .object({
    standard: nodeGroupSchema,
    old: nodeGroupSchema,
    new: nodeGroupSchema,
  })
  .strict();

export const configSchema = z
  .object({
    clusterVersion: z.string().regex(/^1\.\d{2}$/, 'a Kubernetes minor version like "1.33"'),
    groups: groupsSchema,
    nginx: z.object({ replicas: z.number().int().min(2).max(50) }).strict(),
    echoserver: z.object({ replicas: z.number().int().min(1).max(50) }).strict(),
    host: hostSchema,
    path: urlPathSchema,
    traffic: z
      .object({
        connections: z.number().int().min(1).max(1000),
        /** Requests per second; 0 = as fast as the connections allow. */
        rate: z.number().int().min(0).max(1_000_000),
        timeoutSeconds: seconds(60),
      })
      .strict(),
    gates: z
      .object({
        /** How long every gate's condition must hold before it passes. */
        windowSeconds: seconds(600),
        /** How long a gate may take before the step fails. */
        timeoutSeconds: seconds(7200),
        /** The traffic gate's success-rate threshold, in percent. */
        successRatePercent: z.number().min(0).max(100),
        /** The traffic gate's minimum number of requests in its window. */
        minRequests: z.number().int().min(0),
        /**
         * Failure classes the traffic gates do not count as user-visible (default none:
         * every failed request counts). E.g. ["keepalive-race"] for clients that retry it.
         */
        ignoreFailureClasses: z
          .array(
            z.string().refine(isFailureClass, {
              message:
                "a failure class: http-<code> (e.g. http-503), refused, reset, keepalive-race, timeout, tls, unreachable or other",
            }),
          )
          .max(50),
      })
      .strict(),
    /** Step 5's drain: how long a node may take, how many at once, the pause between. */
    drain: z
      .object({
        /** A node not empty after this long fails the step (its blockers named); retry or roll back. */
        nodeTimeoutSeconds: z.number().int().min(10).max(3600),
        /** Nodes drained at once; 1 (kubectl's way) loses at most one node's pods at a time. */
        parallelism: z.number().int().min(1).max(100),
        /** Wait after a node is drained and healthy, before the next one. */
        pauseSeconds: z.number().int().min(0).max(3600),
      })
      .strict(),
    /** Used by --target aws only. */
    aws: awsSchema,
    /** --target local only: play a production mistake to see the gates catch it. */
    rehearsal: z
      .object({
        /** NGINX shutdown timings broken the named way (infra/shutdown-mistakes.ts). */
        mistake: z.enum(SHUTDOWN_MISTAKE_NAMES).optional(),
      })
      .strict(),
  })
  .strict();

export type RunbookConfig = z.infer<typeof configSchema>;

// The tutorial's plan, modernised: the infra's default desired state plus the new group.
export const DEFAULT_CONFIG: RunbookConfig = {
  clusterVersion: DEFAULT_SPEC.clusterVersion,
  groups: { standard: DEFAULT_STANDARD_GROUP, old: DEFAULT_OLD_GROUP, new: DEFAULT_NEW_GROUP },
  nginx: { replicas: DEFAULT_SPEC.nginx.replicas },
  echoserver: { replicas: DEFAULT_SPEC.echoserver.replicas },
  host: DEFAULT_SPEC.host,
  path: DEFAULT_SPEC.path,
  traffic: { connections: 8, rate: 300, timeoutSeconds: 2 },
  gates: {
    windowSeconds: 5,
    timeoutSeconds: 600,
    successRatePercent: 100,
    minRequests: 50,
    ignoreFailureClasses: [],
  },
  // Today's behaviour: 5 minutes per node, one node at a time, no pause.
  drain: { nodeTimeoutSeconds: 300, parallelism: 1, pauseSeconds: 0 },
  aws: { adminPrincipalArns: [], tags: {} },
  rehearsal: {},
};

/**
 * Kubernetes versions for --target aws: all in EKS standard support on 2026-11-28 — 1.35
 * (released on EKS 2026-01-28, standard support until 2027-03-27) for the control plane
 * and the new group, 1.34 (standard support until 2026-12-02) for the old group, one minor
 * behind. Source: the EKS Kubernetes version calendar ("Understand the Kubernetes version
 * lifecycle on EKS", EKS user guide; release and end-of-standard-support dates as listed
 * there). The local target keeps its toolchain's pinned 1.33 (pins/versions.env).
 */
export const AWS_VERSIONS = { control: "1.35", old: "1.34" } as const;

export type ConfigTarget = "local" | "aws";

/** The defaults for a target: the same plan, with versions the target can run. */
export function defaultConfig(target: ConfigTarget): RunbookConfig {
  if (target === "local") return DEFAULT_CONFIG;
  const { control, old } = AWS_VERSIONS;
  const g = DEFAULT_CONFIG.groups;
  return {
    ...DEFAULT_CONFIG,
    clusterVersion: control,
    groups: {
      standard: { ...g.standard, kubeletVersion: control },
      old: { ...g.old, kubeletVersion: old },
      new: { ...g.new, kubeletVersion: control },
    },
  };
}

/** The stack's desired state before step 1 (what "provision" creates). */
export function initialSpec(c: RunbookConfig): MigrationSpec {
  return validateSpec(planStart(c));
}

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge for defaults: objects merge, everything else (arrays too) replaces. */
export function mergeDefaults(defaults: Plain, override: Plain): Plain {
  const out: Plain = { ...defaults };
  for (const [k, v] of Object.entries(override)) {
    const d = out[k];
    out[k] = isPlain(d) && isPlain(v) ? mergeDefaults(d, v) : v;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length
    ? issue.path.map((p) => excerpt(String(p))).join(".")
    : "(top level)";
  switch (issue.code) {
    case "unrecognized_keys": {
      const keys = issue.keys.slice(0, 5).map((k) => `"${excerpt(k)}"`);
      if (issue.keys.length > 5) keys.push(`and ${issue.keys.length - 5} more`);
      return `${field}: unknown key${issue.keys.length > 1 ? "s" : ""} ${keys.join(", ")} (check the spelling; see the Configuration section of README.md for the allowed keys)`;
    }
    case "invalid_type":
      return `${field}: expected ${issue.expected}, got ${describeReceived(issue.input)}`;
    case "too_small":
      return `${field}: must be ≥ ${String(issue.minimum)}${issue.origin === "array" ? " items" : ""}`;
    case "too_big":
      return `${field}: must be ≤ ${String(issue.maximum)}${issue.origin === "array" ? " items" : ""}`;
    default:
      return `${field}: ${excerpt(issue.message, 300)}`;
  }
}

// What the operator wrote, as an error message may show it: never the whole value (a
// mis-pasted .env file parses as one long string), never a credential, always escaped.
function describeReceived(v: unknown): string {
  if (v === undefined) return "nothing (the key is missing)";
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? "" : "s"}`;
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "not a number (.nan)";
    if (!Number.isFinite(v)) return `${v > 0 ? "" : "minus "}infinity (.inf)`;
    return `number ${v}`;
  }
  if (typeof v === "string") {
    const q = quoteValue(v);
    return q.startsWith('"') ? `string ${q}` : q;
  }
  if (typeof v === "boolean") return `boolean ${v}`;
  if (isPlain(v)) return "a mapping (key: value)";
  return typeof v;
}

/** Validates a parsed object against the schema (with defaults); throws InputError. */
export function validateConfig(
  raw: unknown,
  source: string,
  target: ConfigTarget = "local",
): RunbookConfig {
  if (raw === null || raw === undefined) raw = {};
  if (!isPlain(raw)) {
    throw new InputError(
      `${source}: the config must be a YAML mapping (key: value), got ${describeReceived(raw)}`,
      "See the Configuration section of README.md for an example.",
    );
  }
  const merged = mergeDefaults(defaultConfig(target) as unknown as Plain, raw);
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${describeIssue(i)}`);
    throw new InputError(
      `${source}: invalid configuration\n${lines.join("\n")}`,
      "Fix the fields named above; nothing was changed.",
    );
  }
  const config = result.data;
  const fail = (lines: string[], hint: string): never => {
    throw new InputError(
      `${source}: invalid configuration\n${lines.map((l) => `  - ${l}`).join("\n")}`,
      hint,
    );
  };
  checkGatesReachable(config, fail);
  if (target === "aws" && config.rehearsal.mistake !== undefined) {
    fail(
      [
        `rehearsal.mistake: "${config.rehearsal.mistake}" plays a mistake in a rehearsal; it is refused for --target aws`,
      ],
      "Remove rehearsal.mistake from the configuration, or use --target local.",
    );
  }
  const names = [config.groups.standard.name, config.groups.old.name, config.groups.new.name];
  if (new Set(names).size !== names.length) {
    fail(
      [`groups: the standard, old and new groups need different names (got ${names.join(", ")})`],
      "Give each group its own name.",
    );
  }
  if (config.groups.old.instanceType === config.groups.new.instanceType) {
    fail(
      [
        `groups.new.instanceType: must differ from groups.old.instanceType ("${config.groups.old.instanceType}"); NGINX is moved by instance type`,
      ],
      "Pick another instance type for the new group.",
    );
  }
  if (config.nginx.replicas > config.groups.new.desired) {
    fail(
      [
        `nginx.replicas: ${config.nginx.replicas} replicas need ${config.nginx.replicas} nodes in the new group (one per node), groups.new.desired is ${config.groups.new.desired}`,
      ],
      "Raise groups.new.desired or lower nginx.replicas.",
    );
  }
  // Every desired state the plan passes through must itself be valid (version skew,
  // placement, capacities), so a plan that would strand NGINX halfway is refused now.
  const roleOf = new Map(Object.entries(config.groups).map(([role, g]) => [g.name, role]));
  let spec: unknown = planStart(config);
  for (const [id, change] of planChanges(config)) {
    spec = change(spec as MigrationSpec);
    const check = migrationSpecSchema.safeParse(spec, { reportInput: true });
    if (!check.success) {
      const groups = (spec as MigrationSpec).nodeGroups;
      fail(
        check.error.issues.map((i) => {
          const path =
            i.path[0] === "nodeGroups" && typeof i.path[1] === "number"
              ? [
                  "groups",
                  roleOf.get(groups[i.path[1]]?.name ?? "") ?? String(i.path[1]),
                  ...i.path.slice(2),
                ]
              : i.path;
          return `${describeIssue({ ...i, path } as z.core.$ZodIssue)} (in the desired state of step "${id}")`;
        }),
        "Fix the fields named above; nothing was changed.",
      );
    }
  }
  return config;
}

const CONFIG_HINT =
  "Pass a YAML file (at most 1 MiB) with --config, or leave --config out for the defaults.";

/**
 * Traffic and gate settings that can never pass together: the gate would time out on
 * every step however healthy the cluster is. Each message names every field involved.
 */
function checkGatesReachable(c: RunbookConfig, fail: (lines: string[], hint: string) => never) {
  const lines: string[] = [];
  if (c.gates.windowSeconds >= c.gates.timeoutSeconds) {
    lines.push(
      `gates.windowSeconds (${c.gates.windowSeconds}) must be less than gates.timeoutSeconds (${c.gates.timeoutSeconds}): a gate must hold for its window before it times out`,
    );
  }
  // rate 0 means "as fast as the connections allow": no upper bound to check against.
  const reachable = c.traffic.rate * c.gates.windowSeconds;
  if (c.traffic.rate > 0 && reachable < c.gates.minRequests) {
    lines.push(
      `gates.minRequests (${c.gates.minRequests}) can never be reached: traffic.rate ${c.traffic.rate}/s × gates.windowSeconds ${c.gates.windowSeconds} s = ${Math.floor(reachable)} requests per window`,
    );
  }
  if (lines.length) {
    fail(
      lines,
      "Lower gates.minRequests, or raise traffic.rate or gates.windowSeconds (or the timeout).",
    );
  }
}

/** Reads and validates a YAML config file; no --config means the target's defaults. */
export function loadConfig(
  file: string | undefined,
  target: ConfigTarget = "local",
): RunbookConfig {
  if (file === undefined) return validateConfig({}, "defaults", target);
  const text = readInputFile(file, { what: "config file", flag: "--config", hint: CONFIG_HINT });
  const source = excerpt(file, 200);
  return validateConfig(parseConfigYaml(text, source), source, target);
}

/** Parses YAML text; syntax errors and duplicate keys are InputErrors naming the line. */
export function parseConfigYaml(text: string, source: string): unknown {
  // yaml's own duplicate-key check compares every key with every other (quadratic: 40k
  // keys took 31 s); it is off, and duplicateKey() below does it in one pass.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const where =
      err instanceof YAMLParseError && err.linePos
        ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}`
        : "";
    throw new InputError(
      `${source}: not valid YAML${where}: ${excerpt(err.message.split("\n")[0] ?? "", 160)}`,
      "Fix the YAML syntax (indentation, colons, quotes).",
    );
  }
  const dup = duplicateKey(doc.contents, []);
  if (dup) {
    const line = dup.offset !== undefined ? ` (line ${lineOf(text, dup.offset)})` : "";
    throw new InputError(
      `${source}: ${dup.path.length ? dup.path.join(".") : "(top level)"}: the key "${excerpt(dup.key)}" appears twice${line}`,
      "Keep one of them; YAML keys must be unique.",
    );
  }
  try {
    // Aliases are expanded at most 100 times (the library's bound against alias bombs).
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new InputError(
      `${source}: not usable YAML: ${excerpt((e as Error).message, 160)}`,
      "Write the configuration without YAML aliases/anchors.",
    );
  }
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** The first key that appears twice in one mapping (one Set per mapping: linear). */
function duplicateKey(
  node: Node | null | undefined | unknown,
  path: string[],
): { path: string[]; key: string; offset?: number } | undefined {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = pair.key;
      const key = isScalar(k) ? String(k.value) : String(k);
      if (seen.has(key)) {
        return { path, key, offset: isScalar(k) ? k.range?.[0] : undefined };
      }
      seen.add(key);
      const inner = duplicateKey(pair.value, [...path, excerpt(key)]);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const inner = duplicateKey(item, [...path, String(i)]);
      if (inner) return inner;
    }
  }
  return undefined;
}
