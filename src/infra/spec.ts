import { z } from "zod";

// The whole desired state of the migration: one typed object stored as stack config.
// Every Pulumi step of the runbook is a pure function MigrationSpec → MigrationSpec;
// the Pulumi programs read only this, so the program is never edited by hand.

const k8sVersion = z
  .string()
  .regex(/^1\.\d{2}$/, 'a Kubernetes minor version like "1.33"')
  .describe("Kubernetes minor version");

// Kubernetes' own syntax rules (apimachinery validation: IsQualifiedName, IsValidLabelValue,
// IsDNS1123Subdomain), checked here because the API server would otherwise reject the
// value only when the step that uses it runs, halfway through the migration.
const DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);
const QUALIFIED_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;

/** A DNS-1123 subdomain: at most 253 characters, dot-separated labels of at most 63. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s) && s.split(".").every((l) => l.length <= 63);
}

const labelKey = z.string().refine(
  (k) => {
    const slash = k.lastIndexOf("/");
    const prefix = slash === -1 ? undefined : k.slice(0, slash);
    const name = slash === -1 ? k : k.slice(slash + 1);
    return (prefix === undefined || isDns1123Subdomain(prefix)) && QUALIFIED_NAME.test(name);
  },
  {
    message:
      "a Kubernetes label key such as example.com/role: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  },
);

const labelValue = z.string().regex(LABEL_VALUE, {
  message:
    "a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (no spaces or newlines)",
});

/**
 * The most characters of an Ingress path this runbook accepts. Kubernetes sets no lower
 * limit than the object size, but the path travels in every request line and load
 * balancers cap those (an ALB rule path condition is at most 128 characters); 256 is
 * ample for a real route and refuses pasted garbage before it reaches the cluster.
 */
export const MAX_PATH_LENGTH = 256;

// An Ingress rule's host: a DNS-1123 subdomain (lower case, ≤ 253, labels ≤ 63).
export const hostSchema = z.string().refine(isDns1123Subdomain, {
  message:
    "a DNS host name (RFC 1123): lower-case letters, digits, '-' and '.', at most 253 characters, each dot-separated part at most 63",
});

export const urlPathSchema = z
  .string()
  .max(MAX_PATH_LENGTH)
  .regex(/^\/[A-Za-z0-9._~/-]*$/, { message: 'an absolute URL path such as "/echoserver"' })
  .refine((p) => !p.split("/").some((seg) => seg === ".." || seg === "."), {
    message:
      "must not contain '.' or '..' segments (NGINX and the load balancer normalise them away, so the route would never match)",
  });

export const taintSchema = z
  .object({
    key: labelKey,
    // A taint value follows the label value syntax (core/v1 validation of taints).
    value: labelValue.default(""),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
  })
  .strict();
export type Taint = z.infer<typeof taintSchema>;

/**
 * The largest group accepted. The groups are self-managed Auto Scaling groups: the EC2 Auto
 * Scaling quotas set no per-group instance limit (what bounds them is the account's EC2
 * instance/vCPU quotas; https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html),
 * so the bound is the cluster's: Kubernetes supports at most 5,000 nodes per cluster
 * (https://kubernetes.io/docs/setup/best-practices/cluster-large/). For comparison, an EKS
 * managed node group holds 450 nodes by default ("Nodes per managed node group", an
 * adjustable quota; https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html).
 */
export const MAX_GROUP_NODES = 5_000;

export const nodeGroupSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, {
      message: "lower-case letters, digits and '-', starting with a letter, at most 31 characters",
    }),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, {
      message: 'an EC2 instance type such as "c5.4xlarge"',
    }),
    desired: z.number().int().min(0).max(MAX_GROUP_NODES),
    min: z.number().int().min(0).max(MAX_GROUP_NODES),
    max: z.number().int().min(1).max(MAX_GROUP_NODES),
    kubeletVersion: k8sVersion,
    taints: z.array(taintSchema).default([]),
    labels: z.record(labelKey, labelValue).default({}),
  })
  .strict()
  .superRefine((g, ctx) => {
    if (g.min > g.desired || g.desired > g.max) {
      ctx.addIssue({
        code: "custom",
        path: ["desired"],
        message: `must satisfy min ≤ desired ≤ max (got min ${g.min}, desired ${g.desired}, max ${g.max})`,
      });
    }
    // EKS node groups take taints as a map keyed by taint key: one taint per key.
    const keys = new Set<string>();
    g.taints.forEach((t, i) => {
      if (keys.has(t.key)) {
        ctx.addIssue({
          code: "custom",
          path: ["taints", i, "key"],
          message: `duplicate taint key "${t.key}" (one taint per key)`,
        });
      }
      keys.add(t.key);
    });
  });
export type NodeGroupSpec = z.infer<typeof nodeGroupSchema>;

/**
 * What the AWS target pins at provisioning and records with the stack: the region, the
 * EKS-optimised AMI per kubelet version and the managed add-on versions. Looked up once
 * (src/infra/ami.ts), then only ever read from here, so a newly published AMI or add-on
 * never changes a launch template or an add-on by itself.
 */
export const awsPinsSchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'an AWS region such as "eu-west-1"' }),
    amiIds: z.record(
      k8sVersion,
      z.string().regex(/^ami-[0-9a-z][0-9a-z.-]*$/, { message: 'an AMI id such as "ami-0abc…"' }),
    ),
    addonVersions: z
      .object({ coredns: z.string().min(1), kubeProxy: z.string().min(1) })
      .partial()
      .strict()
      .default({}),
  })
  .strict();
export type AwsPins = z.infer<typeof awsPinsSchema>;

export const migrationSpecSchema = z
  .object({
    clusterVersion: k8sVersion,
    /** AWS target only (the local target ignores it). */
    aws: awsPinsSchema.optional(),
    nodeGroups: z.array(nodeGroupSchema).min(1),
    nginx: z
      .object({
        replicas: z.number().int().min(1).max(50),
        instanceTypes: z.array(z.string().min(1)).min(1),
      })
      .strict(),
    echoserver: z
      .object({
        replicas: z.number().int().min(1).max(50),
        /**
         * The node group the echoserver must run on (required node affinity on the group
         * label). Without it the scheduler may put it on the group that is later drained.
         */
        nodeGroup: z.string().min(1).optional(),
      })
      .strict(),
    host: hostSchema,
    path: urlPathSchema,
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.nodeGroups.forEach((g, i) => {
      if (seen.has(g.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["nodeGroups", i, "name"],
          message: `duplicate node group "${g.name}"`,
        });
      }
      seen.add(g.name);
      const [cMaj, cMin] = s.clusterVersion.split(".").map(Number);
      const [kMaj, kMin] = g.kubeletVersion.split(".").map(Number);
      if (kMaj !== cMaj || (kMin ?? 0) > (cMin ?? 0)) {
        ctx.addIssue({
          code: "custom",
          path: ["nodeGroups", i, "kubeletVersion"],
          message: `kubelet ${g.kubeletVersion} is newer than the control plane ${s.clusterVersion}; a kubelet may never be newer`,
        });
      } else if ((cMin ?? 0) - (kMin ?? 0) > 3) {
        ctx.addIssue({
          code: "custom",
          path: ["nodeGroups", i, "kubeletVersion"],
          message: `kubelet ${g.kubeletVersion} is more than 3 minors behind ${s.clusterVersion} (unsupported skew)`,
        });
      }
    });
    checkPlacement(s, ctx);
  });
export type MigrationSpec = z.infer<typeof migrationSpecSchema>;

/** NGINX tolerates exactly this taint; any other NoSchedule/NoExecute taint keeps it away. */
function blocksNginx(t: Taint): boolean {
  if (t.effect === "PreferNoSchedule") return false;
  return !(t.key === "nginx" && t.value === "true" && t.effect === "NoSchedule");
}

// Placement rules the cluster would otherwise only reveal as Pending pods and a rollout
// that never completes: NGINX needs one node per replica (required anti-affinity per
// hostname) among the groups of its instance types, and the echoserver's group must exist,
// have nodes and carry no taint it does not tolerate.
function checkPlacement(
  s: {
    nodeGroups: NodeGroupSpec[];
    nginx: { replicas: number; instanceTypes: string[] };
    echoserver: { nodeGroup?: string | undefined };
  },
  ctx: z.RefinementCtx,
): void {
  const eligible = s.nodeGroups.filter(
    (g) => s.nginx.instanceTypes.includes(g.instanceType) && !g.taints.some(blocksNginx),
  );
  const nodes = eligible.reduce((n, g) => n + g.desired, 0);
  if (nodes < s.nginx.replicas) {
    ctx.addIssue({
      code: "custom",
      path: ["nginx", "instanceTypes"],
      message:
        `${s.nginx.replicas} NGINX replicas need ${s.nginx.replicas} nodes of ` +
        `${s.nginx.instanceTypes.join(", ")} (one per node), but the node groups provide ${nodes}` +
        (eligible.length ? ` (${eligible.map((g) => `${g.name}: ${g.desired}`).join(", ")})` : ""),
    });
  }
  const echoGroup = s.echoserver.nodeGroup;
  if (echoGroup !== undefined) {
    const g = s.nodeGroups.find((x) => x.name === echoGroup);
    if (!g) {
      ctx.addIssue({
        code: "custom",
        path: ["echoserver", "nodeGroup"],
        message: `no node group named "${echoGroup}" (have ${s.nodeGroups.map((x) => x.name).join(", ")})`,
      });
    } else if (g.desired === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["echoserver", "nodeGroup"],
        message: `node group "${echoGroup}" has no nodes (desired 0)`,
      });
    } else if (g.taints.some((t) => t.effect !== "PreferNoSchedule")) {
      ctx.addIssue({
        code: "custom",
        path: ["echoserver", "nodeGroup"],
        message: `node group "${echoGroup}" is tainted; the echoserver tolerates no taints`,
      });
    }
  }
}

/** Node-group roles the EKS runbook uses; names are configurable, roles are not. */
export interface GroupNames {
  standard: string;
  old: string;
  new: string;
}
