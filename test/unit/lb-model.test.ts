import { describe, expect, it } from "vitest";
import {
  deriveGracefulShutdown,
  GRACEFUL_SHUTDOWN,
  shutdownViolations,
} from "../../src/infra/graceful-shutdown.js";
import {
  healthCheckDetectionSeconds,
  loadBalancerAnnotations,
  loadBalancerModelFromAnnotations,
  NLB_IP_TARGETS,
} from "../../src/infra/load-balancer-model.js";
import { nginxSettings } from "../../src/infra/nginx-controller.js";
import { renderHaproxyConfig } from "../../src/sandbox/dataplane/haproxy-config.js";
import { nginxSettingsFromConfigMap } from "../../src/sandbox/dataplane/nginx-config.js";
import { sandboxBalancer } from "../../src/sandbox/dataplane/service-timings.js";

// One load-balancer model → AWS annotations → the sandbox's balancer, and NGINX's shutdown
// derived from it: the rehearsal plays exactly what the AWS program asks AWS for.

describe("load-balancer model", () => {
  it("round-trips through the controller's annotations (what the sandbox reads back)", () => {
    expect(loadBalancerModelFromAnnotations(loadBalancerAnnotations(NLB_IP_TARGETS))).toEqual(
      NLB_IP_TARGETS,
    );
  });

  it("falls back to AWS's defaults for what a Service leaves unset", () => {
    const m = loadBalancerModelFromAnnotations({});
    expect(m.deregistrationDelaySeconds).toBe(300);
    expect(m.connectionTerminationOnDeregistration).toBe(false);
    expect(m.idleTimeoutSeconds).toBe(350);
    expect(m.retries).toBe(false);
    expect(m.targetType).toBe("instance");
  });

  it("the sandbox plays it as an L4 balancer, scaled, without retries", () => {
    const b = sandboxBalancer(NLB_IP_TARGETS, 0.2);
    expect(b).toMatchObject({
      mode: "tcp",
      deregistrationDelayMs: 6_000,
      propagationMs: 1_000,
      connectionTermination: true,
      check: { path: "/healthz", intervalMs: 2_000, timeoutMs: 1_000, rise: 2, fall: 2 },
    });
    const conf = renderHaproxyConfig({
      listenPort: 25000,
      adminSocket: "/s/admin.sock",
      pidFile: "/s/haproxy.pid",
      slots: [{ port: 41001 }],
      hardStopAfterMs: 10_000,
      balancer: b,
    });
    expect(conf).toContain("  mode tcp\n");
    expect(conf).toContain("  retries 0\n");
    expect(conf).not.toContain("retry-on");
    expect(conf).not.toContain("redispatch");
    expect(conf).toContain("option httpchk GET /healthz");
    expect(conf).toContain(
      "default-server check inter 2000ms fall 2 rise 2 on-marked-down shutdown-sessions",
    );
    expect(conf).toContain("timeout client 350000ms");
    expect(conf).not.toContain("idle-close-on-response");
  });
});

describe("graceful shutdown derived from the load balancer", () => {
  const s = deriveGracefulShutdown(NLB_IP_TARGETS);

  it("outlasts the deregistration delay plus health-check detection", () => {
    expect(s.preStopSleepSeconds).toBe(
      NLB_IP_TARGETS.deregistrationDelaySeconds + healthCheckDetectionSeconds(NLB_IP_TARGETS),
    );
    expect(s.terminationGracePeriodSeconds).toBeGreaterThan(
      s.preStopSleepSeconds + s.workerShutdownTimeoutSeconds,
    );
    expect(s.keepAliveSeconds).toBeLessThan(NLB_IP_TARGETS.idleTimeoutSeconds);
    expect(s.keepAliveMaxAgeSeconds + NLB_IP_TARGETS.deregistrationPropagationSeconds).toBeLessThan(
      NLB_IP_TARGETS.deregistrationDelaySeconds,
    );
    expect(shutdownViolations(s)).toEqual([]);
    expect(GRACEFUL_SHUTDOWN).toEqual(s);
  });

  it("names each production mistake", () => {
    expect(shutdownViolations({ ...s, preStopSleepSeconds: 0 }).join()).toMatch(/preStop/);
    expect(shutdownViolations({ ...s, terminationGracePeriodSeconds: 20 }).join()).toMatch(
      /grace period/,
    );
    expect(shutdownViolations({ ...s, keepAliveSeconds: 400 }).join()).toMatch(/idle timeout/);
    expect(shutdownViolations({ ...s, keepAliveMaxAgeSeconds: 0 }).join()).toMatch(
      /keepalive_time/,
    );
  });

  it("NGINX's ConfigMap carries the max connection age, and the sandbox runs it scaled", () => {
    const data = nginxSettings(s);
    expect(data["http-snippet"]).toBe(`keepalive_time ${s.keepAliveMaxAgeSeconds}s;`);
    const { settings, warnings } = nginxSettingsFromConfigMap(data, 0.2);
    expect(warnings).toEqual([]);
    expect(settings.keepAliveTimeSeconds).toBe(Math.round(s.keepAliveMaxAgeSeconds * 0.2));
    expect(
      nginxSettingsFromConfigMap({ "http-snippet": "more_set_headers x;" }, 1).warnings,
    ).toHaveLength(1);
  });
});
