import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { errorMessage } from "../engine/errors.js";
import type { Probe, ProbeResult } from "../engine/ports.js";
import { Backoff, sleep } from "../kube/backoff.js";
import { listSome, reportChanges } from "./report-changes.js";

export type AsgExpectation =
  | {
      groupName: string;
      /** InService instances must equal the group's desired capacity, or this number. */
      inService: "desired" | number;
    }
  | { groupName: string; gone: true };

/**
 * Auto Scaling has no watch or streaming API. The event-driven alternatives (lifecycle
 * hooks or EventBridge rules feeding SQS) would have to be created in the user's account
 * first, which a read-only gate must not do. So this probe polls
 * DescribeAutoScalingGroups for one group: 500 ms keeps the gate well inside a second of
 * the change while staying at 2 requests/s, far under the API's throttling limits; a
 * throttled or failing call backs off (bounded) instead.
 */
export const ASG_POLL_INTERVAL_MS = 500;

export function evaluateAsg(group: AutoScalingGroup | undefined, exp: AsgExpectation): ProbeResult {
  const id = `ASG ${exp.groupName}`;
  if ("gone" in exp) {
    if (!group) return { ok: true, reason: `${id} is gone` };
    const status = group.Status ? ` (${group.Status})` : "";
    return {
      ok: false,
      reason: `${id} still exists${status}: ${describeInstances(group)}`,
    };
  }
  if (!group) return { ok: false, reason: `${id} not found` };
  const desired = group.DesiredCapacity ?? 0;
  const want = exp.inService === "desired" ? desired : exp.inService;
  const inService = (group.Instances ?? []).filter((i) => i.LifecycleState === "InService").length;
  const head = `${id}: ${inService}/${want} InService (desired ${desired})`;
  const problems: string[] = [];
  if (exp.inService !== "desired" && desired !== want)
    problems.push(`desired is ${desired}, expected ${want}`);
  const others = (group.Instances ?? []).filter((i) => i.LifecycleState !== "InService");
  if (inService === want && problems.length === 0 && others.length === 0) {
    return { ok: true, reason: head };
  }
  if (inService === want && problems.length === 0) {
    // The count is right but instances are still coming or going: not settled yet.
    return { ok: false, reason: `${head}; ${describeInstances(group)}` };
  }
  return { ok: false, reason: `${head}; ${[...problems, describeInstances(group)].join("; ")}` };
}

/** "InService: i-1, i-2; Pending: i-3" or "no instances". */
export function describeInstances(group: AutoScalingGroup): string {
  const byState = new Map<string, string[]>();
  for (const i of group.Instances ?? []) {
    const state = i.LifecycleState ?? "Unknown";
    // Appended in place: copying the list per instance was quadratic at 1,000 instances.
    const ids = byState.get(state);
    if (ids) ids.push(i.InstanceId ?? "?");
    else byState.set(state, [i.InstanceId ?? "?"]);
  }
  if (byState.size === 0) return "no instances";
  return [...byState.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([state, ids]) => `${state}: ${listSome(ids.sort(), 4)}`)
    .join("; ");
}

/** Reads one group; undefined when it does not exist. */
export async function describeGroup(
  client: AutoScalingClient,
  groupName: string,
  signal: AbortSignal,
): Promise<AutoScalingGroup | undefined> {
  const out = await client.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) },
  );
  return out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === groupName);
}

/**
 * A call's cost grows with the group (1,000 instances are a large response to parse): the
 * next poll waits at least this many times the last call's duration, so polling never takes
 * more than a fifth of a core however big the group.
 */
export const ASG_POLL_COST_FACTOR = 4;

/** Polls the group (see ASG_POLL_INTERVAL_MS for why it polls) and reports each change. */
export function asgProbe(
  client: AutoScalingClient,
  exp: AsgExpectation,
  opts: { intervalMs?: number } = {},
): Probe {
  const interval = opts.intervalMs ?? ASG_POLL_INTERVAL_MS;
  return {
    observe: async (signal, report) => {
      const emit = reportChanges(report);
      const backoff = new Backoff({ initialMs: interval, maxMs: 5_000 });
      while (!signal.aborted) {
        let delay = interval;
        try {
          const began = performance.now();
          const group = await describeGroup(client, exp.groupName, signal);
          delay = Math.max(interval, (performance.now() - began) * ASG_POLL_COST_FACTOR);
          backoff.reset();
          emit(evaluateAsg(group, exp));
        } catch (err) {
          if (signal.aborted) break;
          delay = backoff.next();
          const name = err instanceof Error ? err.name : "Error";
          emit({
            ok: false,
            reason: `ASG ${exp.groupName}: Auto Scaling API call failed (${name}: ${errorMessage(err)}); retrying`,
          });
        }
        await sleep(delay, signal);
      }
    },
  };
}
