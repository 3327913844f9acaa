import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { pinnedAmi } from "./ami.js";
import { encodeNodeGroupTags } from "./asg-tags.js";
import { createLoadBalancerController } from "./aws-load-balancer-controller.js";
import { deriveGracefulShutdown, type GracefulShutdown } from "./graceful-shutdown.js";
import {
  type LoadBalancerModel,
  loadBalancerAnnotations,
  NLB_IP_TARGETS,
  READINESS_GATE_INJECT_LABEL,
} from "./load-balancer-model.js";
import { RECORDED_SPEC_OUTPUT, recordedSpec } from "./recorded-spec.js";
import type { MigrationSpec, NodeGroupSpec } from "./spec.js";
import { Workload } from "./workload.js";
import { NODE_GROUP_LABEL } from "./workload-names.js";

// The AWS target: VPC, per-group IAM, the EKS cluster, self-managed node groups
// (launch template + ASG, so "scale the old ASG to 0" is a real ASG change) and the shared
// workload on the cluster. Everything is derived from the spec; nothing is edited by hand.

export interface AwsProgramOptions {
  /** EKS cluster name (also the ASG cluster tag). */
  clusterName: string;
  /** IAM principals (role or user ARNs) given cluster-admin through access entries. */
  adminPrincipalArns?: string[];
  /** The ingress load balancer (default: the NLB with IP targets this project defends). */
  loadBalancer?: LoadBalancerModel;
  /** Tags for every taggable AWS resource (provider default tags, ASG instances, cluster). */
  tags?: Record<string, string>;
  /** ARN of an IAM policy set as the permissions boundary of every IAM role created. */
  permissionsBoundary?: string;
  /** Default: derived from the load balancer (graceful-shutdown.ts). */
  shutdown?: GracefulShutdown;
}

export interface NodeGroupSettings {
  /** Pinned in the spec at provisioning (spec.aws.amiIds); never looked up here. */
  amiId: string;
  labels: Record<string, string>;
  taints: Record<string, { value: string; effect: string }>;
  asgTags: Record<string, string>;
}

/** Everything a group's node template carries, as plain data (unit-tested directly). */
export function nodeGroupSettings(
  clusterName: string,
  g: NodeGroupSpec,
  spec: MigrationSpec,
  tags: Record<string, string> = {},
): NodeGroupSettings {
  return {
    amiId: pinnedAmi(spec, g.kubeletVersion),
    labels: { ...g.labels, [NODE_GROUP_LABEL]: g.name },
    taints: Object.fromEntries(g.taints.map((t) => [t.key, { value: t.value, effect: t.effect }])),
    // The operator's tags first, then the same tag contract as the local target (the ASG
    // probe finds groups the same way); ours win on a clash.
    asgTags: {
      ...tags,
      ...encodeNodeGroupTags({
        cluster: clusterName,
        nodeGroup: g.name,
        instanceType: g.instanceType,
        kubeletVersion: g.kubeletVersion,
        labels: g.labels,
        taints: g.taints,
      }),
    },
  };
}

const CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

const NODE_POLICIES = [
  aws.iam.ManagedPolicy.AmazonEKSWorkerNodePolicy,
  aws.iam.ManagedPolicy.AmazonEKS_CNI_Policy,
  aws.iam.ManagedPolicy.AmazonEC2ContainerRegistryReadOnly,
  aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore,
];

/** The NGINX Service's annotations: the load-balancer model as the controller reads it. */
export function awsServiceAnnotations(lb: LoadBalancerModel): Record<string, string> {
  return loadBalancerAnnotations(lb);
}

interface GroupResources {
  nodeGroup: eks.NodeGroupV2;
  accessEntry: aws.eks.AccessEntry;
}

interface Shared {
  clusterName: string;
  cluster: eks.Cluster;
  privateSubnetIds: pulumi.Input<string[]>;
  spec: MigrationSpec;
  tags: Record<string, string>;
  permissionsBoundary: string | undefined;
  /** The explicit AWS provider (default tags, region from the stack's config). */
  provider: aws.Provider;
}

/**
 * Instance tags: ASG tags do reach instances (propagateAtLaunch), but the launch template's
 * tag specifications also tag the volumes and network interfaces, which default tags of the
 * provider never reach (they are created by EC2, not by Pulumi). EC2 User Guide, "Tag your
 * resources" (launch templates: TagSpecifications for instance, volume, network-interface).
 */
function launchTemplateTags(tags: Record<string, string>) {
  if (Object.keys(tags).length === 0) return undefined;
  return ["instance", "volume", "network-interface"].map((resourceType) => ({
    resourceType,
    tags,
  }));
}

function nodeGroup(sh: Shared, g: NodeGroupSpec): GroupResources {
  const s = nodeGroupSettings(sh.clusterName, g, sh.spec, sh.tags);
  const opts = { provider: sh.provider };
  // One role and instance profile per group, named by group: removing one group never
  // renames (and so replaces) another group's resources.
  const role = new aws.iam.Role(
    `${g.name}-node-role`,
    {
      assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ec2.amazonaws.com" }),
      ...(sh.permissionsBoundary ? { permissionsBoundary: sh.permissionsBoundary } : {}),
    },
    opts,
  );
  const attachments = NODE_POLICIES.map(
    (policyArn, i) =>
      new aws.iam.RolePolicyAttachment(
        `${g.name}-node-policy-${i}`,
        { role: role.name, policyArn },
        opts,
      ),
  );
  const profile = new aws.iam.InstanceProfile(`${g.name}-node-profile`, { role: role.name }, opts);
  // authenticationMode API: nodes join through an EC2_LINUX access entry for their role.
  const accessEntry = new aws.eks.AccessEntry(
    `${g.name}-node-access`,
    { clusterName: sh.cluster.eksCluster.name, principalArn: role.arn, type: "EC2_LINUX" },
    opts,
  );
  const ltTags = launchTemplateTags(sh.tags);
  const ng = new eks.NodeGroupV2(
    `${g.name}-nodes`,
    {
      cluster: sh.cluster,
      instanceType: g.instanceType,
      desiredCapacity: g.desired,
      minSize: g.min,
      maxSize: g.max,
      amiId: s.amiId,
      operatingSystem: eks.OperatingSystem.AL2023,
      instanceProfile: profile,
      nodeSubnetIds: sh.privateSubnetIds,
      nodeAssociatePublicIpAddress: false,
      labels: s.labels,
      taints: s.taints,
      autoScalingGroupTags: s.asgTags,
      ...(ltTags ? { launchTemplateTagSpecifications: ltTags } : {}),
    },
    { dependsOn: [accessEntry, ...attachments], providers: { aws: sh.provider } },
  );
  return { nodeGroup: ng, accessEntry };
}

/** The IAM policy EKS needs to manage the cluster (EKS user guide, "Amazon EKS cluster IAM role"). */
const CLUSTER_POLICY = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy";

export function awsProgram(spec: MigrationSpec, opts: AwsProgramOptions): Record<string, unknown> {
  const lb = opts.loadBalancer ?? NLB_IP_TARGETS;
  const shutdown = opts.shutdown ?? deriveGracefulShutdown(lb);
  const tags = opts.tags ?? {};
  if (!spec.aws) {
    throw new Error(
      "the AWS program needs the spec's pinned region and AMIs (spec.aws); the aws target pins them",
    );
  }
  // One explicit provider: the region pinned in the spec (never the environment's), and the
  // operator's tags as default tags of every AWS resource Pulumi creates.
  const awsProvider = new aws.Provider("aws", {
    region: spec.aws.region as aws.Region,
    ...(Object.keys(tags).length ? { defaultTags: { tags } } : {}),
  });
  const providers = { aws: awsProvider };
  const vpc = new awsx.ec2.Vpc(
    `${opts.clusterName}-vpc`,
    {
      // One NAT gateway: the nodes live in private subnets and only pull images.
      natGateways: { strategy: awsx.ec2.NatGatewayStrategy.Single },
      subnetSpecs: [
        { type: awsx.ec2.SubnetType.Public, tags: { "kubernetes.io/role/elb": "1" } },
        { type: awsx.ec2.SubnetType.Private, tags: { "kubernetes.io/role/internal-elb": "1" } },
      ],
      ...(Object.keys(tags).length ? { tags } : {}),
    },
    { providers },
  );
  const accessEntries = Object.fromEntries(
    (opts.adminPrincipalArns ?? []).map((arn, i) => [
      `admin-${i}`,
      {
        principalArn: arn,
        accessPolicies: {
          admin: {
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            accessScope: { type: "cluster" },
          },
        },
      },
    ]),
  );
  // Our own cluster role, so a permissions boundary (required by many company accounts for
  // every role) can be set on it too.
  const clusterRole = new aws.iam.Role(
    `${opts.clusterName}-cluster-role`,
    {
      assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "eks.amazonaws.com" }),
      ...(opts.permissionsBoundary ? { permissionsBoundary: opts.permissionsBoundary } : {}),
    },
    { provider: awsProvider },
  );
  const clusterPolicy = new aws.iam.RolePolicyAttachment(
    `${opts.clusterName}-cluster-policy`,
    { role: clusterRole.name, policyArn: CLUSTER_POLICY },
    { provider: awsProvider },
  );
  const addons = spec.aws.addonVersions;
  const cluster = new eks.Cluster(
    opts.clusterName,
    {
      name: opts.clusterName,
      version: spec.clusterVersion,
      vpcId: vpc.vpcId,
      publicSubnetIds: vpc.publicSubnetIds,
      privateSubnetIds: vpc.privateSubnetIds,
      skipDefaultNodeGroup: true,
      authenticationMode: eks.AuthenticationMode.Api,
      accessEntries,
      serviceRole: clusterRole,
      enabledClusterLogTypes: CONTROL_PLANE_LOGS,
      // Pinned at provisioning like the AMIs: "latest" would move under a later step.
      ...(addons.coredns ? { corednsAddonOptions: { version: addons.coredns } } : {}),
      ...(addons.kubeProxy ? { kubeProxyAddonOptions: { version: addons.kubeProxy } } : {}),
      ...(Object.keys(tags).length ? { tags } : {}),
    },
    { providers, dependsOn: [clusterPolicy] },
  );
  const shared: Shared = {
    clusterName: opts.clusterName,
    cluster,
    privateSubnetIds: vpc.privateSubnetIds,
    spec,
    tags,
    permissionsBoundary: opts.permissionsBoundary,
    provider: awsProvider,
  };
  const groups = spec.nodeGroups.map((g) => ({ name: g.name, ...nodeGroup(shared, g) }));
  const provider = new k8s.Provider("eks", {
    kubeconfig: cluster.kubeconfigJson,
    enableServerSideApply: true,
  });
  const nodeGroups = groups.map((g) => g.nodeGroup);
  // The controller runs on the standard group's nodes like any workload.
  const lbc = createLoadBalancerController(
    {
      clusterName: cluster.eksCluster.name,
      vpcId: vpc.vpcId,
      region: spec.aws.region,
      awsProvider,
      ...(opts.permissionsBoundary ? { permissionsBoundary: opts.permissionsBoundary } : {}),
    },
    { provider, dependsOn: nodeGroups },
  );
  const workload = new Workload(
    "workload",
    {
      spec,
      shutdown,
      serviceAnnotations: awsServiceAnnotations(lb),
      ingressAnnotations: {},
      // IP targets: the controller's webhook gives NGINX pods its readiness gate, so a
      // rollout only proceeds once the new pod is healthy in the target group.
      namespaceLabels: { ...READINESS_GATE_INJECT_LABEL },
    },
    // Pods need nodes (the Deployments' readiness waits would otherwise race the groups) and
    // the controller's webhook (or pods are created without their readiness gate).
    { provider, dependsOn: [...nodeGroups, lbc.release] },
  );
  const asgNames = pulumi.output(
    Object.fromEntries(groups.map((g) => [g.name, g.nodeGroup.autoScalingGroup.name])),
  );
  return {
    kubeconfig: pulumi.secret(cluster.kubeconfigJson),
    clusterName: cluster.eksCluster.name,
    region: spec.aws.region,
    asgNames,
    nginxServiceUrl: workload.nginxServiceUrl,
    [RECORDED_SPEC_OUTPUT]: recordedSpec(spec, [
      vpc,
      clusterRole,
      clusterPolicy,
      cluster,
      ...groups.flatMap((g) => [g.nodeGroup, g.accessEntry]),
      workload,
    ]),
  };
}
