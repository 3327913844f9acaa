import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { al2023AmiParameter } from "./ami.js";
import { encodeNodeGroupTags } from "./asg-tags.js";
import { createLoadBalancerController } from "./aws-load-balancer-controller.js";
import { deriveGracefulShutdown, type GracefulShutdown } from "./graceful-shutdown.js";
import {
  type LoadBalancerModel,
  loadBalancerAnnotations,
  NLB_IP_TARGETS,
  READINESS_GATE_INJECT_LABEL,
} from "./load-balancer-model.js";
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
  /** Default: derived from the load balancer (graceful-shutdown.ts). */
  shutdown?: GracefulShutdown;
}

export interface NodeGroupSettings {
  amiParameter: string;
  labels: Record<string, string>;
  taints: Record<string, { value: string; effect: string }>;
  asgTags: Record<string, string>;
}

/** Everything a group's node template carries, as plain data (unit-tested directly). */
export function nodeGroupSettings(clusterName: string, g: NodeGroupSpec): NodeGroupSettings {
  return {
    amiParameter: al2023AmiParameter(g.kubeletVersion),
    labels: { ...g.labels, [NODE_GROUP_LABEL]: g.name },
    taints: Object.fromEntries(g.taints.map((t) => [t.key, { value: t.value, effect: t.effect }])),
    // The same tag contract as the local target: the ASG probe finds groups the same way.
    asgTags: encodeNodeGroupTags({
      cluster: clusterName,
      nodeGroup: g.name,
      instanceType: g.instanceType,
      kubeletVersion: g.kubeletVersion,
      labels: g.labels,
      taints: g.taints,
    }),
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

function nodeGroup(
  clusterName: string,
  cluster: eks.Cluster,
  privateSubnetIds: pulumi.Input<string[]>,
  g: NodeGroupSpec,
): GroupResources {
  const s = nodeGroupSettings(clusterName, g);
  // One role and instance profile per group, named by group: removing one group never
  // renames (and so replaces) another group's resources.
  const role = new aws.iam.Role(`${g.name}-node-role`, {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ec2.amazonaws.com" }),
  });
  const attachments = NODE_POLICIES.map(
    (policyArn, i) =>
      new aws.iam.RolePolicyAttachment(`${g.name}-node-policy-${i}`, {
        role: role.name,
        policyArn,
      }),
  );
  const profile = new aws.iam.InstanceProfile(`${g.name}-node-profile`, { role: role.name });
  // authenticationMode API: nodes join through an EC2_LINUX access entry for their role.
  const accessEntry = new aws.eks.AccessEntry(`${g.name}-node-access`, {
    clusterName: cluster.eksCluster.name,
    principalArn: role.arn,
    type: "EC2_LINUX",
  });
  const ami = aws.ssm.getParameterOutput({ name: s.amiParameter });
  const ng = new eks.NodeGroupV2(
    `${g.name}-nodes`,
    {
      cluster,
      instanceType: g.instanceType,
      desiredCapacity: g.desired,
      minSize: g.min,
      maxSize: g.max,
      amiId: ami.value,
      operatingSystem: eks.OperatingSystem.AL2023,
      instanceProfile: profile,
      nodeSubnetIds: privateSubnetIds,
      nodeAssociatePublicIpAddress: false,
      labels: s.labels,
      taints: s.taints,
      autoScalingGroupTags: s.asgTags,
    },
    { dependsOn: [accessEntry, ...attachments] },
  );
  return { nodeGroup: ng, accessEntry };
}

export function awsProgram(spec: MigrationSpec, opts: AwsProgramOptions): Record<string, unknown> {
  const lb = opts.loadBalancer ?? NLB_IP_TARGETS;
  const shutdown = opts.shutdown ?? deriveGracefulShutdown(lb);
  const vpc = new awsx.ec2.Vpc(`${opts.clusterName}-vpc`, {
    // One NAT gateway: the nodes live in private subnets and only pull images.
    natGateways: { strategy: awsx.ec2.NatGatewayStrategy.Single },
    subnetSpecs: [
      { type: awsx.ec2.SubnetType.Public, tags: { "kubernetes.io/role/elb": "1" } },
      { type: awsx.ec2.SubnetType.Private, tags: { "kubernetes.io/role/internal-elb": "1" } },
    ],
  });
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
  const cluster = new eks.Cluster(opts.clusterName, {
    name: opts.clusterName,
    version: spec.clusterVersion,
    vpcId: vpc.vpcId,
    publicSubnetIds: vpc.publicSubnetIds,
    privateSubnetIds: vpc.privateSubnetIds,
    skipDefaultNodeGroup: true,
    authenticationMode: eks.AuthenticationMode.Api,
    accessEntries,
    enabledClusterLogTypes: CONTROL_PLANE_LOGS,
  });
  const groups = spec.nodeGroups.map((g) => ({
    name: g.name,
    ...nodeGroup(opts.clusterName, cluster, vpc.privateSubnetIds, g),
  }));
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
      region: aws.getRegionOutput().name,
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
  return {
    kubeconfig: pulumi.secret(cluster.kubeconfigJson),
    clusterName: cluster.eksCluster.name,
    asgNames: pulumi.output(
      Object.fromEntries(groups.map((g) => [g.name, g.nodeGroup.autoScalingGroup.name])),
    ),
    nginxServiceUrl: workload.nginxServiceUrl,
  };
}
