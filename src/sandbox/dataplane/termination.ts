import type { TerminationPlan } from "./pod-spec.js";

// A pod's termination as a kubelet runs it, against an injectable clock so the ordering can
// be tested without waiting: preStop wait → graceful stop signal → SIGKILL when the grace
// period (counted from the start, preStop included) ends. Grace 0 kills at once. Leaving the
// endpoints is not in here: the endpoints controller does that when the pod gets its
// deletionTimestamp, and the load balancer follows the EndpointSlice.

export interface Clock {
  now(): number;
  /** Resolves after ms; rejects when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const t = setTimeout(resolve, ms);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
};

export interface TerminationTarget {
  /** Resolves once the process (group) has exited. */
  exited: Promise<unknown>;
  /** nginx: SIGQUIT (`nginx -s quit`); echo server: SIGTERM. */
  gracefulStop(): void;
  /** SIGKILL to the whole process group. */
  kill(): void;
}

export type TerminationPhase = "pre-stop" | "stopping" | "killing";
export type TerminationOutcome = "exited-during-pre-stop" | "graceful" | "killed";

export async function runTermination(
  plan: Pick<TerminationPlan, "preStopMs" | "graceMs">,
  target: TerminationTarget,
  clock: Clock,
  onPhase: (phase: TerminationPhase) => void = () => {},
): Promise<TerminationOutcome> {
  const start = clock.now();
  let exited = false;
  const exitedP = target.exited.then(() => {
    exited = true;
  });
  /** Waits ms or until the process exits; true when it exited. */
  const waitOrExit = async (ms: number): Promise<boolean> => {
    if (exited) return true;
    if (ms <= 0) return exited;
    const ac = new AbortController();
    try {
      // The losing sleep is aborted below; its rejection is expected and ignored.
      await Promise.race([exitedP, clock.sleep(ms, ac.signal).catch(() => {})]);
    } finally {
      ac.abort();
    }
    return exited;
  };

  if (plan.graceMs > 0) {
    onPhase("pre-stop");
    if (await waitOrExit(Math.min(plan.preStopMs, plan.graceMs))) return "exited-during-pre-stop";
    onPhase("stopping");
    target.gracefulStop();
    if (await waitOrExit(plan.graceMs - (clock.now() - start))) return "graceful";
  }
  onPhase("killing");
  target.kill();
  await exitedP;
  return "killed";
}
