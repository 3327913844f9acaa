import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

// The AWS Load Balancer Controller on the cluster: the Helm chart pinned by version, its IAM
// role bound to its ServiceAccount through EKS Pod Identity (no OIDC provider, no IRSA
// annotations; the role trusts pods.eks.amazonaws.com and the association names the
// namespace/ServiceAccount). The controller turns the NGINX Service's annotations (from the
// load-balancer model) into an NLB with IP targets and registers/deregisters pod IPs as
// endpoints change; its webhook injects the pod readiness gate into labelled namespaces.
//
// - EKS Pod Identity: https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
//   (the agent add-on, a role trusting pods.eks.amazonaws.com with sts:AssumeRole and
//   sts:TagSession, and a pod identity association per ServiceAccount)
// - Controller install (Helm chart values clusterName, region, vpcId, serviceAccount):
//   https://docs.aws.amazon.com/eks/latest/userguide/lbc-helm.html

/** Pinned: bump deliberately, together with LBC_IAM_STATEMENTS (the controller's policy). */
export const LBC_CHART = {
  chart: "aws-load-balancer-controller",
  version: "1.13.0",
  repo: "https://aws.github.io/eks-charts",
  namespace: "kube-system",
  serviceAccount: "aws-load-balancer-controller",
} as const;

const ELB_TAGGED = {
  // The controller tags what it creates with its cluster; writes are limited to those.
  Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" },
};

/**
 * The controller's IAM permissions, condensed from the policy the project publishes with
 * each release (docs/install/iam_policy.json): read what it needs, create load balancers,
 * target groups and security groups, and change only resources tagged as its own.
 */
export const LBC_IAM_STATEMENTS: aws.iam.PolicyStatement[] = [
  {
    Effect: "Allow",
    Action: ["iam:CreateServiceLinkedRole"],
    Resource: "*",
    Condition: {
      StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" },
    },
  },
  {
    Effect: "Allow",
    Action: [
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeAddresses",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeVpcs",
      "ec2:DescribeVpcPeeringConnections",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeTags",
      "ec2:DescribeRouteTables",
      "ec2:GetSecurityGroupsForVpc",
      "elasticloadbalancing:Describe*",
    ],
    Resource: "*",
  },
  {
    Effect: "Allow",
    Action: ["ec2:CreateSecurityGroup", "ec2:CreateTags"],
    Resource: "*",
  },
  {
    Effect: "Allow",
    Action: [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:DeleteSecurityGroup",
      "ec2:DeleteTags",
    ],
    Resource: "*",
    Condition: ELB_TAGGED,
  },
  {
    Effect: "Allow",
    Action: [
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:AddTags",
    ],
    Resource: "*",
  },
  {
    Effect: "Allow",
    Action: [
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:RemoveTags",
    ],
    Resource: "*",
    Condition: ELB_TAGGED,
  },
  {
    Effect: "Allow",
    Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
    Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
  },
];

export interface LoadBalancerControllerArgs {
  clusterName: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** The program's explicit AWS provider (pinned region, default tags). */
  awsProvider?: aws.Provider;
  /** Set on the controller's role like every role the program creates. */
  permissionsBoundary?: string;
}

export interface LoadBalancerController {
  release: k8s.helm.v3.Release;
  role: aws.iam.Role;
  association: aws.eks.PodIdentityAssociation;
}

export function createLoadBalancerController(
  a: LoadBalancerControllerArgs,
  k8sOpts: { provider: k8s.Provider; dependsOn: pulumi.Resource[] },
): LoadBalancerController {
  const awsOpts = a.awsProvider ? { provider: a.awsProvider } : {};
  const agent = new aws.eks.Addon(
    "eks-pod-identity-agent",
    { clusterName: a.clusterName, addonName: "eks-pod-identity-agent" },
    awsOpts,
  );
  const role = new aws.iam.Role(
    "aws-lbc-role",
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "pods.eks.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession"],
          },
        ],
      }),
      ...(a.permissionsBoundary ? { permissionsBoundary: a.permissionsBoundary } : {}),
    },
    awsOpts,
  );
  const policy = new aws.iam.Policy(
    "aws-lbc-policy",
    { policy: { Version: "2012-10-17", Statement: LBC_IAM_STATEMENTS } },
    awsOpts,
  );
  const attachment = new aws.iam.RolePolicyAttachment(
    "aws-lbc-policy-attachment",
    { role: role.name, policyArn: policy.arn },
    awsOpts,
  );
  const association = new aws.eks.PodIdentityAssociation(
    "aws-lbc-pod-identity",
    {
      clusterName: a.clusterName,
      namespace: LBC_CHART.namespace,
      serviceAccount: LBC_CHART.serviceAccount,
      roleArn: role.arn,
    },
    { dependsOn: [agent, attachment], ...awsOpts },
  );
  const release = new k8s.helm.v3.Release(
    "aws-load-balancer-controller",
    {
      name: LBC_CHART.chart,
      chart: LBC_CHART.chart,
      version: LBC_CHART.version,
      repositoryOpts: { repo: LBC_CHART.repo },
      namespace: LBC_CHART.namespace,
      values: {
        clusterName: a.clusterName,
        region: a.region,
        vpcId: a.vpcId,
        replicaCount: 2,
        serviceAccount: { create: true, name: LBC_CHART.serviceAccount },
        // Only Services that ask for it (aws-load-balancer-type: external) get an NLB.
        enableServiceMutatorWebhook: false,
      },
      // The webhook must serve before the workload's pods and Service are created.
      waitForJobs: true,
    },
    { provider: k8sOpts.provider, dependsOn: [...k8sOpts.dependsOn, association] },
  );
  return { release, role, association };
}
