import type {
  V1EndpointSlice,
  V1Ingress,
  V1IngressBackend,
  V1Service,
} from "@kubernetes/client-node";
import { type EndpointPortMap, findServicePort, readyBackendPorts } from "./endpoint-map.js";

// The routing an ingress-nginx controller derives from the Ingress objects of its class:
// virtual hosts, their locations, and for each location the upstream of ready endpoints
// (here: loopback ports through the endpoint map). Pure, so the nginx config built from it
// can be tested without a cluster.

export type PathType = "Exact" | "Prefix" | "ImplementationSpecific";

export interface Upstream {
  /** nginx upstream name, unique per namespace/service/port. */
  name: string;
  /** Loopback ports of ready endpoints; empty = the backend answers 503. */
  ports: number[];
}

export interface Location {
  path: string;
  pathType: PathType;
  /** undefined when the Service or its port does not exist (503, as ingress-nginx does). */
  upstream?: Upstream;
  /** namespace/name of the Ingress the location comes from. */
  ingress: string;
}

export interface VirtualHost {
  /** "_" is the default server (rules without a host). */
  host: string;
  locations: Location[];
}

export interface IngressModel {
  hosts: VirtualHost[];
  /** The default server's `/` when an Ingress of the class sets spec.defaultBackend. */
  defaultBackend?: Location;
  upstreams: Upstream[];
  /** Things skipped (unsafe path, unsupported backend); logged once by the caller. */
  warnings: string[];
}

export interface IngressModelInput {
  ingressClass: string;
  ingresses: readonly V1Ingress[];
  services: readonly V1Service[];
  slices: readonly V1EndpointSlice[];
  map: Pick<EndpointPortMap, "resolve">;
}

const CLASS_ANNOTATION = "kubernetes.io/ingress.class";
/** Characters allowed in a path written into nginx.conf (no quotes, braces, ;, spaces). */
const SAFE_PATH = /^\/[A-Za-z0-9._~/%!$&'*+,=:@-]*$/;
const SAFE_HOST = /^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export function ingressMatchesClass(ing: V1Ingress, ingressClass: string): boolean {
  return (
    ing.spec?.ingressClassName === ingressClass ||
    ing.metadata?.annotations?.[CLASS_ANNOTATION] === ingressClass
  );
}

function upstreamName(ns: string, svc: string, port: string | number): string {
  return `upstream_${ns}_${svc}_${port}`.replace(/[^A-Za-z0-9_]/g, "_");
}

export function buildIngressModel(input: IngressModelInput): IngressModel {
  const warnings: string[] = [];
  const upstreams = new Map<string, Upstream>();
  const services = new Map(
    input.services.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]),
  );

  const resolveBackend = (ns: string, b: V1IngressBackend, where: string): Upstream | undefined => {
    if (!b.service) {
      warnings.push(`${where}: only Service backends are supported`);
      return undefined;
    }
    const svc = services.get(`${ns}/${b.service.name}`);
    const sp = findServicePort(svc, { number: b.service.port?.number, name: b.service.port?.name });
    if (!svc || !sp) return undefined;
    const name = upstreamName(ns, b.service.name, sp.name || sp.port);
    let u = upstreams.get(name);
    if (!u) {
      const nsSlices = input.slices.filter((s) => s.metadata?.namespace === ns);
      u = { name, ports: readyBackendPorts(nsSlices, b.service.name, sp, input.map) };
      upstreams.set(name, u);
    }
    return u;
  };

  // Oldest Ingress first: on a conflicting host+path the oldest wins, as in ingress-nginx.
  const ingresses = input.ingresses
    .filter((i) => ingressMatchesClass(i, input.ingressClass))
    .sort((a, b) => {
      const ta = new Date(a.metadata?.creationTimestamp ?? 0).getTime();
      const tb = new Date(b.metadata?.creationTimestamp ?? 0).getTime();
      return ta - tb || String(a.metadata?.name).localeCompare(String(b.metadata?.name));
    });

  const hosts = new Map<string, Map<string, Location>>();
  let defaultBackend: Location | undefined;
  for (const ing of ingresses) {
    const ns = ing.metadata?.namespace ?? "default";
    const id = `${ns}/${ing.metadata?.name}`;
    if (ing.spec?.defaultBackend && !defaultBackend) {
      defaultBackend = {
        path: "/",
        pathType: "Prefix",
        upstream: resolveBackend(ns, ing.spec.defaultBackend, id),
        ingress: id,
      };
    }
    for (const rule of ing.spec?.rules ?? []) {
      const host = rule.host ?? "_";
      if (host !== "_" && !SAFE_HOST.test(host)) {
        warnings.push(`${id}: host "${host}" skipped`);
        continue;
      }
      let locs = hosts.get(host);
      if (!locs) {
        locs = new Map();
        hosts.set(host, locs);
      }
      for (const p of rule.http?.paths ?? []) {
        const path = p.path || "/";
        const pathType = (p.pathType ?? "ImplementationSpecific") as PathType;
        if (!SAFE_PATH.test(path)) {
          warnings.push(`${id}: path "${path}" skipped (characters the sandbox does not route)`);
          continue;
        }
        const key = `${pathType === "Exact" ? "=" : ""}${path}`;
        if (locs.has(key)) continue;
        locs.set(key, { path, pathType, upstream: resolveBackend(ns, p.backend, id), ingress: id });
      }
    }
  }

  const hostList: VirtualHost[] = [...hosts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, locs]) => ({
      host,
      locations: [...locs.values()].sort(
        (a, b) => a.path.localeCompare(b.path) || a.pathType.localeCompare(b.pathType),
      ),
    }));
  return {
    hosts: hostList,
    defaultBackend,
    upstreams: [...upstreams.values()].sort((a, b) => a.name.localeCompare(b.name)),
    warnings,
  };
}
