import type { V1Service } from "@kubernetes/client-node";

// The load balancer's deregistration delay for a Service, from the annotations the AWS
// load balancer integrations read (NLB target group attribute, or Classic ELB connection
// draining), with AWS's default (300 s) when none is set.

export const ANNOTATION = {
  targetGroupAttributes: "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
  drainingEnabled: "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled",
  drainingTimeout: "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout",
} as const;

export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;

export function deregistrationDelaySeconds(svc: V1Service | undefined): number {
  const a = svc?.metadata?.annotations ?? {};
  const attrs = a[ANNOTATION.targetGroupAttributes];
  if (attrs) {
    const m = /(?:^|,)\s*deregistration_delay\.timeout_seconds\s*=\s*(\d+)/.exec(attrs);
    if (m) return Number(m[1]);
  }
  const timeout = a[ANNOTATION.drainingTimeout];
  if (timeout !== undefined && a[ANNOTATION.drainingEnabled] !== "false" && /^\d+$/.test(timeout)) {
    return Number(timeout);
  }
  if (a[ANNOTATION.drainingEnabled] === "false") return 0;
  return DEFAULT_DEREGISTRATION_DELAY_SECONDS;
}
