import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { encodeNodeGroupTags } from "./asg-tags.js";
import { deriveGracefulShutdown, type GracefulShutdown } from "./graceful-shutdown.js";
import {
  type LoadBalancerModel,
  loadBalancerAnnotations,
  NLB_IP_TARGETS,
  READINESS_GATE_INJECT_LABEL,
} from "./load-balancer-model.js";
import { LocalAsgProvider, LocalAutoScalingGroup } from "./local-asg.js";
import { RECORDED_SPEC_OUTPUT, recordedSpec } from "./recorded-spec.js";
import type { MigrationSpec } from "./spec.js";
import { awaitTimeout, SKIP_AWAIT, Workload } from "./workload.js";

// The local target: node groups are Auto Scaling groups in the sandbox's moto server (the
// sandbox turns their instances into kwok Nodes), and the same workload as on AWS goes to
// the sandbox's real control plane.

export interface LocalProgramOptions {
  /** Cluster name carried in the ASG tags (the sandbox's node-group controller filters on it). */
  clusterName: string;
  /** The sandbox's kubeconfig file (its path is what the stack records, not its contents). */
  kubeconfigPath: string;
  region: string;
  /** An AMI id moto knows. */
  imageId: string;
  /**
   * Wait for the NGINX Service's load-balancer address (published by the sandbox's data
   * plane) like on AWS, bounded by `loadBalancerTimeoutSeconds`. When false the Service is
   * created without waiting and `nginxServiceUrl` is "" until a later update reads it.
   */
  awaitLoadBalancer: boolean;
  loadBalancerTimeoutSeconds: number;
  /** Wait for the Ingress's status (needs an ingress controller that writes it). */
  awaitIngress: boolean;
  /** The load balancer the sandbox plays (default: the one the AWS program provisions). */
  loadBalancer?: LoadBalancerModel;
  shutdown?: GracefulShutdown;
}

/** The ASG name in moto: unique per cluster, since sandboxes may share one moto. */
export function localAsgName(clusterName: string, group: string): string {
  return `${clusterName}-${group}`;
}

export function localProgram(
  spec: MigrationSpec,
  opts: LocalProgramOptions,
): Record<string, unknown> {
  const asgProvider = new LocalAsgProvider("local-asg");
  const groups = spec.nodeGroups.map((g) => ({
    name: g.name,
    asg: new LocalAutoScalingGroup(
      `asg-${g.name}`,
      {
        asgName: localAsgName(opts.clusterName, g.name),
        region: opts.region,
        imageId: opts.imageId,
        instanceType: g.instanceType,
        desired: g.desired,
        min: g.min,
        max: g.max,
        tags: encodeNodeGroupTags({
          cluster: opts.clusterName,
          nodeGroup: g.name,
          instanceType: g.instanceType,
          kubeletVersion: g.kubeletVersion,
          labels: g.labels,
          taints: g.taints,
        }),
      },
      { provider: asgProvider },
    ),
  }));
  const provider = new k8s.Provider("sandbox", {
    kubeconfig: opts.kubeconfigPath,
    enableServerSideApply: true,
  });
  const workload = new Workload(
    "workload",
    {
      spec,
      shutdown: opts.shutdown ?? deriveGracefulShutdown(opts.loadBalancer ?? NLB_IP_TARGETS),
      // The same annotations as on AWS: the sandbox's data plane reads its balancer from them.
      serviceAnnotations: {
        ...loadBalancerAnnotations(opts.loadBalancer ?? NLB_IP_TARGETS),
        ...(opts.awaitLoadBalancer
          ? awaitTimeout(opts.loadBalancerTimeoutSeconds)
          : { ...SKIP_AWAIT }),
      },
      namespaceLabels: { ...READINESS_GATE_INJECT_LABEL },
      ingressAnnotations: opts.awaitIngress ? {} : { ...SKIP_AWAIT },
    },
    { provider, dependsOn: groups.map((g) => g.asg) },
  );
  const asgNames = pulumi.output(Object.fromEntries(groups.map((g) => [g.name, g.asg.asgName])));
  return {
    // The path only: the sandbox's admin credentials stay in its 0600 file, out of the
    // stack's state and checkpoints (nothing reads them from the stack: the local target
    // takes the kubeconfig from the sandbox itself).
    kubeconfigPath: opts.kubeconfigPath,
    clusterName: opts.clusterName,
    asgNames,
    nginxServiceUrl: workload.nginxServiceUrl,
    [RECORDED_SPEC_OUTPUT]: recordedSpec(spec, [...groups.map((g) => g.asg), workload]),
  };
}
