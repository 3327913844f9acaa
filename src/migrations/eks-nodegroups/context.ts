import type {
  ActionOutcome,
  ActionPreview,
  ActionProgress,
  Probe,
  TrafficSource,
  TrafficTarget,
} from "../../engine/ports.js";
import type { MigrationSpec } from "../../infra/spec.js";
import type { RunbookConfig } from "./config.js";

// What the EKS migration runbook needs from the world. The CLI builds one from the real
// probes, ops, traffic and report writer; unit tests of the engine use their own fakes.

export interface NodesExpectation {
  group: string;
  count: number;
  /** The control plane's minor ("1.33"); kubelets must not be newer. */
  controlPlaneVersion: string;
  /** The group's kubelet minor from the spec. */
  kubeletVersion: string;
}

export interface EksProbes {
  nodesReady(e: NodesExpectation): Probe;
  nodesAbsent(group: string): Probe;
  podsPlaced(opts: {
    namespace: string;
    appLabel: string;
    instanceTypes: string[];
    expected: number;
  }): Probe;
  rolloutComplete(opts: { namespace: string; name: string }): Probe;
  noEvictablePods(group: string): Probe;
  asgInService(opts: { group: string; count: number }): Probe;
  asgGone(group: string): Probe;
  /** One request through the load balancer answers 200 (before traffic runs). */
  httpOk(opts: { host: string; path: string }): Probe;
  /** Success over the window, and no failure since the step (timeline mark `step`) began. */
  trafficHealthy(opts: {
    step: string;
    windowSeconds: number;
    successRatePercent: number;
    minRequests: number;
    /** Failure classes not counted as user-visible (gates.ignoreFailureClasses). */
    ignoreFailureClasses?: readonly string[];
  }): Probe;
  /** No user-visible request failed since traffic started. */
  zeroFailures(ignoreFailureClasses?: readonly string[]): Probe;
  /** The stack holds no resources of this node group. */
  stackWithoutGroup(group: string): Probe;
  /** The load balancer (ELBv2 DescribeTargetHealth) has no target, registered or
   * draining, on this group's nodes. */
  lbTargetsOff(group: string): Probe;
}

export interface EksOps {
  drainPreview(group: string, signal: AbortSignal): Promise<ActionPreview>;
  drain(
    group: string,
    signal: AbortSignal,
    progress: (p: ActionProgress) => void,
  ): Promise<ActionOutcome>;
  uncordon(group: string, signal: AbortSignal): Promise<ActionOutcome>;
  deleteNodesPreview(group: string, signal: AbortSignal): Promise<ActionPreview>;
  deleteNodes(group: string, signal: AbortSignal): Promise<ActionOutcome>;
  /** Labels the group's nodes node.kubernetes.io/exclude-from-external-load-balancers. */
  excludeFromLoadBalancers(group: string, signal: AbortSignal): Promise<ActionOutcome>;
  /** Removes that label (roll back of a drain). */
  includeInLoadBalancers(group: string, signal: AbortSignal): Promise<ActionOutcome>;
}

export interface EksReport {
  /** Writes the report (JSON, CSV, Markdown, SVG, PNG); returns the Markdown path. */
  write(spec: MigrationSpec, signal: AbortSignal): Promise<{ path: string; summary: string }>;
  preview(): ActionPreview;
}

export interface EksContext {
  config: RunbookConfig;
  probes: EksProbes;
  ops: EksOps;
  traffic: TrafficSource;
  /** Where traffic goes: the load balancer from the stack outputs. */
  trafficTarget(signal: AbortSignal): Promise<TrafficTarget>;
  report: EksReport;
}
