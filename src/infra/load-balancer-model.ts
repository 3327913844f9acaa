// One typed model of the load balancer in front of the NGINX ingress controller. The AWS
// program turns it into AWS Load Balancer Controller annotations (so the NLB's target group
// gets exactly these attributes), the local program writes the same annotations, and the
// sandbox data plane reads them back into this model to generate its HAProxy. NGINX's
// shutdown timings are derived from it (graceful-shutdown.ts). Change a number here and
// both targets, and the rehearsal's verdict, follow.
//
// The design (see docs/load-balancer-fidelity.md for the argument): a Network Load Balancer
// provisioned by the AWS Load Balancer Controller, TCP listener (NGINX stays the only L7
// hop), IP targets (pod IPs, so nodes leaving the cluster are not in the data path and the
// controller's pod readiness gate ties a pod's Ready to its target being healthy), explicit
// target-group attributes instead of AWS's defaults (300 s deregistration delay).
//
// AWS documentation this rests on:
// - NLB target group attributes (deregistration delay, connection termination):
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html
// - NLB health checks (interval, thresholds; a target leaves rotation after
//   unhealthy-threshold failed checks):
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html
// - NLB TCP idle timeout (350 s default, 60–6000 s via tcp.idle_timeout.seconds):
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html
// - DeregisterTargets: "stops sending requests to targets that are deregistering, but uses
//   connection draining to ensure that in-flight traffic completes on the existing connections":
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html
// - AWS Load Balancer Controller Service annotations and pod readiness gate:
//   https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/
//   https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/

export type ListenerProtocol = "L4" | "L7";
export type TargetType = "instance" | "ip";

export interface HealthCheck {
  protocol: "HTTP" | "TCP";
  /** HTTP path (ignored for TCP checks). */
  path: string;
  /** "traffic-port" or a port number (ingress-nginx serves /healthz on 10254). */
  port: "traffic-port" | number;
  intervalSeconds: number;
  timeoutSeconds: number;
  /** Consecutive successes before a target is healthy. */
  healthyThreshold: number;
  /** Consecutive failures before a target is unhealthy and leaves rotation. */
  unhealthyThreshold: number;
}

export interface LoadBalancerModel {
  /** "nlb" (L4, TCP listener) or "alb" (L7, HTTP listener). */
  kind: "nlb" | "alb";
  listener: ListenerProtocol;
  targetType: TargetType;
  /** Seconds a deregistered target keeps its existing connections ("draining"). */
  deregistrationDelaySeconds: number;
  /** NLB: reset the connections still open when the deregistration delay ends. */
  connectionTerminationOnDeregistration: boolean;
  /** NLB default: connections to a target that turns unhealthy are reset. */
  connectionTerminationOnUnhealthy: boolean;
  healthCheck: HealthCheck;
  /** Connection idle timeout of the listener (NLB TCP: 350 s default). */
  idleTimeoutSeconds: number;
  /**
   * Time from a pod leaving the Service's ready endpoints to the load balancer no longer
   * sending it new connections: the controller's reconcile, the DeregisterTargets call and
   * the load balancer's own propagation. AWS documents no bound; this is the budget the
   * shutdown timings leave for it, and the sandbox waits this long (scaled) before it takes
   * a target out of rotation.
   */
  deregistrationPropagationSeconds: number;
  /** Whether the load balancer retries a request that failed on a target. NLB and ALB: no. */
  retries: boolean;
}

/** The design this project defends (see the header). */
export const NLB_IP_TARGETS: LoadBalancerModel = {
  kind: "nlb",
  listener: "L4",
  targetType: "ip",
  deregistrationDelaySeconds: 30,
  connectionTerminationOnDeregistration: true,
  connectionTerminationOnUnhealthy: true,
  healthCheck: {
    protocol: "HTTP",
    path: "/healthz",
    port: 10254,
    intervalSeconds: 10,
    timeoutSeconds: 5,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
  },
  idleTimeoutSeconds: 350,
  deregistrationPropagationSeconds: 5,
  retries: false,
};

/** Time from a target failing to answer until the LB stops routing to it. */
export function healthCheckDetectionSeconds(m: LoadBalancerModel): number {
  return m.healthCheck.intervalSeconds * m.healthCheck.unhealthyThreshold;
}

/** The annotation keys the AWS Load Balancer Controller reads (and the sandbox reads back). */
export const LBC_ANNOTATION = {
  type: "service.beta.kubernetes.io/aws-load-balancer-type",
  targetType: "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
  scheme: "service.beta.kubernetes.io/aws-load-balancer-scheme",
  targetGroupAttributes: "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
  listenerAttributes: "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-80",
  hcProtocol: "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol",
  hcPath: "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path",
  hcPort: "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port",
  hcInterval: "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval",
  hcTimeout: "service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout",
  hcHealthy: "service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold",
  hcUnhealthy: "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold",
  /** Not an AWS annotation: the propagation budget, recorded so the sandbox reads it back. */
  propagation: "eks-runbook.dev/deregistration-propagation-seconds",
} as const;

/** Namespace label that makes the controller inject its readiness gate into new pods. */
export const READINESS_GATE_INJECT_LABEL = {
  "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled",
} as const;

/**
 * The NLB as AWS Load Balancer Controller Service annotations: every attribute explicit,
 * none left to AWS's defaults. `external` hands the Service to the controller instead of
 * the in-tree (Classic LB) integration.
 */
export function loadBalancerAnnotations(m: LoadBalancerModel): Record<string, string> {
  if (m.kind !== "nlb") {
    throw new Error(
      "only the NLB design is rendered as Service annotations (an ALB needs an Ingress)",
    );
  }
  const hc = m.healthCheck;
  return {
    [LBC_ANNOTATION.type]: "external",
    [LBC_ANNOTATION.targetType]: m.targetType,
    [LBC_ANNOTATION.scheme]: "internet-facing",
    [LBC_ANNOTATION.targetGroupAttributes]: [
      `deregistration_delay.timeout_seconds=${m.deregistrationDelaySeconds}`,
      `deregistration_delay.connection_termination.enabled=${m.connectionTerminationOnDeregistration}`,
      `target_health_state.unhealthy.connection_termination.enabled=${m.connectionTerminationOnUnhealthy}`,
    ].join(","),
    [LBC_ANNOTATION.listenerAttributes]: `tcp.idle_timeout.seconds=${m.idleTimeoutSeconds}`,
    [LBC_ANNOTATION.hcProtocol]: hc.protocol.toLowerCase(),
    [LBC_ANNOTATION.hcPath]: hc.path,
    [LBC_ANNOTATION.hcPort]: String(hc.port),
    [LBC_ANNOTATION.hcInterval]: String(hc.intervalSeconds),
    [LBC_ANNOTATION.hcTimeout]: String(hc.timeoutSeconds),
    [LBC_ANNOTATION.hcHealthy]: String(hc.healthyThreshold),
    [LBC_ANNOTATION.hcUnhealthy]: String(hc.unhealthyThreshold),
    [LBC_ANNOTATION.propagation]: String(m.deregistrationPropagationSeconds),
  };
}

function parseAttributes(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (raw ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

function num(raw: string | undefined, fallback: number): number {
  if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw.trim())) return fallback;
  return Number(raw);
}

/**
 * The model back from a Service's annotations, with AWS's own defaults for what is not set
 * (an NLB target group: 300 s delay, no connection termination on deregistration, 350 s
 * idle timeout; LBC health-check defaults). Annotations of the in-tree Classic LB
 * (connection draining) are honoured for the delay, so older manifests still rehearse.
 */
export function loadBalancerModelFromAnnotations(
  annotations: Record<string, string> | undefined,
): LoadBalancerModel {
  const a = annotations ?? {};
  const tg = parseAttributes(a[LBC_ANNOTATION.targetGroupAttributes]);
  const listener = parseAttributes(a[LBC_ANNOTATION.listenerAttributes]);
  let delay = 300;
  if (tg.has("deregistration_delay.timeout_seconds")) {
    delay = num(tg.get("deregistration_delay.timeout_seconds"), 300);
  } else {
    const enabled = a["service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled"];
    const timeout = a["service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout"];
    if (enabled === "false") delay = 0;
    else if (timeout !== undefined) delay = num(timeout, 300);
  }
  const hcPort = a[LBC_ANNOTATION.hcPort];
  return {
    kind: "nlb",
    listener: "L4",
    targetType: a[LBC_ANNOTATION.targetType] === "ip" ? "ip" : "instance",
    deregistrationDelaySeconds: delay,
    connectionTerminationOnDeregistration:
      tg.get("deregistration_delay.connection_termination.enabled") === "true",
    connectionTerminationOnUnhealthy:
      tg.get("target_health_state.unhealthy.connection_termination.enabled") !== "false",
    healthCheck: {
      protocol: (a[LBC_ANNOTATION.hcProtocol] ?? "tcp").toUpperCase() === "HTTP" ? "HTTP" : "TCP",
      path: a[LBC_ANNOTATION.hcPath] ?? "/",
      port: hcPort && /^\d+$/.test(hcPort) ? Number(hcPort) : "traffic-port",
      intervalSeconds: num(a[LBC_ANNOTATION.hcInterval], 10),
      timeoutSeconds: num(a[LBC_ANNOTATION.hcTimeout], 10),
      healthyThreshold: num(a[LBC_ANNOTATION.hcHealthy], 3),
      unhealthyThreshold: num(a[LBC_ANNOTATION.hcUnhealthy], 3),
    },
    idleTimeoutSeconds: num(listener.get("tcp.idle_timeout.seconds"), 350),
    deregistrationPropagationSeconds: num(a[LBC_ANNOTATION.propagation], 0),
    retries: false,
  };
}
