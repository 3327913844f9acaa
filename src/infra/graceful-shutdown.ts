import {
  healthCheckDetectionSeconds,
  type LoadBalancerModel,
  NLB_IP_TARGETS,
} from "./load-balancer-model.js";

// How long a terminating NGINX pod keeps serving, and why, derived in one place from the
// load-balancer model (both targets deploy these numbers; the sandbox runs them scaled).
//
// A deleted NGINX pod leaves the Service's ready endpoints at once, but the load balancer
// keeps it for a while: the controller deregisters the target (propagation), the NLB keeps
// existing connections for the deregistration delay and then resets what is left
// (connection termination). With an L4 listener the client's own TCP connections end on
// NGINX, so NGINX must, in this order:
//   1. close every client keep-alive connection itself, politely (`Connection: close` on a
//      response, via nginx's keepalive_time) before the NLB resets it: max connection age
//      + propagation < deregistration delay;
//   2. keep accepting until the LB can no longer send it anything: preStop ≥ deregistration
//      delay + health-check detection (the fallback when deregistration lags);
//   3. on SIGTERM finish in-flight requests (worker-shutdown-timeout), and
//   4. be given a grace period longer than 2 + 3, or the kubelet SIGKILLs it mid-request.
// And at idle: NGINX must close idle client connections before the NLB forgets the flow
// (idle timeout, after which the NLB answers the client's next packet with a reset):
// keep-alive timeout < LB idle timeout.

export interface GracefulShutdown {
  /** How long the load balancer keeps routing to a backend that is being removed. */
  deregistrationDelaySeconds: number;
  /** preStop sleep: the LB has stopped sending by then. */
  preStopSleepSeconds: number;
  /** NGINX `worker-shutdown-timeout`: in-flight requests after SIGTERM. */
  workerShutdownTimeoutSeconds: number;
  /** Longer than preStop + worker shutdown, so the kubelet never cuts a drain short. */
  terminationGracePeriodSeconds: number;
  /** NGINX `keep-alive` (keepalive_timeout): idle client connections, < LB idle timeout. */
  keepAliveSeconds: number;
  /**
   * nginx `keepalive_time`: a client connection older than this is closed after its next
   * response (with `Connection: close`), so connections pinned to a pod end before the LB
   * resets them. 0 = not set (nginx's default, 1 h).
   */
  keepAliveMaxAgeSeconds: number;
  /** NGINX `upstream-keepalive-timeout`: idle NGINX → echoserver connections. */
  upstreamKeepAliveSeconds: number;
}

/** Slack on top of every derived bound (scheduling jitter, clock granularity). */
const MARGIN_SECONDS = 5;
/** The tutorial's in-flight budget after SIGTERM. */
const WORKER_SHUTDOWN_SECONDS = 60;
/** The tutorial's NGINX keep-alive, well under the NLB's 350 s idle timeout. */
const KEEP_ALIVE_SECONDS = 200;
/** Under the echoserver's own keep-alive timeout (Node's http server: 65 s here). */
const UPSTREAM_KEEP_ALIVE_SECONDS = 60;

/** The timings that make the LB's removal of a pod invisible to clients. */
export function deriveGracefulShutdown(lb: LoadBalancerModel): GracefulShutdown {
  const delay = lb.deregistrationDelaySeconds;
  const preStop = delay + healthCheckDetectionSeconds(lb);
  // L4 only: behind an L7 balancer the client's connections end on the balancer, not here.
  const maxAge =
    lb.listener === "L4"
      ? Math.max(1, delay - lb.deregistrationPropagationSeconds - 2 * MARGIN_SECONDS)
      : 0;
  return {
    deregistrationDelaySeconds: delay,
    preStopSleepSeconds: preStop,
    workerShutdownTimeoutSeconds: WORKER_SHUTDOWN_SECONDS,
    terminationGracePeriodSeconds: preStop + WORKER_SHUTDOWN_SECONDS + 2 * MARGIN_SECONDS,
    keepAliveSeconds: Math.min(KEEP_ALIVE_SECONDS, lb.idleTimeoutSeconds - MARGIN_SECONDS),
    keepAliveMaxAgeSeconds: maxAge,
    upstreamKeepAliveSeconds: UPSTREAM_KEEP_ALIVE_SECONDS,
  };
}

/** The numbers both targets deploy: derived from the chosen load balancer. */
export const GRACEFUL_SHUTDOWN: GracefulShutdown = deriveGracefulShutdown(NLB_IP_TARGETS);

/** Every way the numbers would cut requests off (empty = safe). */
export function shutdownViolations(
  s: GracefulShutdown,
  lb: LoadBalancerModel = NLB_IP_TARGETS,
): string[] {
  const v: string[] = [];
  if (s.preStopSleepSeconds <= s.deregistrationDelaySeconds) {
    v.push(
      `preStop sleep ${s.preStopSleepSeconds}s must exceed the deregistration delay ${s.deregistrationDelaySeconds}s`,
    );
  }
  if (s.terminationGracePeriodSeconds <= s.preStopSleepSeconds + s.workerShutdownTimeoutSeconds) {
    v.push(
      `grace period ${s.terminationGracePeriodSeconds}s must exceed preStop ${s.preStopSleepSeconds}s + worker shutdown ${s.workerShutdownTimeoutSeconds}s`,
    );
  }
  if (s.keepAliveSeconds >= lb.idleTimeoutSeconds) {
    v.push(
      `NGINX keep-alive ${s.keepAliveSeconds}s must be shorter than the load balancer's idle timeout ${lb.idleTimeoutSeconds}s (or the LB drops idle connections the client still uses)`,
    );
  }
  if (lb.listener === "L4" && lb.connectionTerminationOnDeregistration) {
    const closedBy = s.keepAliveMaxAgeSeconds + lb.deregistrationPropagationSeconds;
    if (s.keepAliveMaxAgeSeconds <= 0 || closedBy >= s.deregistrationDelaySeconds) {
      v.push(
        `NGINX keepalive_time ${s.keepAliveMaxAgeSeconds || "unset"}s + propagation ${lb.deregistrationPropagationSeconds}s must end client connections before the deregistration delay ${s.deregistrationDelaySeconds}s resets them`,
      );
    }
  }
  return v;
}

/** Throws when the numbers would cut requests off. */
export function assertShutdownOrdering(
  s: GracefulShutdown,
  lb: LoadBalancerModel = NLB_IP_TARGETS,
): void {
  const v = shutdownViolations(s, lb);
  if (v.length > 0) throw new Error(v.join("; "));
}
