import { z } from "zod";

// The migration plan for your own stack: which Pulumi project and stack, how to reach the
// cluster, the old and new node groups (by node label), the workloads that must move, the
// traffic to watch and the Pulumi steps, each with the changes it may make. Validated
// before anything runs; docs/plan.schema.json is generated from this schema.

const labelMap = z
  .record(z.string().min(1), z.string())
  .refine((m) => Object.keys(m).length > 0, "name at least one label");

/** Resource patterns: globs on the resource's name, its type, or `type::name`. */
const patterns = z.array(z.string().min(1));

export const intentSchema = z
  .object({
    summary: z.string().min(1).optional(),
    creates: patterns.optional(),
    updates: patterns.optional(),
    replaces: patterns.optional(),
    deletes: patterns.optional(),
  })
  .strict();

/** How the ASG gates find a group's Auto Scaling group; none: ASG gates off (Karpenter). */
const asgSchema = z.union([
  z.object({ name: z.string().min(1) }).strict(),
  z
    .object({
      eksNodegroup: z.object({ cluster: z.string().min(1), nodegroup: z.string().min(1) }).strict(),
    })
    .strict(),
  z.object({ tags: labelMap }).strict(),
  z.literal("none"),
]);

const oldGroupSchema = z
  .object({
    selector: labelMap,
    asg: asgSchema.optional(),
  })
  .strict();

const newGroupSchema = z
  .object({
    selector: labelMap,
    expect: z
      .object({
        count: z.number().int().min(1).max(10_000),
        instanceTypes: z.array(z.string().min(1)).min(1).optional(),
        kubeletVersion: z
          .string()
          .regex(/^1\.\d{1,2}$/, 'a Kubernetes minor version like "1.33"')
          .optional(),
      })
      .strict(),
    asg: asgSchema.optional(),
  })
  .strict();

const workloadSchema = z
  .object({
    namespace: z.string().min(1),
    kind: z.enum(["Deployment", "StatefulSet"]),
    name: z.string().min(1).optional(),
    /** Pod labels, instead of a name. */
    selector: labelMap.optional(),
    on: z.literal("new"),
  })
  .strict()
  .refine((w) => (w.name === undefined) !== (w.selector === undefined), {
    message: "name the workload (name) or select its pods (selector), not both",
  });

const clusterSchema = z.union([
  z
    .object({
      kubeconfig: z.string().min(1).optional(),
      context: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ kubeconfigOutput: z.string().min(1) }).strict(),
]);

const trafficSchema = z.union([
  z
    .object({
      url: z.url({ protocol: /^https?$/ }),
      host: z.string().min(1).optional(),
      path: z.string().startsWith("/").optional(),
      connections: z.number().int().min(1).max(1000).optional(),
      rate: z.number().int().min(0).max(1_000_000).optional(),
    })
    .strict(),
  z.literal("none"),
]);

const gateNames = z.enum(["new-group-ready", "new-asg-ready", "workloads-moved", "old-asg-empty"]);

const stepBase = {
  id: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,40}$/,
      "lower-case letters, digits and dashes, e.g. scale-old-to-zero",
    ),
  title: z.string().min(1).max(60),
  why: z.string().min(1).optional(),
};

const configValue = z.union([z.string(), z.number(), z.boolean()]);

export const stepSchema = z.discriminatedUnion("kind", [
  z
    .object({
      ...stepBase,
      kind: z.literal("config"),
      /** Stack config keys the runbook sets (`key` is in your project's namespace). */
      set: z
        .record(z.string().min(1), configValue)
        .refine((m) => Object.keys(m).length > 0, "set at least one key"),
      intent: intentSchema,
      gates: z.array(gateNames).optional(),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      kind: z.literal("manual"),
      /** What to change in the program; shown while the runbook waits for the change. */
      instructions: z.string().min(1),
      intent: intentSchema,
      gates: z.array(gateNames).optional(),
    })
    .strict(),
  z.object({ ...stepBase, kind: z.literal("drain") }).strict(),
  z.object({ ...stepBase, kind: z.literal("delete-nodes") }).strict(),
]);

export const planSchema = z
  .object({
    pulumi: z
      .object({
        /** Your Pulumi project directory (holds Pulumi.yaml), relative to the plan file. */
        projectDir: z.string().min(1),
        stack: z.string().min(1),
      })
      .strict(),
    cluster: clusterSchema,
    groups: z.object({ old: oldGroupSchema, new: newGroupSchema }).strict(),
    workloads: z.array(workloadSchema).min(1),
    traffic: trafficSchema,
    gates: z
      .object({
        windowSeconds: z.number().positive().max(600).default(5),
        timeoutSeconds: z.number().positive().max(7200).default(600),
        successRatePercent: z.number().min(0).max(100).default(100),
        minRequests: z.number().int().min(0).default(20),
      })
      .strict()
      .prefault({}),
    steps: z.array(stepSchema).min(1),
  })
  .strict();

export type Plan = z.infer<typeof planSchema>;
export type PlanStep = Plan["steps"][number];
export type PlanIntent = z.infer<typeof intentSchema>;
export type AsgDiscovery = z.infer<typeof asgSchema>;
export type Workload = Plan["workloads"][number];
export type GateName = z.infer<typeof gateNames>;

/** The JSON Schema of the plan file (docs/plan.schema.json). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://eks-runbook.dev/plan.schema.json",
    title: "eks-runbook migration plan (your own stack)",
    ...z.toJSONSchema(planSchema, { io: "input", unrepresentable: "any" }),
  };
}
