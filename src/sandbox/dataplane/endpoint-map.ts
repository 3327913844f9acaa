import type {
  V1Endpoint,
  V1EndpointSlice,
  V1Service,
  V1ServicePort,
} from "@kubernetes/client-node";

// Pod IPs are not routable here and the API rejects loopback addresses in EndpointSlices, so
// every pod the data plane runs listens on a loopback port of its own, and this map turns an
// endpoint (pod IP:port in an EndpointSlice) into that port. An endpoint is resolved through
// its targetRef (the pod's uid) first, because kwok may hand a terminated pod's IP to a new
// pod while the old one is still draining.

export interface PodPort {
  uid: string;
  podIP: string;
  /** The container port the pod serves (the endpoint port). */
  containerPort: number;
  loopbackPort: number;
  /** False once the process is being stopped (graceful stop sent) or before it is healthy. */
  accepting: boolean;
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export class EndpointPortMap {
  private readonly byUid = new Map<string, PodPort>();

  set(p: PodPort): void {
    this.byUid.set(p.uid, { ...p });
  }

  setAccepting(uid: string, accepting: boolean): void {
    const p = this.byUid.get(uid);
    if (p) p.accepting = accepting;
  }

  delete(uid: string): void {
    this.byUid.delete(uid);
  }

  get(uid: string): PodPort | undefined {
    return this.byUid.get(uid);
  }

  /** The loopback port serving this endpoint's port, if its process accepts traffic. */
  resolve(ep: V1Endpoint, port: number): number | undefined {
    const uid = ep.targetRef?.uid;
    if (uid) {
      const p = this.byUid.get(uid);
      return p?.accepting && p.containerPort === port ? p.loopbackPort : undefined;
    }
    for (const p of this.byUid.values()) {
      if (p.accepting && p.containerPort === port && ep.addresses.includes(p.podIP))
        return p.loopbackPort;
    }
    return undefined;
  }

  /** "podIP:port" → loopback port for every running pod (accepting ones win a shared key). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    const sorted = [...this.byUid.values()].sort(
      (a, b) => Number(a.accepting) - Number(b.accepting),
    );
    for (const p of sorted) out[`${p.podIP}:${p.containerPort}`] = p.loopbackPort;
    return out;
  }
}

/** The Service port a backend reference names (by number or by name). */
export function findServicePort(
  svc: V1Service | undefined,
  ref: { number?: number; name?: string },
): V1ServicePort | undefined {
  const ports = svc?.spec?.ports ?? [];
  if (ref.name) return ports.find((p) => p.name === ref.name);
  if (ref.number !== undefined) return ports.find((p) => p.port === ref.number);
  return ports[0];
}

/**
 * Loopback ports of the ready endpoints of one Service port, sorted and unique. Endpoints
 * that are not ready (terminating, or not Ready) are left out, like kube-proxy and a cloud
 * load balancer controller do; so is any endpoint whose process does not accept traffic.
 */
export function readyBackendPorts(
  slices: readonly V1EndpointSlice[],
  serviceName: string,
  servicePort: V1ServicePort,
  map: Pick<EndpointPortMap, "resolve">,
): number[] {
  const out = new Set<number>();
  for (const s of slices) {
    if (s.metadata?.labels?.[SERVICE_NAME_LABEL] !== serviceName) continue;
    const sp = (s.ports ?? []).find((p) => (p.name ?? "") === (servicePort.name ?? ""));
    if (sp?.port === undefined) continue;
    for (const ep of s.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      const port = map.resolve(ep, sp.port);
      if (port !== undefined) out.add(port);
    }
  }
  return [...out].sort((a, b) => a - b);
}
