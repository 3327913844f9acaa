import type { AppsV1Api, CoreV1Api, V1Deployment } from "@kubernetes/client-node";
import type { Probe, ProbeResult } from "../../src/engine/ports.js";
import { NODE_GROUP_LABEL } from "../../src/infra/workload-names.js";
import { createFakeNode } from "../../src/sandbox/fake-node.js";

// Shared by the probes-* and drain-* integration tests: fake nodes of a group, a small
// Deployment, and a recorder that lets a test wait for a probe verdict (no sleeps).

export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export async function createGroupNodes(
  core: CoreV1Api,
  group: string,
  opts: {
    count: number;
    instanceType: string;
    kubelet?: string;
    from?: number;
    unschedulable?: boolean;
  },
): Promise<string[]> {
  const names: string[] = [];
  for (let i = opts.from ?? 1; i < (opts.from ?? 1) + opts.count; i++) {
    const name = `${group}-${i}`;
    await createFakeNode(core, {
      name,
      instanceType: opts.instanceType,
      kubeletVersion: opts.kubelet ?? "v1.33.13",
      capacity: { cpu: "16", memory: "64Gi", pods: "110" },
      labels: { [NODE_GROUP_LABEL]: group },
      unschedulable: opts.unschedulable,
    });
    names.push(name);
  }
  return names;
}

export function deploymentSpec(o: {
  name: string;
  namespace: string;
  replicas: number;
  instanceTypes?: string[];
  group?: string;
  graceSeconds?: number;
  progressDeadlineSeconds?: number;
}): V1Deployment {
  const terms = o.instanceTypes
    ? [{ key: "node.kubernetes.io/instance-type", operator: "In", values: o.instanceTypes }]
    : o.group
      ? [{ key: NODE_GROUP_LABEL, operator: "In", values: [o.group] }]
      : undefined;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { app: o.name } },
      ...(o.progressDeadlineSeconds ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          terminationGracePeriodSeconds: o.graceSeconds ?? 0,
          containers: [{ name: "web", image: "registry.invalid/web:1" }],
          ...(terms
            ? {
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: [{ matchExpressions: terms }],
                    },
                  },
                },
              }
            : {}),
        },
      },
    },
  };
}

export async function applyDeployment(apps: AppsV1Api, d: V1Deployment): Promise<void> {
  const name = d.metadata!.name!;
  const namespace = d.metadata!.namespace!;
  try {
    await apps.createNamespacedDeployment({ namespace, body: d });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await apps.replaceNamespacedDeployment({ name, namespace, body: d });
  }
}

/** Runs a probe and lets the test wait for a verdict; every report is kept for assertions. */
export class ProbeRecorder {
  readonly results: ProbeResult[] = [];
  readonly #ac = new AbortController();
  readonly #waiters = new Set<() => void>();
  readonly done: Promise<void>;

  constructor(probe: Probe) {
    this.done = probe.observe(this.#ac.signal, (r) => {
      this.results.push(r);
      for (const w of [...this.#waiters]) w();
    });
  }

  get latest(): ProbeResult | undefined {
    return this.results.at(-1);
  }

  /** Resolves with the first report (the latest one included) that satisfies `pred`. */
  until(
    pred: (r: ProbeResult) => boolean,
    timeoutMs = 30_000,
    what = "verdict",
  ): Promise<ProbeResult> {
    const from = Math.max(0, this.results.length - 1);
    return new Promise((resolve, reject) => {
      let seen = from;
      const check = () => {
        for (; seen < this.results.length; seen++) {
          const r = this.results[seen]!;
          if (pred(r)) {
            cleanup();
            resolve(r);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms; reports: ${JSON.stringify(this.results.slice(from), null, 1)}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.#ac.abort();
    await this.done;
  }
}
