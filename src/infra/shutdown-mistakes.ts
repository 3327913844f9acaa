import type { GracefulShutdown } from "./graceful-shutdown.js";

// Production mistakes in NGINX's shutdown timings that a rehearsal can play on purpose
// (config `rehearsal.mistake`, local target only): proof that the rehearsal has teeth. With
// one of these the NGINX rollout of step 4 drops requests behind the model's NLB and the
// step's traffic gate fails, as it would on AWS; with the derived timings it drops none.

export const SHUTDOWN_MISTAKES = {
  /** NGINX quits on SIGTERM while the NLB still routes new connections to it. */
  "no-prestop-wait": {
    title: "no preStop wait: NGINX quits while the load balancer still routes to it",
    apply: (s: GracefulShutdown): GracefulShutdown => ({ ...s, preStopSleepSeconds: 0 }),
  },
  /**
   * The kubelet SIGKILLs NGINX before the deregistration delay has run out. Kubernetes
   * refuses a preStop sleep that is not shorter than the grace period, so the wait shrinks
   * with it (as it would in a chart that sets both).
   */
  "grace-shorter-than-deregistration-delay": {
    title: "termination grace (10 s) shorter than the deregistration delay",
    apply: (s: GracefulShutdown): GracefulShutdown => ({
      ...s,
      terminationGracePeriodSeconds: 10,
      preStopSleepSeconds: Math.min(s.preStopSleepSeconds, 9),
    }),
  },
  /** Clients' keep-alive connections stay pinned to a pod past the drain; the NLB resets them. */
  "keepalive-outlives-deregistration-delay": {
    title: "no keepalive_time: client connections outlive the deregistration delay",
    apply: (s: GracefulShutdown): GracefulShutdown => ({ ...s, keepAliveMaxAgeSeconds: 0 }),
  },
} as const;

export type ShutdownMistake = keyof typeof SHUTDOWN_MISTAKES;

export const SHUTDOWN_MISTAKE_NAMES = Object.keys(SHUTDOWN_MISTAKES) as [
  ShutdownMistake,
  ...ShutdownMistake[],
];
