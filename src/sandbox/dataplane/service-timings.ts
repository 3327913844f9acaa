import type { V1Service } from "@kubernetes/client-node";
import {
  type LoadBalancerModel,
  loadBalancerModelFromAnnotations,
} from "../../infra/load-balancer-model.js";

// The sandbox's load balancer is the one the Service asks for: the data plane reads the same
// AWS Load Balancer Controller annotations the AWS program writes (infra/load-balancer-model)
// back into the model, with AWS's defaults for what is not set, and scales its timings by
// the sandbox time factor. So the rehearsal's balancer changes when the manifests change.

export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;

export function loadBalancerModelOf(svc: V1Service | undefined): LoadBalancerModel {
  return loadBalancerModelFromAnnotations(svc?.metadata?.annotations);
}

export function deregistrationDelaySeconds(svc: V1Service | undefined): number {
  return loadBalancerModelOf(svc).deregistrationDelaySeconds;
}

/** The model's timings for the sandbox: milliseconds, scaled by the time factor. */
export interface SandboxBalancer {
  /** HAProxy mode: "tcp" for an L4 listener (NLB), "http" for L7 (ALB). */
  mode: "tcp" | "http";
  deregistrationDelayMs: number;
  /** From the endpoint leaving to the target leaving rotation (controller + ELB propagation). */
  propagationMs: number;
  /** Reset the connections still open when the delay ends (NLB attribute). */
  connectionTermination: boolean;
  /** Reset the connections of a target that turns unhealthy (NLB default). */
  terminateOnUnhealthy: boolean;
  check: {
    /** HTTP path, or undefined for a TCP connect check. */
    path?: string;
    intervalMs: number;
    timeoutMs: number;
    rise: number;
    fall: number;
  };
  idleTimeoutMs: number;
}

export function sandboxBalancer(m: LoadBalancerModel, timeFactor: number): SandboxBalancer {
  const ms = (s: number) => Math.max(0, Math.round(s * 1000 * timeFactor));
  const hc = m.healthCheck;
  return {
    mode: m.listener === "L4" ? "tcp" : "http",
    deregistrationDelayMs: ms(m.deregistrationDelaySeconds),
    propagationMs: ms(m.deregistrationPropagationSeconds),
    connectionTermination: m.connectionTerminationOnDeregistration,
    terminateOnUnhealthy: m.connectionTerminationOnUnhealthy,
    check: {
      path: hc.protocol === "HTTP" ? hc.path : undefined,
      // HAProxy needs a positive interval; keep checks cheap on a shared machine.
      intervalMs: Math.max(100, ms(hc.intervalSeconds)),
      timeoutMs: Math.max(100, ms(hc.timeoutSeconds)),
      rise: hc.healthyThreshold,
      fall: hc.unhealthyThreshold,
    },
    // Idle timeouts are not scaled: they bound idle connections, not a shutdown sequence,
    // and scaling them down would close connections a real NLB keeps.
    idleTimeoutMs: m.idleTimeoutSeconds * 1000,
  };
}
