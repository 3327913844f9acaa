import * as z from "zod";
import type { EngineEvent } from "../engine/events.js";

// The `--json` contract as zod schemas, one per event type, each line stamped with
// `schemaVersion` and `runId`. docs/events.schema.json is generated from these
// (`npm run schema:events`, checked by a unit test), and the type checks at the bottom keep
// them equal to the engine's event types, so the published schema cannot drift from what is
// printed.

/** Bumped on any incompatible change to an event's fields (additions are compatible). */
export const SCHEMA_VERSION = 1;

const stamp = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: z.string().min(1),
  at: z.string().min(1).describe("ISO 8601 time the event happened"),
};

const stepStatus = z.enum([
  "pending",
  "previewing",
  "awaiting-confirmation",
  "applying",
  "verifying",
  "done",
  "failed",
  "rolled-back",
]);
const decision = z.enum(["confirm", "skip-confirm", "retry", "rollback", "override", "stop"]);
const resourceOp = z.enum(["create", "update", "replace", "delete", "same", "read", "refresh"]);
const counts = z.object({ requests: z.number(), ok: z.number(), failed: z.number() });

const propertyDiff = z.object({
  path: z.string(),
  kind: z.enum(["add", "update", "delete"]),
  old: z.unknown().optional(),
  new: z.unknown().optional(),
  replaces: z.boolean().optional(),
});

const resourceChange = z.object({
  op: resourceOp,
  urn: z.string(),
  type: z.string(),
  name: z.string(),
  diffs: z.array(propertyDiff),
  replaceKeys: z.array(z.string()),
});

const run = z.object({
  type: z.literal("run"),
  ...stamp,
  stack: z.string(),
  target: z.string(),
  dryRun: z.boolean(),
  steps: z.array(
    z.object({
      id: z.string(),
      index: z.number().int(),
      title: z.string(),
      why: z.string(),
      status: stepStatus,
    }),
  ),
  resumeFrom: z
    .object({ step: z.string(), index: z.number().int(), reason: z.string() })
    .optional(),
});

const step = z.object({
  type: z.literal("step"),
  ...stamp,
  step: z.string(),
  index: z.number().int(),
  status: stepStatus,
  reason: z.string().optional(),
});

const preview = z.object({
  type: z.literal("preview"),
  ...stamp,
  step: z.string(),
  changes: z.object({
    create: z.number(),
    update: z.number(),
    replace: z.number(),
    delete: z.number(),
  }),
  resources: z.array(resourceChange),
  action: z
    .object({
      summary: z.string(),
      items: z.array(
        z.object({
          kind: z.enum(["evict", "block", "skip", "delete", "cordon", "start", "stop", "write"]),
          target: z.string(),
          detail: z.string().optional(),
        }),
      ),
    })
    .optional(),
  intent: z
    .object({
      summary: z.string(),
      violations: z.array(
        z.object({ urn: z.string(), name: z.string(), type: z.string(), op: resourceOp }),
      ),
    })
    .optional(),
});

const progress = z.object({
  type: z.literal("progress"),
  ...stamp,
  step: z.string(),
  done: z.number(),
  total: z.number(),
  current: z.string().optional(),
  message: z.string().optional(),
});

const gate = z.object({
  type: z.literal("gate"),
  ...stamp,
  step: z.string(),
  gate: z.string(),
  title: z.string(),
  passed: z.boolean(),
  settled: z.boolean(),
  reason: z.string(),
  warnings: z.array(z.string()).optional(),
  /** False until the gate's probe reported its first verdict. */
  observed: z.boolean().optional(),
});

const diagnostic = z.object({
  type: z.literal("diagnostic"),
  ...stamp,
  severity: z.enum(["info", "warning", "error"]),
  message: z.string(),
  step: z.string().optional(),
});

const awaiting = z.object({
  type: z.literal("awaiting"),
  ...stamp,
  step: z.string(),
  kind: z.enum(["confirm", "failure"]),
  options: z.array(decision),
  destructive: z.object({ reason: z.string(), confirmWith: z.string() }).optional(),
  reason: z.string().optional(),
});

// Traffic samples may gain fields from the load generator (e.g. the bucket's duration):
// additional properties are allowed here.
const traffic = z.looseObject({
  type: z.literal("traffic"),
  ...stamp,
  requests: z.number(),
  ok: z.number(),
  failed: z.number(),
  errors: z.record(z.string(), z.number()),
  p50Ms: z.number(),
  p99Ms: z.number(),
  total: counts,
  step: counts.extend({ id: z.string() }),
});

const summary = z.object({
  type: z.literal("summary"),
  ...stamp,
  result: z.enum(["completed", "failed", "aborted", "dry-run", "paused"]),
  stepsDone: z.number().int(),
  requests: z.object({ total: z.number(), ok: z.number(), failed: z.number() }),
  report: z.string().optional(),
  overrides: z.number().int(),
});

const error = z.object({
  type: z.literal("error"),
  ...stamp,
  message: z.string(),
  hint: z.string().optional(),
  exitCode: z.number().int(),
});

export const jsonEventSchema = z
  .discriminatedUnion("type", [
    run,
    step,
    preview,
    progress,
    gate,
    diagnostic,
    awaiting,
    traffic,
    summary,
    error,
  ])
  .describe(
    "One line of `eks-runbook --json` output. Consumers should ignore fields they do not know.",
  );

export type JsonEvent = z.infer<typeof jsonEventSchema>;

/** The published JSON Schema (draft-07, what ajv validates by default). */
export function eventsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(jsonEventSchema, { target: "draft-7", unrepresentable: "any" }),
    $id: "https://eks-runbook.dev/schemas/events.schema.json",
    title: "eks-runbook --json events",
  };
}

// ── compile-time agreement with the engine's event types ───────────────────────────────
type Stamped = EngineEvent & { schemaVersion: typeof SCHEMA_VERSION; runId: string };
type Assert<T extends true> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ByType<U, K> = Extract<U, { type: K }>;
type Check<K extends EngineEvent["type"]> = Same<
  Omit<ByType<Stamped, K>, "runId">,
  Omit<ByType<JsonEvent, K>, "runId">
>;
export type EventSchemaAgrees = [
  Assert<Check<"run">>,
  Assert<Check<"step">>,
  Assert<Check<"preview">>,
  Assert<Check<"progress">>,
  Assert<Check<"gate">>,
  Assert<Check<"diagnostic">>,
  Assert<Check<"awaiting">>,
  Assert<Check<"summary">>,
  Assert<Check<"error">>,
];
