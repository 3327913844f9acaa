import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, watchUntil } from "../helpers/sandbox.js";
import {
  createReadyNodes,
  deployment,
  describePods,
  isPodReady,
  nodeSpec,
} from "../helpers/sandbox-workloads.js";

// A RollingUpdate with maxSurge 1 / maxUnavailable 0 that moves every pod to another node
// group never has fewer Ready (non-terminating) pods than desired, at any event.

let sb: TestSandbox;
const ns = "default";
const taint = { key: "nginx", value: "true", effect: "NoSchedule" as const };

beforeAll(async () => {
  sb = await startTestSandbox("rollout");
  await createReadyNodes(sb, [
    nodeSpec("old-1", "t3.2xlarge", "v1.32.9"),
    nodeSpec("old-2", "t3.2xlarge", "v1.32.9"),
    nodeSpec("old-3", "t3.2xlarge", "v1.32.9"),
    nodeSpec("new-1", "c5.4xlarge", "v1.33.13", { taints: [taint] }),
    nodeSpec("new-2", "c5.4xlarge", "v1.33.13", { taints: [taint] }),
    nodeSpec("new-3", "c5.4xlarge", "v1.33.13", { taints: [taint] }),
  ]);
});

afterAll(async () => {
  await sb?.stop();
});

const podsPath = `/api/v1/namespaces/${ns}/pods`;
const listPods = () => sb.core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" });

describe("rolling update between node groups", () => {
  it("never drops Ready replicas below desired while moving every pod", async () => {
    const replicas = 3;
    const base = {
      name: "web",
      replicas,
      tolerations: [taint],
      spreadByHostname: true,
      maxSurge: 1,
      maxUnavailable: 0,
      terminationGracePeriodSeconds: 2,
    };
    // Given: 3 Ready pods on the old group.
    await sb.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment({ ...base, instanceTypes: ["t3.2xlarge"] }),
    });
    await watchUntil<V1Pod>(sb.kc, {
      path: podsPath,
      labelSelector: "app=web",
      list: listPods,
      until: (m) => [...m.values()].filter(isPodReady).length === replicas,
      describe: (m) => describePods(m.values()),
    });

    // When: the affinity moves to the new group.
    let minReady = Number.POSITIVE_INFINITY;
    let events = 0;
    const watched = watchUntil<V1Pod>(sb.kc, {
      path: podsPath,
      labelSelector: "app=web",
      list: listPods,
      onEvent: (_e, m) => {
        events++;
        minReady = Math.min(minReady, [...m.values()].filter(isPodReady).length);
      },
      // Then: every pod Ready on the new group and no old pod left (terminating included).
      until: (m) => {
        const all = [...m.values()];
        return (
          all.length === replicas &&
          all.every((p) => isPodReady(p) && p.spec?.nodeName?.startsWith("new-"))
        );
      },
      describe: (m) => describePods(m.values()),
      timeoutMs: 120_000,
    });
    await sb.apps.replaceNamespacedDeployment({
      name: "web",
      namespace: ns,
      body: deployment({ ...base, instanceTypes: ["c5.4xlarge"] }),
    });
    const final = await watched;

    expect(minReady).toBeGreaterThanOrEqual(replicas);
    // Pods really moved, through many intermediate states.
    expect(events).toBeGreaterThan(replicas * 3);
    expect(new Set([...final.values()].map((p) => p.spec?.nodeName))).toEqual(
      new Set(["new-1", "new-2", "new-3"]),
    );
    const dep = await sb.apps.readNamespacedDeployment({ name: "web", namespace: ns });
    expect(dep.status?.updatedReplicas).toBe(replicas);
  });
});
