import type {
  ActionOutcome,
  ActionPreview,
  ActionProgress,
  Probe,
  TrafficSource,
  TrafficTarget,
} from "../../engine/ports.js";
import type { ProjectSpec } from "../../infra/project-spec.js";
import type { LoadedPlan } from "./plan-file.js";

// What a migration on your own stack needs from the world. run-context.ts builds one from
// the real probes (nodes, placement, rollout, drained, ASG, traffic), ops (drain, delete)
// and your Pulumi project; unit tests of the step list use their own fakes.

export type GroupRole = "old" | "new";

export interface OwnStackProbes {
  /** The new group's nodes: exactly `expect.count` Ready (instance type, kubelet minor). */
  newGroupReady(): Probe;
  /** The group's Auto Scaling group has `count` InService instances (ASG discovery). */
  asgInService(role: GroupRole, count: number): Probe;
  /** Every workload's pods Ready on the new group and nowhere else; rollouts complete. */
  workloadsMoved(): Probe;
  /** No evictable pod left on the old group's nodes. */
  oldDrained(): Probe;
  /** No old-group node left in the API. */
  oldNodesGone(): Probe;
  trafficHealthy(step: string): Probe;
  zeroFailures(): Probe;
}

export interface OwnStackOps {
  drainPreview(signal: AbortSignal): Promise<ActionPreview>;
  drain(signal: AbortSignal, progress: (p: ActionProgress) => void): Promise<ActionOutcome>;
  uncordon(signal: AbortSignal): Promise<ActionOutcome>;
  deleteNodesPreview(signal: AbortSignal): Promise<ActionPreview>;
  deleteNodes(signal: AbortSignal): Promise<ActionOutcome>;
}

/** Your program on disk, as manual steps see it. */
export interface ProgramWatch {
  projectDir: string;
  /**
   * Waits (bounded, abortable) until the program differs from the one last applied, then
   * says what changed; a program already edited is seen at once.
   */
  waitForChange(signal: AbortSignal, progress: (p: ActionProgress) => void): Promise<ActionOutcome>;
}

export interface OwnStackReport {
  write(spec: ProjectSpec, signal: AbortSignal): Promise<{ path: string; summary: string }>;
  preview(): ActionPreview;
}

export interface OwnStackContext {
  plan: LoadedPlan;
  probes: OwnStackProbes;
  ops: OwnStackOps;
  program: ProgramWatch;
  traffic: TrafficSource;
  /** Undefined when the plan says `traffic: none` (traffic gates off). */
  trafficTarget?: TrafficTarget;
  report: OwnStackReport;
}
