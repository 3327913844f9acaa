import {
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { errorMessage } from "../engine/errors.js";
import type { Probe, ProbeResult } from "../engine/ports.js";
import { Backoff, sleep } from "../kube/backoff.js";
import { callOptions, type KubeClients } from "../kube/clients.js";
import {
  describeSelector,
  type NodeGroupSelector,
  nodeLabelSelector,
} from "../kube/node-selector.js";
import { listSome, reportChanges } from "./report-changes.js";

// "Nothing routes to old capacity any more", asked of the load balancer itself: ELBv2
// DescribeTargetHealth on the target groups the AWS Load Balancer Controller keeps for the
// NGINX Service (found by the tags the controller puts on them). A target still registered
// or draining on an old node, or one that belongs to no current pod or node (a pod that has
// left, still draining), keeps the gate closed. On the local target the same code asks
// moto, into which the sandbox mirrors its balancer's targets (sandbox/dataplane/elbv2-mirror).
//
// DescribeTargetHealth: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
// (target states initial, healthy, unhealthy, unused, draining, unavailable; without
// Targets it describes every registered target, draining ones included).

/** ELBv2 has no watch: poll once a second, far under its API rate limits. */
export const LB_TARGETS_POLL_MS = 1_000;

export interface LbTarget {
  id: string;
  port?: number;
  state: string;
}

export interface CapacityNode {
  name: string;
  ips: string[];
  instanceId?: string;
}

export interface LbTargetsView {
  targets: LbTarget[];
  /** Nodes of the group that is going away. */
  oldNodes: CapacityNode[];
  /** Every node in the cluster (old ones included). */
  nodes: CapacityNode[];
  /** Pod IP → node name, for every pod with an IP. */
  podNodes: Map<string, string>;
}

/** aws:///us-east-1a/i-0abc → i-0abc */
export function instanceIdOf(node: V1Node): string | undefined {
  return /\/(i-[0-9a-z]+)$/.exec(node.spec?.providerID ?? "")?.[1];
}

export function capacityNode(node: V1Node): CapacityNode {
  return {
    name: node.metadata?.name ?? "",
    ips: (node.status?.addresses ?? [])
      .filter((a) => a.type === "InternalIP" || a.type === "ExternalIP")
      .map((a) => a.address),
    instanceId: instanceIdOf(node),
  };
}

export function evaluateLbTargets(v: LbTargetsView, groupText: string): ProbeResult {
  const old = new Set(v.oldNodes.map((n) => n.name));
  const nodeByIp = new Map(v.nodes.flatMap((n) => n.ips.map((ip) => [ip, n.name] as const)));
  const nodeByInstance = new Map(
    v.nodes.filter((n) => n.instanceId).map((n) => [n.instanceId as string, n.name] as const),
  );
  const blocking: string[] = [];
  let routing = 0;
  for (const t of v.targets) {
    // "unused": registered nowhere the LB routes (not in a listener's target group).
    if (t.state === "unused") continue;
    routing++;
    const node = t.id.startsWith("i-")
      ? nodeByInstance.get(t.id)
      : (v.podNodes.get(t.id) ?? nodeByIp.get(t.id));
    const label = `${t.id}${t.port ? `:${t.port}` : ""} (${t.state})`;
    if (node === undefined) {
      blocking.push(`${label} belongs to no current pod or node (still draining?)`);
    } else if (old.has(node)) {
      blocking.push(`${label} on ${node}`);
    }
  }
  if (blocking.length === 0) {
    return {
      ok: true,
      reason: `load balancer: ${routing} target(s), none on ${groupText}`,
    };
  }
  blocking.sort();
  return {
    ok: false,
    reason: `load balancer still routes to ${blocking.length} target(s) off the new capacity: ${listSome(blocking, 3)}`,
  };
}

export interface LbTargetsExpectation {
  /** namespace/name of the Service (the controller's service.k8s.aws/stack tag). */
  service: string;
  /** The cluster (the controller's elbv2.k8s.aws/cluster tag); any when undefined. */
  cluster?: string;
  /** The capacity that is going away. */
  oldCapacity: NodeGroupSelector;
}

async function findTargetGroups(
  elbv2: ElasticLoadBalancingV2Client,
  exp: LbTargetsExpectation,
  signal: AbortSignal,
): Promise<string[]> {
  const opts = { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) };
  const groups: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker }), opts);
    groups.push(...(page.TargetGroups ?? []));
    marker = page.NextMarker;
  } while (marker);
  const arns = groups.map((g) => g.TargetGroupArn).filter((a): a is string => !!a);
  const matching: string[] = [];
  for (let i = 0; i < arns.length; i += 20) {
    const out = await elbv2.send(
      new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }),
      opts,
    );
    for (const d of out.TagDescriptions ?? []) {
      const tags = new Map((d.Tags ?? []).map((t) => [t.Key, t.Value]));
      if (tags.get("service.k8s.aws/stack") !== exp.service) continue;
      if (exp.cluster !== undefined && tags.get("elbv2.k8s.aws/cluster") !== exp.cluster) continue;
      if (d.ResourceArn) matching.push(d.ResourceArn);
    }
  }
  return matching;
}

async function readView(
  elbv2: ElasticLoadBalancingV2Client,
  kube: KubeClients,
  arns: readonly string[],
  exp: LbTargetsExpectation,
  signal: AbortSignal,
): Promise<LbTargetsView> {
  const opts = { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) };
  const targets: LbTarget[] = [];
  for (const arn of arns) {
    const out = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), opts);
    for (const d of out.TargetHealthDescriptions ?? []) {
      if (!d.Target?.Id) continue;
      targets.push({
        id: d.Target.Id,
        port: d.Target.Port,
        state: d.TargetHealth?.State ?? "unknown",
      });
    }
  }
  const call = callOptions(signal);
  const [nodes, old, pods] = await Promise.all([
    kube.core.listNode({}, call),
    kube.core.listNode({ labelSelector: nodeLabelSelector(exp.oldCapacity) }, call),
    kube.core.listPodForAllNamespaces({ fieldSelector: "status.phase=Running" }, call),
  ]);
  const podNodes = new Map<string, string>();
  for (const p of pods.items as V1Pod[]) {
    const ip = p.status?.podIP;
    if (ip && p.spec?.nodeName && !p.spec.hostNetwork) podNodes.set(ip, p.spec.nodeName);
  }
  return {
    targets,
    nodes: nodes.items.map(capacityNode),
    oldNodes: old.items.map(capacityNode),
    podNodes,
  };
}

/** Polls the load balancer's targets (see LB_TARGETS_POLL_MS) and reports each change. */
export function lbTargetsProbe(
  elbv2: ElasticLoadBalancingV2Client,
  kube: KubeClients,
  exp: LbTargetsExpectation,
  opts: { intervalMs?: number } = {},
): Probe {
  const interval = opts.intervalMs ?? LB_TARGETS_POLL_MS;
  const groupText = describeSelector(exp.oldCapacity);
  return {
    observe: async (signal, report) => {
      const emit = reportChanges(report);
      const backoff = new Backoff({ initialMs: interval, maxMs: 5_000 });
      let arns: string[] = [];
      while (!signal.aborted) {
        let delay = interval;
        try {
          if (arns.length === 0) arns = await findTargetGroups(elbv2, exp, signal);
          if (arns.length === 0) {
            emit({
              ok: false,
              reason: `no target group tagged service.k8s.aws/stack=${exp.service}${exp.cluster ? ` for cluster ${exp.cluster}` : ""} (is the AWS Load Balancer Controller running?)`,
            });
          } else {
            emit(evaluateLbTargets(await readView(elbv2, kube, arns, exp, signal), groupText));
          }
          backoff.reset();
        } catch (err) {
          if (signal.aborted) break;
          if ((err as { name?: string }).name === "TargetGroupNotFoundException") arns = [];
          delay = backoff.next();
          emit({
            ok: false,
            reason: `load balancer targets: ${errorMessage(err)}; retrying`,
          });
        }
        await sleep(delay, signal).catch(() => {});
      }
    },
  };
}
