import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  EndpointPortMap,
  findServicePort,
  readyBackendPorts,
} from "../../src/sandbox/dataplane/endpoint-map.js";

function slice(
  service: string,
  port: { name?: string; port: number },
  endpoints: { ip: string; uid?: string; ready?: boolean }[],
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
      conditions: { ready: e.ready ?? true },
      targetRef: e.uid ? { kind: "Pod", uid: e.uid } : undefined,
    })),
  };
}

const echoService: V1Service = {
  metadata: { name: "echoserver", namespace: "apps" },
  spec: { ports: [{ name: "http", port: 8080, targetPort: 8080 }] },
};

describe("endpoint → loopback port map", () => {
  it("resolves an endpoint through its pod uid, only while the process accepts traffic", () => {
    const m = new EndpointPortMap();
    m.set({
      uid: "u1",
      podIP: "10.244.0.5",
      containerPort: 8080,
      loopbackPort: 41001,
      accepting: true,
    });
    const ep = { addresses: ["10.244.0.5"], targetRef: { uid: "u1" } };
    expect(m.resolve(ep, 8080)).toBe(41001);
    expect(m.resolve(ep, 9090)).toBeUndefined();
    m.setAccepting("u1", false);
    expect(m.resolve(ep, 8080)).toBeUndefined();
    expect(m.snapshot()).toEqual({ "10.244.0.5:8080": 41001 });
    m.delete("u1");
    expect(m.snapshot()).toEqual({});
  });

  it("keeps a draining pod and a new pod that reuses its IP apart", () => {
    const m = new EndpointPortMap();
    m.set({
      uid: "old",
      podIP: "10.244.0.5",
      containerPort: 80,
      loopbackPort: 41001,
      accepting: false,
    });
    m.set({
      uid: "new",
      podIP: "10.244.0.5",
      containerPort: 80,
      loopbackPort: 41002,
      accepting: true,
    });
    expect(m.resolve({ addresses: ["10.244.0.5"], targetRef: { uid: "new" } }, 80)).toBe(41002);
    expect(m.resolve({ addresses: ["10.244.0.5"], targetRef: { uid: "old" } }, 80)).toBeUndefined();
    // Without a targetRef the accepting process wins; the published map shows it too.
    expect(m.resolve({ addresses: ["10.244.0.5"] }, 80)).toBe(41002);
    expect(m.snapshot()).toEqual({ "10.244.0.5:80": 41002 });
  });

  it("lists the ready endpoints of one Service port, sorted, skipping not-ready ones", () => {
    const m = new EndpointPortMap();
    m.set({
      uid: "a",
      podIP: "10.244.0.1",
      containerPort: 8080,
      loopbackPort: 41003,
      accepting: true,
    });
    m.set({
      uid: "b",
      podIP: "10.244.0.2",
      containerPort: 8080,
      loopbackPort: 41001,
      accepting: true,
    });
    m.set({
      uid: "c",
      podIP: "10.244.0.3",
      containerPort: 8080,
      loopbackPort: 41002,
      accepting: true,
    });
    const slices = [
      slice("echoserver", { name: "http", port: 8080 }, [
        { ip: "10.244.0.1", uid: "a" },
        { ip: "10.244.0.2", uid: "b" },
        { ip: "10.244.0.3", uid: "c", ready: false },
        { ip: "10.244.0.9", uid: "unknown" },
      ]),
      slice("other", { name: "http", port: 8080 }, [{ ip: "10.244.0.3", uid: "c" }]),
    ];
    const sp = findServicePort(echoService, { number: 8080 })!;
    expect(readyBackendPorts(slices, "echoserver", sp, m)).toEqual([41001, 41003]);
    expect(findServicePort(echoService, { name: "http" })?.port).toBe(8080);
    expect(findServicePort(echoService, { name: "https" })).toBeUndefined();
  });
});
