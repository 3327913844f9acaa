import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Probe, TrafficSource } from "../../engine/ports.js";
import { WORKLOAD } from "../../infra/workload-names.js";
import type { KubeClients } from "../../kube/clients.js";
import { asgProbe } from "../../probes/asg-probe.js";
import { drainedProbe } from "../../probes/drained-probe.js";
import { httpOkProbe } from "../../probes/http-ok-probe.js";
import { lbTargetsProbe } from "../../probes/lb-targets-probe.js";
import { nodesProbe } from "../../probes/nodes-probe.js";
import { onceProbe } from "../../probes/once-probe.js";
import { placementProbe } from "../../probes/placement-probe.js";
import { rolloutProbe } from "../../probes/rollout-probe.js";
import { judgeZeroFailures, trafficProbe } from "../../probes/traffic-probe.js";
import type { EksProbes } from "./context.js";
import { belongsToGroup } from "./intents.js";
import type { StackOutputs } from "./stack-outputs.js";

// The runbook's gates, built from the real probes: client-node watches for the cluster,
// the Auto Scaling API for groups, the load generator for traffic, the stack for resources.

export interface EksProbeDeps {
  /** Kubernetes clients; on AWS they exist only once the cluster does (after step 1). */
  kube: (signal: AbortSignal) => Promise<KubeClients>;
  asg: AutoScalingClient;
  /** ELBv2 (AWS, or the sandbox's moto with the balancer's mirrored targets). */
  elbv2: ElasticLoadBalancingV2Client;
  traffic: TrafficSource;
  outputs: StackOutputs;
  /** URNs of the resources in the stack (for "no old-group resources"). */
  stackResources: (signal: AbortSignal) => Promise<string[]>;
}

/** A probe that first resolves something asynchronous (an ASG name from the stack). */
function deferred(resolve: (signal: AbortSignal) => Promise<Probe | string>): Probe {
  return {
    observe: async (signal, report) => {
      let p: Probe | string;
      try {
        p = await resolve(signal);
      } catch (err) {
        if (signal.aborted) return;
        p = `cannot read the stack outputs: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (typeof p === "string") {
        report({ ok: false, reason: p });
        await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
        return;
      }
      await p.observe(signal, report);
    },
  };
}

export function createEksProbes(d: EksProbeDeps): EksProbes {
  const withKube = (make: (kube: KubeClients) => Probe): Probe =>
    deferred(async (signal) => make(await d.kube(signal)));
  return {
    nodesReady: (e) =>
      withKube((kube) =>
        nodesProbe(kube, {
          selector: { group: e.group },
          count: e.count,
          kubeletVersion: e.kubeletVersion,
        }),
      ),
    nodesAbsent: (group) =>
      withKube((kube) => nodesProbe(kube, { selector: { group }, count: "absent" })),
    podsPlaced: (o) =>
      withKube((kube) =>
        placementProbe(kube, {
          namespace: o.namespace,
          podSelector: `app=${o.appLabel}`,
          label: o.appLabel,
          on: { instanceTypes: o.instanceTypes },
          count: o.expected,
        }),
      ),
    rolloutComplete: (o) => withKube((kube) => rolloutProbe(kube, o)),
    noEvictablePods: (group) =>
      withKube((kube) => drainedProbe(kube, { selector: { group }, passWhenNoNodes: true })),
    asgInService: ({ group, count }) =>
      deferred(async (signal) => {
        const name = await d.outputs.asgName(group, signal);
        return name
          ? asgProbe(d.asg, { groupName: name, inService: count })
          : `the stack has no ASG for group ${group}`;
      }),
    asgGone: (group) =>
      deferred(async (signal) => {
        const name = await d.outputs.asgName(group, signal);
        return name
          ? asgProbe(d.asg, { groupName: name, gone: true })
          : `the ASG name of group ${group} is unknown`;
      }),
    httpOk: ({ host, path }) =>
      httpOkProbe({
        host,
        path,
        url: async (signal) => {
          d.outputs.invalidate();
          return d.outputs.loadBalancerUrl(signal);
        },
      }),
    trafficHealthy: (o) =>
      trafficProbe(d.traffic, {
        windowSeconds: o.windowSeconds,
        threshold: o.successRatePercent / 100,
        minRequests: o.minRequests,
        sinceMark: o.step,
        ...(o.ignoreFailureClasses ? { ignoreFailureClasses: o.ignoreFailureClasses } : {}),
      }),
    lbTargetsOff: (group) =>
      deferred(async (signal) =>
        lbTargetsProbe(d.elbv2, await d.kube(signal), {
          service: `${WORKLOAD.namespace}/${WORKLOAD.nginx.name}`,
          cluster: await d.outputs.clusterName(signal),
          oldCapacity: { group },
        }),
      ),
    zeroFailures: (ignore) => onceProbe(() => judgeZeroFailures(d.traffic, ignore)),
    stackWithoutGroup: (group) =>
      onceProbe(async (signal) => {
        const urns = await d.stackResources(signal);
        const left = urns.filter((u) => belongsToGroup(u, group));
        return left.length
          ? {
              ok: false,
              reason: `${left.length} resource(s) of group ${group} still in the stack: ${left
                .slice(0, 3)
                .map((u) => u.split("::").at(-1))
                .join(", ")}`,
            }
          : {
              ok: true,
              reason: `no resource of group ${group} in the stack (${urns.length} resources)`,
            };
      }),
  };
}
