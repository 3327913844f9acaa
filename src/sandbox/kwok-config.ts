import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ToolchainPaths } from "./toolchain.js";

// The kwokctl configuration of a sandbox: binary runtime on the pinned toolchain, every
// component bound to loopback on ports we chose, the API server advertising loopback (this
// host may have no default route) without reconciling the `kubernetes` Endpoints (which
// would have to hold a loopback address, and the API rejects those), pods getting IPs from
// an ordinary pod CIDR, and our Pod stages (grace periods honoured).

export interface SandboxPorts {
  kubeApiserver: number;
  etcd: number;
  etcdPeer: number;
  kubeControllerManager: number;
  kubeScheduler: number;
  kwokController: number;
  moto: number;
}

export const PORT_NAMES: readonly (keyof SandboxPorts)[] = [
  "kubeApiserver",
  "etcd",
  "etcdPeer",
  "kubeControllerManager",
  "kubeScheduler",
  "kwokController",
  "moto",
];

/** Pod IPs come from here (never loopback: EndpointSlices reject 127.0.0.0/8). */
export const POD_CIDR = "10.244.0.1/16";
/** The API server's Service range (its default, stated so it is visibly apart from pods). */
export const SERVICE_CIDR = "10.96.0.0/16";

function arg(key: string, value: string) {
  return { key, value };
}

export function kwokctlConfigYaml(tc: ToolchainPaths, ports: SandboxPorts): string {
  const v = tc.versions;
  const kwokctl = {
    kind: "KwokctlConfiguration",
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    options: {
      runtime: "binary",
      bindAddress: "127.0.0.1",
      kubeVersion: `v${v.kubernetes}`,
      etcdVersion: v.etcd,
      kwokVersion: `v${v.kwok}`,
      // Local paths: kwokctl symlinks them instead of downloading anything.
      etcdBinary: tc.bin.etcd,
      kubeApiserverBinary: tc.bin.kubeApiserver,
      kubeControllerManagerBinary: tc.bin.kubeControllerManager,
      kubeSchedulerBinary: tc.bin.kubeScheduler,
      kubectlBinary: tc.bin.kubectl,
      kwokControllerBinary: tc.bin.kwok,
      kubeApiserverPort: ports.kubeApiserver,
      etcdPort: ports.etcd,
      etcdPeerPort: ports.etcdPeer,
      kubeControllerManagerPort: ports.kubeControllerManager,
      kubeSchedulerPort: ports.kubeScheduler,
      kwokControllerPort: ports.kwokController,
      // etcd's default backend quota here is 8 GiB; a sandbox never needs more than a little.
      etcdQuotaBackendSize: "1Gi",
    },
    componentsPatches: [
      {
        name: "kube-apiserver",
        extraArgs: [
          arg("advertise-address", "127.0.0.1"),
          arg("endpoint-reconciler-type", "none"),
          arg("service-cluster-ip-range", SERVICE_CIDR),
        ],
      },
      { name: "kube-controller-manager", extraArgs: [arg("leader-elect", "false")] },
      { name: "kube-scheduler", extraArgs: [arg("leader-elect", "false")] },
    ],
  };
  const kwok = {
    kind: "KwokConfiguration",
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    options: { cidr: POD_CIDR },
  };
  const stages = readFileSync(join(tc.repoRoot, "pins", "kwok-pod-stages.yaml"), "utf8");
  return `${stringify(kwokctl)}---\n${stringify(kwok)}---\n${stages}`;
}
