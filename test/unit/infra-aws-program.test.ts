import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeNodeGroupTags } from "../../src/infra/asg-tags.js";
import { LBC_CHART } from "../../src/infra/aws-load-balancer-controller.js";
import { deriveGracefulShutdown, shutdownViolations } from "../../src/infra/graceful-shutdown.js";
import { loadBalancerAnnotations, NLB_IP_TARGETS } from "../../src/infra/load-balancer-model.js";
import type { MigrationSpec } from "../../src/infra/spec.js";
import { migrationSpecSchema } from "../../src/infra/spec.js";
import { stepSpecs } from "../../src/infra/spec-steps.js";
import { INSTANCE_TYPE_LABEL, NODE_GROUP_LABEL, WORKLOAD } from "../../src/infra/workload-names.js";

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

async function run(spec: MigrationSpec): Promise<Run> {
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
          return { ...args.inputs, value: amiFor(name), type: "String" };
        }
        return args.inputs;
      },
    },
    "eks-runbook",
    "unit",
    false,
  );
  const exported = awsProgram(migrationSpecSchema.parse(spec), { clusterName: "eks-runbook-unit" });
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

const steps = stepSpecs();
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

  it("reads the AL2023 AMI from SSM per kubelet version", () => {
    expect(new Set(runs.provision.ssmParameters)).toEqual(
      new Set([
        "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id",
        "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/image_id",
      ]),
    );
    expect(new Set(runs.removeOldGroup.ssmParameters)).toEqual(
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
        region: "us-east-1",
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
