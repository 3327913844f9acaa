import type { V1EndpointSlice, V1Ingress, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { formatEcho } from "../../src/sandbox/dataplane/echo-server-main.js";
import { EndpointPortMap } from "../../src/sandbox/dataplane/endpoint-map.js";
import { renderHaproxyConfig } from "../../src/sandbox/dataplane/haproxy-config.js";
import { buildIngressModel } from "../../src/sandbox/dataplane/ingress-model.js";
import { loadBalancerUrl, sandboxLoadBalancerIngress } from "../../src/sandbox/dataplane/lb-url.js";
import {
  DEFAULT_NGINX_SETTINGS,
  nginxSettingsFromConfigMap,
  renderNginxConfig,
} from "../../src/sandbox/dataplane/nginx-config.js";
import { renderBackends } from "../../src/sandbox/dataplane/nginx-dynamic-backends.js";
import { deregistrationDelaySeconds } from "../../src/sandbox/dataplane/service-timings.js";

function slice(
  service: string,
  port: { name?: string; port: number },
  endpoints: { ip: string; uid: string }[],
): V1EndpointSlice {
  return {
    addressType: "IPv4",
    metadata: {
      name: `${service}-x`,
      namespace: "apps",
      labels: { "kubernetes.io/service-name": service },
    },
    ports: [{ name: port.name ?? "", port: port.port, protocol: "TCP" }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: true },
      targetRef: { kind: "Pod", uid: e.uid },
    })),
  };
}

const echoService: V1Service = {
  metadata: { name: "echoserver", namespace: "apps" },
  spec: { ports: [{ name: "http", port: 8080, targetPort: 8080 }] },
};

function ingress(
  name: string,
  paths: { path: string; pathType: string; service: string; port?: number }[],
  opts: { host?: string; className?: string; created?: string } = {},
): V1Ingress {
  return {
    metadata: {
      name,
      namespace: "apps",
      creationTimestamp: new Date(opts.created ?? "2025-01-01T00:00:00Z"),
    },
    spec: {
      ingressClassName: opts.className ?? "nginx",
      rules: [
        {
          host: opts.host ?? "apps.example.com",
          http: {
            paths: paths.map((p) => ({
              path: p.path,
              pathType: p.pathType,
              backend: { service: { name: p.service, port: { number: p.port ?? 8080 } } },
            })),
          },
        },
      ],
    },
  };
}

function mapWith(...ports: [uid: string, ip: string, port: number][]) {
  const m = new EndpointPortMap();
  for (const [uid, ip, port] of ports) {
    m.set({ uid, podIP: ip, containerPort: 8080, loopbackPort: port, accepting: true });
  }
  return m;
}

const slices = [
  slice("echoserver", { name: "http", port: 8080 }, [
    { ip: "10.244.0.1", uid: "a" },
    { ip: "10.244.0.2", uid: "b" },
  ]),
];

describe("ingress model", () => {
  it("routes host + path to the backend's ready endpoints through the map", () => {
    const model = buildIngressModel({
      ingressClass: "nginx",
      ingresses: [
        ingress("echo", [{ path: "/echoserver", pathType: "Prefix", service: "echoserver" }]),
      ],
      services: [echoService],
      slices,
      map: mapWith(["a", "10.244.0.1", 41001], ["b", "10.244.0.2", 41002]),
    });
    expect(model.hosts).toHaveLength(1);
    expect(model.hosts[0]!.host).toBe("apps.example.com");
    expect(model.hosts[0]!.locations[0]).toMatchObject({
      path: "/echoserver",
      pathType: "Prefix",
      upstream: { name: "upstream_apps_echoserver_http", ports: [41001, 41002] },
    });
  });

  it("ignores other classes, keeps the oldest Ingress on a conflict, and skips unsafe paths", () => {
    const model = buildIngressModel({
      ingressClass: "nginx",
      ingresses: [
        ingress("newer", [{ path: "/echoserver", pathType: "Prefix", service: "missing" }], {
          created: "2025-02-01T00:00:00Z",
        }),
        ingress("older", [{ path: "/echoserver", pathType: "Prefix", service: "echoserver" }]),
        ingress("alb", [{ path: "/x", pathType: "Prefix", service: "echoserver" }], {
          className: "alb",
        }),
        ingress("evil", [{ path: "/a;}b", pathType: "Prefix", service: "echoserver" }]),
      ],
      services: [echoService],
      slices,
      map: mapWith(["a", "10.244.0.1", 41001]),
    });
    const locs = model.hosts[0]!.locations;
    expect(locs.map((l) => [l.path, l.ingress])).toEqual([["/echoserver", "apps/older"]]);
    expect(model.warnings.join("\n")).toContain('path "/a;}b" skipped');
  });
});

describe("nginx config of an ingress pod", () => {
  const model = buildIngressModel({
    ingressClass: "nginx",
    ingresses: [
      ingress("echo", [
        { path: "/echoserver", pathType: "Prefix", service: "echoserver" },
        { path: "/exact", pathType: "Exact", service: "echoserver" },
        { path: "/down", pathType: "Prefix", service: "nobody" },
      ]),
    ],
    services: [echoService],
    slices,
    map: mapWith(["a", "10.244.0.1", 41001], ["b", "10.244.0.2", 41002]),
  });
  const conf = renderNginxConfig({
    model,
    settings: DEFAULT_NGINX_SETTINGS,
    listenPort: 40080,
    adminPort: 40081,
    containerPort: 80,
    dir: "/state/pods/p1",
    pidFile: "/state/pods/p1/nginx.pid",
    errorLog: "/state/pods/p1/logs/error.log",
    podName: "apps/nginx-1",
    runAsRoot: false,
  });

  it("listens on the pod's loopback port with /healthz and a 404 default server", () => {
    expect(conf).toContain("listen 127.0.0.1:40080 default_server backlog=4096;");
    // Ready only once the endpoint lists arrived (ingress-nginx waits for its dynamic config).
    expect(conf).toContain(
      "location = /healthz { access_log off; content_by_lua_block { eks_lb.healthz() } }",
    );
    expect(conf).toContain('location / { return 404 "default backend - 404\\n"; }');
    expect(conf).not.toContain("user root;");
  });

  it("proxies host + path like ingress-nginx, through the Lua balancer with keepalive", () => {
    const via = (u: string) =>
      `set $proxy_upstream_name ${u}; rewrite_by_lua_block { eks_lb.route() } proxy_pass http://upstream_balancer;`;
    expect(conf).toContain("server_name apps.example.com;");
    expect(conf).toContain(`location = /echoserver { ${via("upstream_apps_echoserver_http")} }`);
    expect(conf).toContain(`location /echoserver/ { ${via("upstream_apps_echoserver_http")} }`);
    expect(conf).toContain(`location = /exact { ${via("upstream_apps_echoserver_http")} }`);
    expect(conf).not.toContain("location /exact/");
    expect(conf).toMatch(
      /upstream upstream_balancer \{\n {4}server 0\.0\.0\.1;.*\n {4}balancer_by_lua_block \{ eks_lb\.balance\(\) \}\n {4}keepalive 320;/,
    );
    expect(conf).toContain("load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;");
    expect(conf).toContain("proxy_next_upstream error timeout;");
    expect(conf).toContain('proxy_set_header Connection "";');
    expect(conf).toContain("proxy_set_header X-Forwarded-Port 80;");
    expect(conf).toContain("worker_shutdown_timeout 240s;");
  });

  it("keeps endpoints out of the config: they are sent to the configuration port", () => {
    expect(conf).not.toContain("41001");
    expect(conf).toContain("listen 127.0.0.1:40081;");
    expect(conf).toContain("location = /configuration/backends {");
    expect(renderBackends(model)).toBe(
      "upstream_apps_echoserver_http 127.0.0.1:41001 127.0.0.1:41002\n",
    );
  });

  it("answers 503 for a missing Service in the config, as ingress-nginx does", () => {
    expect(conf).toContain("location = /down { return 503; }");
    expect(conf).toContain("location /down/ { return 503; }");
  });

  it("reads the controller ConfigMap, scaling the shutdown timeout and refusing bad values", () => {
    const { settings, warnings } = nginxSettingsFromConfigMap(
      {
        "worker-shutdown-timeout": "240s",
        "upstream-keepalive-connections": "64",
        "proxy-next-upstream": "error timeout http_502",
        "keep-alive": "abc",
      },
      0.2,
    );
    expect(settings.workerShutdownTimeoutSeconds).toBe(48);
    expect(settings.upstreamKeepaliveConnections).toBe(64);
    expect(settings.proxyNextUpstream).toBe("error timeout http_502");
    expect(settings.keepAliveSeconds).toBe(75);
    expect(warnings.join()).toContain("keep-alive");
    expect(
      nginxSettingsFromConfigMap({ "proxy-next-upstream": "error; evil" }, 1).warnings,
    ).toHaveLength(1);
  });
});

describe("load balancer config and status", () => {
  it("declares fixed server slots, empty ones disabled", () => {
    const conf = renderHaproxyConfig({
      listenPort: 25000,
      adminSocket: "/s/admin.sock",
      pidFile: "/s/haproxy.pid",
      slots: [{ port: 41001 }, { port: 41002, draining: true }, {}],
      hardStopAfterMs: 10_000,
    });
    expect(conf).toContain("bind 127.0.0.1:25000");
    expect(conf).toContain("server pod1 127.0.0.1:41001\n");
    expect(conf).toContain("server pod2 127.0.0.1:41002 disabled");
    expect(conf).toContain("server pod3 127.0.0.1:1 disabled");
    expect(conf).toContain("option idle-close-on-response");
    expect(conf).not.toContain("redispatch");
  });

  it("builds the URL from status the same way for AWS and the sandbox", () => {
    const svc = (ing: object): V1Service => ({
      spec: { ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [ing] } },
    });
    expect(loadBalancerUrl(svc({ hostname: "abc.elb.amazonaws.com" }))).toBe(
      "http://abc.elb.amazonaws.com",
    );
    expect(loadBalancerUrl(svc(sandboxLoadBalancerIngress(25000, "ip")))).toBe(
      "http://127.0.0.1:25000",
    );
    expect(loadBalancerUrl(svc(sandboxLoadBalancerIngress(25000, "hostname")))).toBe(
      "http://localhost:25000",
    );
    expect(loadBalancerUrl({ spec: {} })).toBeUndefined();
  });

  it("reads the deregistration delay from the AWS annotations", () => {
    const svc = (a: Record<string, string>): V1Service => ({ metadata: { annotations: a } });
    expect(deregistrationDelaySeconds(undefined)).toBe(300);
    expect(
      deregistrationDelaySeconds(
        svc({
          "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":
            "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=20",
        }),
      ),
    ).toBe(20);
    expect(
      deregistrationDelaySeconds(
        svc({ "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout": "45" }),
      ),
    ).toBe(45);
  });
});

describe("echo response", () => {
  it("answers like the tutorial's echoserver", () => {
    const text = formatEcho({
      podName: "echoserver-74648fd4dd-8jck4",
      containerPort: 8080,
      clientAddress: "127.0.0.1",
      method: "GET",
      url: "/echoserver?x=1",
      httpVersion: "1.1",
      headers: { "user-agent": "curl/8", host: "apps.example.com", "x-scheme": "http" },
      body: "",
    });
    expect(text.startsWith("Hostname: echoserver-74648fd4dd-8jck4\n")).toBe(true);
    expect(text).toContain("\treal path=/echoserver\n\tquery=x=1\n");
    expect(text).toContain("\trequest_uri=http://apps.example.com:8080/echoserver?x=1\n");
    expect(text).toContain(
      "Request Headers:\n\thost=apps.example.com\n\tuser-agent=curl/8\n\tx-scheme=http\n",
    );
    expect(text).toContain("Request Body:\n\t-no body in request-");
  });
});
