import type { V1LoadBalancerIngress, V1Service } from "@kubernetes/client-node";

// How a consumer turns a LoadBalancer Service's status into a URL, on AWS and in the
// sandbox alike:
//   host = status.loadBalancer.ingress[0].hostname ?? .ip
//   port = status.loadBalancer.ingress[0].ports[0].port, if present, else spec.ports[0].port
//   url  = http://<host>:<port>   (":80" dropped)
// On AWS the ELB publishes a hostname and no ports (the Service port, 80, is the listener).
// The sandbox's load balancer listens on 127.0.0.1 at a port of its own and publishes it
// in ports[0].port, so the same rule gives http://127.0.0.1:<lb port>.

export function loadBalancerUrl(svc: V1Service): string | undefined {
  const ing: V1LoadBalancerIngress | undefined = svc.status?.loadBalancer?.ingress?.[0];
  const host = ing?.hostname || ing?.ip;
  if (!host) return undefined;
  const port = ing?.ports?.[0]?.port ?? svc.spec?.ports?.[0]?.port ?? 80;
  const h = host.includes(":") ? `[${host}]` : host;
  return port === 80 ? `http://${h}` : `http://${h}:${port}`;
}

/** The status the sandbox publishes for its load balancer listening on 127.0.0.1:port. */
export function sandboxLoadBalancerIngress(
  port: number,
  form: "ip" | "hostname",
): V1LoadBalancerIngress {
  return form === "ip"
    ? { ip: "127.0.0.1", ipMode: "Proxy", ports: [{ port, protocol: "TCP" }] }
    : { hostname: "localhost", ports: [{ port, protocol: "TCP" }] };
}
