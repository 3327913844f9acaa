import {
  ApiException,
  PatchStrategy,
  setHeaderOptions,
  type V1Eviction,
  type V1Pod,
  type V1PodDisruptionBudget,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, watchUntil } from "../helpers/sandbox.js";
import {
  createReadyNodes,
  deployment,
  describePods,
  isPodReady,
  nodeSpec,
  PAUSE_IMAGE,
} from "../helpers/sandbox-workloads.js";

// The Eviction API honours PodDisruptionBudgets (429 while the budget is exhausted), and the
// sandbox's kwok honours termination grace periods (a deleted pod stays Terminating).

let sb: TestSandbox;
const ns = "default";

beforeAll(async () => {
  sb = await startTestSandbox("evict");
  await createReadyNodes(sb, [
    nodeSpec("node-1", "t3.2xlarge", "v1.33.13"),
    nodeSpec("node-2", "t3.2xlarge", "v1.33.13"),
    nodeSpec("node-3", "t3.2xlarge", "v1.33.13"),
  ]);
});

afterAll(async () => {
  await sb?.stop();
});

function eviction(name: string): V1Eviction {
  return { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: ns } };
}

async function evict(name: string): Promise<number> {
  try {
    await sb.core.createNamespacedPodEviction({ name, namespace: ns, body: eviction(name) });
    return 201;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

/** Watches one pod until it is gone; returns ms from its deletionTimestamp being seen. */
async function terminatingFor(name: string, act: () => Promise<void>): Promise<number> {
  let terminatingSince: number | undefined;
  let goneAt: number | undefined;
  const watching = watchUntil<V1Pod>(sb.kc, {
    path: `/api/v1/namespaces/${ns}/pods`,
    fieldSelector: `metadata.name=${name}`,
    list: () =>
      sb.core.listNamespacedPod({ namespace: ns, fieldSelector: `metadata.name=${name}` }),
    onEvent: (e) => {
      if (e.object.metadata?.deletionTimestamp && terminatingSince === undefined)
        terminatingSince = Date.now();
      if (e.type === "DELETED") goneAt = Date.now();
    },
    until: () => goneAt !== undefined,
    timeoutMs: 60_000,
  });
  await act();
  await watching;
  expect(terminatingSince).toBeDefined();
  return goneAt! - terminatingSince!;
}

describe("eviction and graceful termination", () => {
  it("refuses an eviction the PDB forbids (429) and allows it once the budget does", async () => {
    await sb.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment({ name: "api", replicas: 2, terminationGracePeriodSeconds: 3 }),
    });
    const pdb: V1PodDisruptionBudget = {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "api", namespace: ns },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "api" } } },
    };
    await sb.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: pdb });
    const pdbReady = (want: number) =>
      watchUntil<V1PodDisruptionBudget>(sb.kc, {
        path: `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
        list: () => sb.policy.listNamespacedPodDisruptionBudget({ namespace: ns }),
        until: (m) => {
          const s = m.get(`${ns}/api`)?.status;
          return s?.currentHealthy === want && s.disruptionsAllowed === want - 2;
        },
        describe: (m) => JSON.stringify(m.get(`${ns}/api`)?.status),
      });
    // Given: 2 healthy pods, minAvailable 2 (no disruption allowed).
    await pdbReady(2);
    const pods = await sb.core.listNamespacedPod({ namespace: ns, labelSelector: "app=api" });
    const victim = pods.items[0]!.metadata!.name!;

    // When/Then: the eviction is refused with 429 and the pod stays.
    expect(await evict(victim)).toBe(429);
    const still = await sb.core.readNamespacedPod({ name: victim, namespace: ns });
    expect(still.metadata?.deletionTimestamp).toBeUndefined();

    // When: a third replica makes one disruption allowed.
    await sb.apps.patchNamespacedDeploymentScale(
      { name: "api", namespace: ns, body: { spec: { replicas: 3 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await pdbReady(3);
    // Then: the eviction is accepted and the pod terminates for its grace period (3 s).
    const ms = await terminatingFor(victim, async () => {
      expect(await evict(victim)).toBe(201);
    });
    // deletionTimestamp has 1 s resolution, so the pod may go up to 1 s early.
    expect(ms).toBeGreaterThanOrEqual(1_900);
    expect(ms).toBeLessThan(8_000);
  });

  it("keeps a pod deleted with a grace period Terminating for that period", async () => {
    await sb.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: "solo", namespace: ns, labels: { app: "solo" } },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [{ name: "main", image: PAUSE_IMAGE }],
        },
      },
    });
    await watchUntil<V1Pod>(sb.kc, {
      path: `/api/v1/namespaces/${ns}/pods`,
      fieldSelector: "metadata.name=solo",
      list: () => sb.core.listNamespacedPod({ namespace: ns, fieldSelector: "metadata.name=solo" }),
      until: (m) => [...m.values()].some(isPodReady),
      describe: (m) => describePods(m.values()),
    });
    // The delete's own grace period (5 s) overrides the pod's 30 s.
    const ms = await terminatingFor("solo", async () => {
      await sb.core.deleteNamespacedPod({ name: "solo", namespace: ns, gracePeriodSeconds: 5 });
    });
    expect(ms).toBeGreaterThanOrEqual(3_900);
    expect(ms).toBeLessThan(10_000);
  });
});
