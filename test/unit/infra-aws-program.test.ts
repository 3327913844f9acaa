import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceChange } from "../../src/engine/ports.js";
import { al2023AmiParameter, planKubeletVersions } from "../../src/infra/ami.js";
import { decodeNodeGroupTags } from "../../src/infra/asg-tags.js";
import { LBC_CHART } from "../../src/infra/aws-load-balancer-controller.js";
import { deriveGracefulShutdown, shutdownViolations } from "../../src/infra/graceful-shutdown.js";
import { loadBalancerAnnotations, NLB_IP_TARGETS } from "../../src/infra/load-balancer-model.js";
import type { MigrationSpec } from "../../src/infra/spec.js";
import { migrationSpecSchema } from "../../src/infra/spec.js";
import { stepSpecs } from "../../src/infra/spec-steps.js";
import { INSTANCE_TYPE_LABEL, NODE_GROUP_LABEL, WORKLOAD } from "../../src/infra/workload-names.js";
import { intents } from "../../src/migrations/eks-nodegroups/intents.js";

// The AWS program under Pulumi's mocks, once per runbook step's spec: what would be
// registered with the engine (types, names, inputs) and which SSM parameters it reads.

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

interface Run {
  resources: Registered[];
  ssmParameters: string[];
  outputs: Record<string, unknown>;
}

type AwsProgramModule = typeof import("../../src/infra/aws-program.js");
let awsProgram: AwsProgramModule["awsProgram"];

function amiFor(parameter: string): string {
  const version = /optimized-ami\/(1\.\d+)\//.exec(parameter)?.[1] ?? "unknown";
  return `ami-al2023-${version}`;
}

/** Remote components (awsx, eks) return what a real deployment would expose. */
function mockState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "awsx:ec2:Vpc":
      return {
        vpcId: "vpc-1",
        publicSubnetIds: ["subnet-pub-a"],
        privateSubnetIds: ["subnet-priv-a"],
      };
    case "eks:index:Cluster":
      return {
        ...inputs,
        kubeconfigJson: '{"apiVersion":"v1"}',
        eksCluster: { name: inputs.name },
      };
    case "eks:index:NodeGroupV2":
      return { autoScalingGroup: { name: `${name}-asg` } };
    case "aws:iam/role:Role":
      return { ...inputs, arn: `arn:aws:iam::123456789012:role/${name}`, name };
    default:
      return inputs;
  }
}

/** What the aws target pins at provisioning: region, one AMI per kubelet version, add-ons. */
function pinned(spec: MigrationSpec, ami: (parameter: string) => string = amiFor): MigrationSpec {
  const versions = ["1.32", "1.33"];
  return {
    ...spec,
    aws: {
      region: "eu-west-1",
      amiIds: Object.fromEntries(versions.map((v) => [v, ami(al2023AmiParameter(v))])),
      addonVersions: { coredns: "v1.12.1-eksbuild.2", kubeProxy: "v1.33.0-eksbuild.2" },
    },
  };
}

interface ProgramOptions {
  clusterName: string;
  tags?: Record<string, string>;
  permissionsBoundary?: string;
  adminPrincipalArns?: string[];
}

async function run(
  spec: MigrationSpec,
  ssmValue: (parameter: string) => string = amiFor,
  options: ProgramOptions = { clusterName: "eks-runbook-unit" },
): Promise<Run> {
  const resources: Registered[] = [];
  const ssmParameters: string[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
      },
      call(args) {
        if (args.token === "aws:index/getRegion:getRegion") {
          return { name: "us-east-1", region: "us-east-1", id: "us-east-1" };
        }
        if (args.token === "aws:ssm/getParameter:getParameter") {
          const name = String(args.inputs.name);
          ssmParameters.push(name);
          return { ...args.inputs, value: ssmValue(name), type: "String" };
        }
        return args.inputs;
      },
    },
    "eks-runbook",
    "unit",
    false,
  );
  const exported = awsProgram(migrationSpecSchema.parse(spec), options);
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exported)) {
    const out = pulumi.output(v) as unknown as pulumi.Output<unknown>;
    outputs[k] = await new Promise((resolve) => out.apply(resolve));
  }
  // Every registration has reached the mock monitor once the RPC queue is empty.
  await pulumi.runtime.disconnect();
  return { resources, ssmParameters, outputs };
}

function ofType(r: Run, type: string): Registered[] {
  return r.resources.filter((x) => x.type === type);
}

/** Node-group inputs without the resource references (cluster, instance profile). */
function nodeGroups(r: Run): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    ofType(r, "eks:index:NodeGroupV2").map((x) => {
      const { cluster: _c, instanceProfile: _p, ...plain } = x.inputs;
      return [x.name.replace(/-nodes$/, ""), plain];
    }),
  );
}

function nginxAffinityValues(r: Run): unknown {
  const d = ofType(r, "kubernetes:apps/v1:Deployment").find(
    (x) => (x.inputs.metadata as { name: string }).name === WORKLOAD.nginx.name,
  );
  type Terms = { matchExpressions: { key: string; values: string[] }[] }[];
  const spec = d?.inputs.spec as {
    template: {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: Terms };
          };
        };
      };
    };
  };
  const [term] =
    spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
      .nodeSelectorTerms;
  expect(term?.matchExpressions[0]?.key).toBe(INSTANCE_TYPE_LABEL);
  return term?.matchExpressions[0]?.values;
}

const unpinned = stepSpecs();
const steps = Object.fromEntries(
  Object.entries(unpinned).map(([k, v]) => [k, pinned(v)]),
) as unknown as typeof unpinned;
const runs: Record<keyof typeof steps, Run> = {} as Record<keyof typeof steps, Run>;

beforeAll(async () => {
  ({ awsProgram } = await import("../../src/infra/aws-program.js"));
  for (const key of Object.keys(steps) as (keyof typeof steps)[]) runs[key] = await run(steps[key]);
}, 60_000);

describe("AWS program, step by step", () => {
  it("provision: cluster without default group, API auth, logs; standard + old groups", () => {
    const r = runs.provision;
    const [cluster] = ofType(r, "eks:index:Cluster");
    expect(cluster?.inputs).toMatchObject({
      name: "eks-runbook-unit",
      version: "1.33",
      skipDefaultNodeGroup: true,
      authenticationMode: "API",
      enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
      vpcId: "vpc-1",
      privateSubnetIds: ["subnet-priv-a"],
      publicSubnetIds: ["subnet-pub-a"],
    });
    expect(ofType(r, "awsx:ec2:Vpc")).toHaveLength(1);
    const groups = nodeGroups(r);
    expect(Object.keys(groups).sort()).toEqual(["old", "standard"]);
    expect(groups.standard).toMatchObject({
      instanceType: "t3.medium",
      desiredCapacity: 3,
      minSize: 3,
      maxSize: 3,
      operatingSystem: "AL2023",
      amiId: "ami-al2023-1.33",
      taints: {},
      labels: { [NODE_GROUP_LABEL]: "standard" },
    });
    expect(groups.old).toMatchObject({
      instanceType: "t3.2xlarge",
      desiredCapacity: 3,
      amiId: "ami-al2023-1.32",
      labels: { [NODE_GROUP_LABEL]: "old" },
    });
    expect(nginxAffinityValues(r)).toEqual(["t3.2xlarge"]);
    expect(r.outputs.asgNames).toEqual({ standard: "standard-nodes-asg", old: "old-nodes-asg" });
    expect(r.outputs.clusterName).toBe("eks-runbook-unit");
  });

  it("pins the AL2023 AMI per kubelet version (resolved from SSM once, never by the program)", () => {
    // What the target resolves at provisioning: one SSM parameter per kubelet version.
    const resolved = (s: MigrationSpec) =>
      new Set(planKubeletVersions(s.nodeGroups).map(al2023AmiParameter));
    expect(runs.provision.ssmParameters).toEqual([]);
    expect(runs.removeOldGroup.ssmParameters).toEqual([]);
    expect(resolved(steps.provision)).toEqual(
      new Set([
        "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id",
        "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/image_id",
      ]),
    );
    expect(resolved(steps.removeOldGroup)).toEqual(
      new Set([
        "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id",
      ]),
    );
  });

  it("gives every group its own IAM role, instance profile and EC2_LINUX access entry", () => {
    const r = runs.createNewGroup;
    for (const g of ["standard", "old", "new"]) {
      expect(ofType(r, "aws:iam/role:Role").map((x) => x.name)).toContain(`${g}-node-role`);
      expect(ofType(r, "aws:iam/instanceProfile:InstanceProfile").map((x) => x.name)).toContain(
        `${g}-node-profile`,
      );
      const entry = ofType(r, "aws:eks/accessEntry:AccessEntry").find(
        (x) => x.name === `${g}-node-access`,
      );
      expect(entry?.inputs).toMatchObject({
        type: "EC2_LINUX",
        principalArn: `arn:aws:iam::123456789012:role/${g}-node-role`,
      });
    }
  });

  it("create new group: 5 × c5.4xlarge at 1.33, tainted nginx=true:NoSchedule; NGINX still on old", () => {
    const r = runs.createNewGroup;
    const groups = nodeGroups(r);
    expect(Object.keys(groups).sort()).toEqual(["new", "old", "standard"]);
    expect(groups.new).toMatchObject({
      instanceType: "c5.4xlarge",
      desiredCapacity: 5,
      minSize: 5,
      maxSize: 5,
      amiId: "ami-al2023-1.33",
      taints: { nginx: { value: "true", effect: "NoSchedule" } },
    });
    expect(nginxAffinityValues(r)).toEqual(["t3.2xlarge"]);
  });

  it("ASG tags carry the group for the ASG probe, in the local target's format", () => {
    const tags = nodeGroups(runs.createNewGroup).new?.autoScalingGroupTags as Record<
      string,
      string
    >;
    expect(decodeNodeGroupTags(tags)).toEqual({
      cluster: "eks-runbook-unit",
      nodeGroup: "new",
      instanceType: "c5.4xlarge",
      kubeletVersion: "1.33",
      labels: {},
      taints: [{ key: "nginx", value: "true", effect: "NoSchedule" }],
    });
  });

  it("migrate NGINX: only the affinity values change", () => {
    expect(nginxAffinityValues(runs.migrateNginx)).toEqual(["c5.4xlarge"]);
    expect(nodeGroups(runs.migrateNginx)).toEqual(nodeGroups(runs.createNewGroup));
  });

  it("scale old to 0: desired = min = 0, the rest unchanged", () => {
    const groups = nodeGroups(runs.scaleOldToZero);
    expect(groups.old).toMatchObject({ desiredCapacity: 0, minSize: 0, maxSize: 3 });
    expect(groups.new).toEqual(nodeGroups(runs.migrateNginx).new);
    expect(groups.standard).toEqual(nodeGroups(runs.migrateNginx).standard);
  });

  it("remove old group: the old group and its IAM are gone", () => {
    const r = runs.removeOldGroup;
    expect(Object.keys(nodeGroups(r)).sort()).toEqual(["new", "standard"]);
    expect(r.resources.filter((x) => x.name.startsWith("old-"))).toEqual([]);
    expect(r.outputs.asgNames).toEqual({ standard: "standard-nodes-asg", new: "new-nodes-asg" });
  });

  it("the NGINX Service asks the AWS Load Balancer Controller for the model's NLB", () => {
    const svc = ofType(runs.provision, "kubernetes:core/v1:Service").find(
      (x) => (x.inputs.metadata as { name: string }).name === WORKLOAD.nginx.name,
    );
    const meta = svc?.inputs.metadata as { annotations: Record<string, string> } | undefined;
    // Every annotation comes from the one load-balancer model, nothing else.
    expect(meta?.annotations).toEqual(loadBalancerAnnotations(NLB_IP_TARGETS));
    expect(meta?.annotations).toMatchObject({
      "service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": `deregistration_delay.timeout_seconds=${NLB_IP_TARGETS.deregistrationDelaySeconds},deregistration_delay.connection_termination.enabled=true,target_health_state.unhealthy.connection_termination.enabled=true`,
      "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": String(
        NLB_IP_TARGETS.healthCheck.intervalSeconds,
      ),
      "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold": String(
        NLB_IP_TARGETS.healthCheck.unhealthyThreshold,
      ),
      "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-80": `tcp.idle_timeout.seconds=${NLB_IP_TARGETS.idleTimeoutSeconds}`,
    });
    // The in-tree Classic LB's annotations are gone: the controller owns the Service.
    expect(Object.keys(meta?.annotations ?? {}).join()).not.toContain("connection-draining");
    expect((svc?.inputs.spec as { type: string } | undefined)?.type).toBe("LoadBalancer");
  });

  it("NGINX's shutdown timings are the ones derived from the model", () => {
    const d = ofType(runs.provision, "kubernetes:apps/v1:Deployment").find(
      (x) => (x.inputs.metadata as { name: string }).name === WORKLOAD.nginx.name,
    );
    const pod = (d!.inputs.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const derived = deriveGracefulShutdown(NLB_IP_TARGETS);
    expect(pod.terminationGracePeriodSeconds).toBe(derived.terminationGracePeriodSeconds);
    const [c] = pod.containers as { lifecycle: { preStop: { sleep: { seconds: number } } } }[];
    expect(c?.lifecycle.preStop.sleep.seconds).toBe(derived.preStopSleepSeconds);
    const cm = ofType(runs.provision, "kubernetes:core/v1:ConfigMap").find(
      (x) => (x.inputs.metadata as { name: string }).name === WORKLOAD.nginx.name,
    );
    expect(cm?.inputs.data).toMatchObject({
      "worker-shutdown-timeout": `${derived.workerShutdownTimeoutSeconds}s`,
      "keep-alive": String(derived.keepAliveSeconds),
      "http-snippet": `keepalive_time ${derived.keepAliveMaxAgeSeconds}s;`,
    });
    expect(shutdownViolations(derived, NLB_IP_TARGETS)).toEqual([]);
  });

  it("installs the controller from a pinned chart, IAM through EKS Pod Identity", () => {
    const r = runs.provision;
    const [release] = ofType(r, "kubernetes:helm.sh/v3:Release");
    expect(release?.inputs).toMatchObject({
      chart: LBC_CHART.chart,
      version: LBC_CHART.version,
      namespace: "kube-system",
      repositoryOpts: { repo: LBC_CHART.repo },
      values: {
        clusterName: "eks-runbook-unit",
        vpcId: "vpc-1",
        // The region pinned in the spec, never the environment's
        region: "eu-west-1",
        serviceAccount: { create: true, name: LBC_CHART.serviceAccount },
      },
    });
    expect(LBC_CHART.version).toMatch(/^\d+\.\d+\.\d+$/);
    const [assoc] = ofType(r, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
    expect(assoc?.inputs).toMatchObject({
      clusterName: "eks-runbook-unit",
      namespace: "kube-system",
      serviceAccount: LBC_CHART.serviceAccount,
      roleArn: "arn:aws:iam::123456789012:role/aws-lbc-role",
    });
    const role = ofType(r, "aws:iam/role:Role").find((x) => x.name === "aws-lbc-role");
    const trust = JSON.parse(String(role?.inputs.assumeRolePolicy));
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    });
    expect(ofType(r, "aws:eks/addon:Addon").map((x) => x.inputs.addonName)).toContain(
      "eks-pod-identity-agent",
    );
  });

  it("labels the workload namespace for the controller's pod readiness gate", () => {
    const [ns] = ofType(runs.provision, "kubernetes:core/v1:Namespace");
    expect((ns!.inputs.metadata as { labels: Record<string, string> }).labels).toEqual({
      "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled",
    });
  });

  it("the kubeconfig output is a secret", async () => {
    // Outputs resolved above are plain; check the secret flag on a fresh run's output.
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => ({ id: "x", state: mockState(a.type, a.name, a.inputs) }),
        call: (a) => a.inputs,
      },
      "eks-runbook",
      "unit",
      false,
    );
    const out = awsProgram(steps.provision, { clusterName: "eks-runbook-unit" });
    expect(await pulumi.isSecret(pulumi.output(out.kubeconfig))).toBe(true);
    await pulumi.runtime.disconnect();
  });
});

/** Registered resources keyed by type and name, inputs without resource references. */
function byKey(r: Run): Map<string, Registered> {
  return new Map(r.resources.map((x) => [`${x.type}::${x.name}`, x]));
}

/** Comparable inputs: resource references (promises, resources) dropped. */
function plainInputs(x: Registered): string {
  return JSON.stringify(x.inputs, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v) && "urn" in v ? "<resource>" : v,
  );
}

/**
 * The changes between two programs' registrations, as the engine's intent checks see them
 * (creates, updates, deletes by resource; the mocks cannot tell a replace from an update,
 * the provider decides that, so replace-forcing changes are caught by Pulumi's preview).
 */
function changesBetween(before: Run, after: Run): ResourceChange[] {
  const a = byKey(before);
  const b = byKey(after);
  const change = (op: ResourceChange["op"], x: Registered): ResourceChange => ({
    op,
    urn: `urn:pulumi:unit::eks-runbook::${x.type}::${x.name}`,
    type: x.type,
    name: x.name,
    diffs: [],
    replaceKeys: [],
  });
  const out: ResourceChange[] = [];
  for (const [k, x] of b) {
    const old = a.get(k);
    if (!old) out.push(change("create", x));
    else if (plainInputs(old) !== plainInputs(x)) out.push(change("update", x));
  }
  for (const [k, x] of a) if (!b.has(k)) out.push(change("delete", x));
  return out;
}

describe("AWS program against each step's intent", () => {
  it("every step changes only what its intent allows; nothing outside it is deleted", async () => {
    const empty: Run = { resources: [], ssmParameters: [], outputs: {} };
    const cases = [
      ["provision", empty, runs.provision, intents.provision()],
      ["create new group", runs.provision, runs.createNewGroup, intents.createNewGroup("new")],
      ["migrate NGINX", runs.createNewGroup, runs.migrateNginx, intents.migrateNginx()],
      ["scale old to 0", runs.migrateNginx, runs.scaleOldToZero, intents.scaleOldToZero("old")],
      ["remove old group", runs.scaleOldToZero, runs.removeOldGroup, intents.removeOldGroup("old")],
    ] as const;
    const seen: Record<string, string[]> = {};
    for (const [label, before, after, intent] of cases) {
      const changes = changesBetween(before, after);
      seen[label] = changes.map((c) => `${c.op} ${c.name}`).sort();
      const outside = changes.filter((c) => !intent.allows(c));
      expect(outside.map((c) => `${label}: ${c.op} ${c.name}`)).toEqual([]);
    }
    // What each step actually touches (so the check above is not vacuous).
    expect(seen["migrate NGINX"]).toEqual([`update ${WORKLOAD.nginx.name}`]);
    expect(seen["scale old to 0"]).toEqual(["update old-nodes"]);
    expect(seen["remove old group"]).toEqual(
      expect.arrayContaining([
        "delete old-nodes",
        "delete old-node-role",
        "delete old-node-access",
      ]),
    );
    expect(seen["remove old group"]?.every((c) => c.startsWith("delete old-"))).toBe(true);
    expect(seen["create new group"]?.every((c) => c.startsWith("create new-"))).toBe(true);
  });

  it("a new AMI published in SSM changes no resource (the spec pins the old one)", async () => {
    // Given the stack provisioned with the AMIs SSM held then
    const before = runs.scaleOldToZero;
    // When SSM's "recommended" moves to a new AMI and the same step runs again
    const after = await run(steps.scaleOldToZero, (p) => `${amiFor(p)}-newer`);
    // Then nothing is read from SSM and no resource changes
    expect(after.ssmParameters).toEqual([]);
    expect(changesBetween(before, after)).toEqual([]);
  });

  it("a spec without pinned AMIs is refused, never looked up", async () => {
    await expect(run(unpinned.provision)).rejects.toThrow(/spec\.aws/);
  });

  it("records the applied spec and the region with the stack (non-secret outputs)", async () => {
    const r = runs.createNewGroup;
    expect(r.outputs.region).toBe("eu-west-1");
    expect(JSON.parse(String(r.outputs.runbookSpec))).toEqual(
      migrationSpecSchema.parse(steps.createNewGroup),
    );
  });

  it("tags every taggable resource, sets the permissions boundary on every role, adds admins", async () => {
    const tags = { team: "platform", "cost-center": "42" };
    const boundary = "arn:aws:iam::123456789012:policy/boundary";
    const admin = "arn:aws:iam::123456789012:role/ci";
    const r = await run(steps.createNewGroup, amiFor, {
      clusterName: "eks-runbook-unit",
      tags,
      permissionsBoundary: boundary,
      adminPrincipalArns: [admin],
    });
    const [provider] = ofType(r, "pulumi:providers:aws");
    expect(provider?.inputs).toMatchObject({ region: "eu-west-1" });
    expect(JSON.parse(String(provider?.inputs.defaultTags))).toEqual({ tags });
    const roles = ofType(r, "aws:iam/role:Role");
    expect(roles.map((x) => x.name).sort()).toEqual([
      "aws-lbc-role",
      "eks-runbook-unit-cluster-role",
      "new-node-role",
      "old-node-role",
      "standard-node-role",
    ]);
    for (const role of roles) expect(role.inputs.permissionsBoundary).toBe(boundary);
    const [cluster] = ofType(r, "eks:index:Cluster");
    expect(cluster?.inputs).toMatchObject({
      tags,
      corednsAddonOptions: { version: "v1.12.1-eksbuild.2" },
      kubeProxyAddonOptions: { version: "v1.33.0-eksbuild.2" },
      accessEntries: { "admin-0": { principalArn: admin } },
    });
    expect(ofType(r, "awsx:ec2:Vpc")[0]?.inputs.tags).toEqual(tags);
    const ng = nodeGroups(r).new as {
      autoScalingGroupTags: Record<string, string>;
      launchTemplateTagSpecifications: { resourceType: string; tags: unknown }[];
    };
    expect(ng.autoScalingGroupTags).toMatchObject(tags);
    expect(decodeNodeGroupTags(ng.autoScalingGroupTags)?.nodeGroup).toBe("new");
    expect(ng.launchTemplateTagSpecifications.map((t) => t.resourceType)).toEqual([
      "instance",
      "volume",
      "network-interface",
    ]);
  });
});
