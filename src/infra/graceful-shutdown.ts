// How long a terminating NGINX pod keeps serving, and why. A pod that is deleted leaves the
// Service's endpoints, but the load balancer (and kube-proxy on every node) only stops
// sending it new connections after its deregistration delay. So the pod must:
//   1. keep accepting for longer than that delay (the preStop sleep), then
//   2. on SIGTERM let NGINX finish in-flight requests (worker-shutdown-timeout), and
//   3. be given a grace period longer than 1 + 2, or the kubelet SIGKILLs it mid-request.

export interface GracefulShutdown {
  /** How long the load balancer keeps routing to a backend that is being removed. */
  deregistrationDelaySeconds: number;
  /** preStop sleep: longer than the deregistration delay plus endpoint propagation. */
  preStopSleepSeconds: number;
  /** NGINX `worker-shutdown-timeout`: in-flight requests after SIGTERM. */
  workerShutdownTimeoutSeconds: number;
  /** Longer than preStop + worker shutdown, so the kubelet never cuts a drain short. */
  terminationGracePeriodSeconds: number;
}

/**
 * The classic load balancer's connection draining (the Service annotation on AWS) is 30 s;
 * 10 s more in preStop covers endpoint and kube-proxy propagation; 60 s for in-flight
 * requests is the tutorial's worker-shutdown-timeout; 20 s of slack on top of both.
 * The local target deploys the same numbers: its data plane runs the same termination
 * sequence (leave endpoints, preStop wait, graceful stop) scaled by the sandbox's time
 * factor, so the rehearsal exercises exactly the manifests AWS gets.
 */
export const GRACEFUL_SHUTDOWN: GracefulShutdown = {
  deregistrationDelaySeconds: 30,
  preStopSleepSeconds: 40,
  workerShutdownTimeoutSeconds: 60,
  terminationGracePeriodSeconds: 120,
};

/** Throws when the numbers would cut requests off. */
export function assertShutdownOrdering(s: GracefulShutdown): void {
  if (s.preStopSleepSeconds <= s.deregistrationDelaySeconds) {
    throw new Error(
      `preStop sleep ${s.preStopSleepSeconds}s must exceed the deregistration delay ${s.deregistrationDelaySeconds}s`,
    );
  }
  if (s.terminationGracePeriodSeconds <= s.preStopSleepSeconds + s.workerShutdownTimeoutSeconds) {
    throw new Error(
      `grace period ${s.terminationGracePeriodSeconds}s must exceed preStop ${s.preStopSleepSeconds}s + worker shutdown ${s.workerShutdownTimeoutSeconds}s`,
    );
  }
}
