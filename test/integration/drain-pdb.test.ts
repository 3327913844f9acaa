import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionProgress } from "../../src/engine/ports.js";
import { type KubeClients, kubeClientsFromFile } from "../../src/kube/clients.js";
import { isPodReady } from "../../src/kube/pods.js";
import { deleteGroupNodes } from "../../src/ops/delete-nodes.js";
import { drainNodes } from "../../src/ops/drain.js";
import { DrainBlockedError, OperationError } from "../../src/ops/ops-error.js";
import { drainStepAction } from "../../src/ops/step-actions.js";
import { drainedProbe } from "../../src/probes/drained-probe.js";
import { nodesProbe } from "../../src/probes/nodes-probe.js";
import { placementProbe } from "../../src/probes/placement-probe.js";
import { startTestSandbox, type TestSandbox, watchUntil } from "../helpers/sandbox.js";
import {
  applyDeployment,
  createGroupNodes,
  deploymentSpec,
  ensureNamespace,
  ProbeRecorder,
} from "./probes-kit.js";

// Drain against the real control plane: PodDisruptionBudget status comes from the real
// disruption controller, evictions go through the real Eviction subresource.

const NS = "drain-t";
let sb: TestSandbox;
let kube: KubeClients;
const oldNodes = ["old-1", "old-2"];

async function podsOf(app: string): Promise<V1Pod[]> {
  return (await sb.core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items;
}

async function setPdbMinAvailable(minAvailable: number): Promise<void> {
  // Wait until the disruption controller has published the status for this spec, so a
  // test never races a stale disruptionsAllowed.
  // A patch, not a replace: the disruption controller writes the status concurrently.
  const updated = await sb.policy.patchNamespacedPodDisruptionBudget({
    name: "web-pdb",
    namespace: NS,
    body: [{ op: "replace", path: "/spec/minAvailable", value: minAvailable }],
  });
  await watchUntil(sb.kc, {
    path: `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`,
    list: () => sb.policy.listNamespacedPodDisruptionBudget({ namespace: NS }),
    until: (m) =>
      (m.get(`${NS}/web-pdb`)?.status?.observedGeneration ?? 0) >=
      (updated.metadata?.generation ?? 0),
    timeoutMs: 30_000,
  });
}

beforeAll(async () => {
  sb = await startTestSandbox("drain");
  kube = kubeClientsFromFile(sb.info.kubeconfigPath);
  await ensureNamespace(sb.core, NS);
  // Old nodes take the workload; new nodes exist but are cordoned until it has landed.
  await createGroupNodes(sb.core, "old", { count: 2, instanceType: "t3.2xlarge" });
  await createGroupNodes(sb.core, "new", {
    count: 2,
    instanceType: "c5.4xlarge",
    unschedulable: true,
  });
  await applyDeployment(sb.apps, deploymentSpec({ name: "web", namespace: NS, replicas: 4 }));
  await sb.apps.createNamespacedDaemonSet({
    namespace: NS,
    body: {
      metadata: { name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { containers: [{ name: "a", image: "registry.invalid/agent:1" }] },
        },
      },
    },
  });
  await sb.policy.createNamespacedPodDisruptionBudget({
    namespace: NS,
    body: {
      metadata: { name: "web-pdb" },
      spec: { minAvailable: 4, selector: { matchLabels: { app: "web" } } },
    },
  });
  await watchUntil<V1Pod>(sb.kc, {
    path: `/api/v1/namespaces/${NS}/pods`,
    list: () => sb.core.listNamespacedPod({ namespace: NS }),
    until: (m) => {
      const pods = [...m.values()];
      const web = pods.filter((p) => p.metadata?.labels?.app === "web" && isPodReady(p));
      const agents = pods.filter((p) => p.metadata?.labels?.app === "agent" && isPodReady(p));
      return web.length === 4 && agents.length === 4;
    },
    describe: (m) =>
      [...m.values()].map((p) => `${p.metadata?.name}@${p.spec?.nodeName}`).join(" "),
  });
  await setPdbMinAvailable(4);
  for (const n of ["new-1", "new-2"]) {
    await sb.core.patchNode({
      name: n,
      body: [{ op: "replace", path: "/spec/unschedulable", value: false }],
    });
  }
});

afterAll(async () => {
  await kube?.close();
  await sb?.stop();
});

const drainOld = drainStepAction<KubeClients>((k) => ({ kube: k, selector: { group: "old" } }));
// The engine passes a spec; these actions do not read it.
const spec = {} as Parameters<typeof drainOld.run>[1];

describe("drain", () => {
  it("dry-run names the pods a PDB would block and changes nothing", async () => {
    const preview = await drainOld.preview(kube, spec, AbortSignal.timeout(30_000));
    expect(preview.summary).toBe(
      "cordon 2 nodes of group old, evict 0 pods, 4 would block, 2 stay (DaemonSet/mirror/finished), PDB drain-t/web-pdb allows 0 of its 4 pods here to go now: the rest wait for replacements to be Ready",
    );
    const blocked = preview.items.filter((i) => i.kind === "block");
    expect(blocked).toHaveLength(4);
    expect(blocked[0]!.detail).toContain("web-pdb (disruptionsAllowed 0, 4/4 healthy)");
    expect(preview.items.filter((i) => i.kind === "skip").map((i) => i.detail)).toEqual([
      "DaemonSet",
      "DaemonSet",
    ]);
    // Nothing changed: nodes schedulable, pods where they were.
    for (const n of oldNodes)
      expect((await sb.core.readNode({ name: n })).spec?.unschedulable).toBeFalsy();
    expect((await podsOf("web")).every((p) => oldNodes.includes(p.spec!.nodeName!))).toBe(true);
  });

  it("retries while the PDB refuses, naming it, and finishes once it allows", async () => {
    const progress: ActionProgress[] = [];
    let sawRefusal!: () => void;
    const refused = new Promise<void>((r) => {
      sawRefusal = r;
    });
    // Given a PDB that allows no disruption, when the drain runs
    const run = drainOld.run(kube, spec, AbortSignal.timeout(120_000), (p) => {
      progress.push(p);
      if (p.message.includes("refused by PDB web-pdb (disruptionsAllowed 0)")) sawRefusal();
    });
    await refused;
    // Then nothing was evicted while it refused, and the nodes are cordoned
    expect((await podsOf("web")).filter((p) => !p.metadata?.deletionTimestamp)).toHaveLength(4);
    expect((await podsOf("web")).every((p) => oldNodes.includes(p.spec!.nodeName!))).toBe(true);
    for (const n of oldNodes)
      expect((await sb.core.readNode({ name: n })).spec?.unschedulable).toBe(true);

    // When the PDB allows one disruption at a time
    await setPdbMinAvailable(3);
    const outcome = await run;

    // Then every web pod was evicted and now runs Ready on the new group, DaemonSet pods stayed
    expect(outcome.summary).toMatch(
      /^drained 2 nodes of group old: 4 pods evicted in [\d.]+s \(\d+ PDB retries\)$/,
    );
    expect(outcome.details?.pdbRetries).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: 4, total: 4 });
    const placement = new ProbeRecorder(
      placementProbe(kube, {
        namespace: NS,
        podSelector: "app=web",
        label: "web",
        on: { group: "new" },
        count: 4,
      }),
    );
    const drained = new ProbeRecorder(drainedProbe(kube, { selector: { group: "old" } }));
    try {
      await placement.until((r) => r.ok, 30_000, "web on group new");
      expect((await drained.until((r) => r.ok, 10_000)).reason).toBe(
        "no evictable pods on 2 nodes of group old (2 DaemonSet/mirror pods stay)",
      );
    } finally {
      await placement.stop();
      await drained.stop();
    }
    const agents = await podsOf("agent");
    expect(agents.filter((p) => oldNodes.includes(p.spec!.nodeName!))).toHaveLength(2);
  });

  it("gives up on a node after its timeout, naming the PDB that blocked it; undo uncordons", async () => {
    // Given the PDB back at "no disruption"
    await setPdbMinAvailable(4);
    const started = Date.now();
    // When the new group is drained with a short per-node timeout
    const err = await drainNodes(kube, ["new-1", "new-2"], AbortSignal.timeout(60_000), {
      nodeTimeoutMs: 3_000,
      nodeParallelism: 2,
    }).catch((e: unknown) => e);
    // Then it fails with the blocking PDB and its disruptionsAllowed in the message
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(
      /^node new-\d not drained within 3s: drain-t\/web-\S+: Cannot evict pod/,
    );
    expect((err as Error).message).toContain("PDB web-pdb (disruptionsAllowed 0, 4/4 healthy)");
    // and the typed error carries the blockers, the budget named once
    expect(err).toBeInstanceOf(DrainBlockedError);
    expect((err as DrainBlockedError).pdbNames).toEqual(["drain-t/web-pdb"]);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await sb.core.readNode({ name: "new-1" })).spec?.unschedulable).toBe(true);
    const undo = drainStepAction<KubeClients>((k) => ({ kube: k, selector: { group: "new" } }))
      .undo!;
    expect((await undo(kube, spec, AbortSignal.timeout(30_000))).summary).toBe(
      "uncordoned 2 nodes of group new",
    );
    expect((await sb.core.readNode({ name: "new-1" })).spec?.unschedulable).toBeFalsy();
  });

  it("deletes drained nodes only; the absent-nodes probe then passes", async () => {
    const refused = await deleteGroupNodes(
      kube,
      { group: "new" },
      AbortSignal.timeout(30_000),
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperationError);
    expect((refused as Error).message).toMatch(
      /^not deleting nodes of group new: new-1 still runs drain-t\/web-/,
    );

    const absent = new ProbeRecorder(
      nodesProbe(kube, { selector: { group: "old" }, count: "absent" }),
    );
    try {
      expect((await absent.until(() => true, 10_000)).reason).toBe(
        "2 nodes of group old still in the API: old-1, old-2",
      );
      expect(await deleteGroupNodes(kube, { group: "old" }, AbortSignal.timeout(30_000))).toEqual({
        deleted: ["old-1", "old-2"],
      });
      expect(await absent.until((r) => r.ok, 10_000)).toEqual({
        ok: true,
        reason: "no nodes of group old in the API",
      });
    } finally {
      await absent.stop();
    }
  });
});

describe("drain step: blocked, then retried once the PDB allows, then rolled back", () => {
  // State left by the tests above: the 4 web pods on new-1/new-2 (schedulable), old gone.
  const drainNew = (
    nodeTimeoutMs: number,
    betweenNodes?: () => Promise<{ ok: boolean; reason: string }>,
  ) =>
    drainStepAction<KubeClients>((k) => ({
      kube: k,
      selector: { group: "new" },
      options: { nodeTimeoutMs, ...(betweenNodes ? { betweenNodes } : {}) },
    }));

  it("fails naming the PDB (live, then in the error), completes on retry with health between nodes, and undo uncordons", async () => {
    // Given somewhere for the web pods to go, and a PDB that allows no disruption
    await createGroupNodes(sb.core, "spare", { count: 2, instanceType: "m5.large" });
    await setPdbMinAvailable(4);

    // When the step runs
    const progress: ActionProgress[] = [];
    const err = await drainNew(4_000)
      .run(kube, spec, AbortSignal.timeout(60_000), (p) => progress.push(p))
      .catch((e: unknown) => e);
    // Then the blocker was reported live, first on the line, with its budget and allowance
    expect(
      progress.some((p) =>
        /^blocked: drain-t\/web-\S+ refused by PDB web-pdb \(disruptionsAllowed 0\)/.test(
          p.message,
        ),
      ),
    ).toBe(true);
    // and the step fails with a typed error naming the PDB; the nodes stay cordoned
    expect(err).toBeInstanceOf(DrainBlockedError);
    expect((err as DrainBlockedError).message).toMatch(
      /^node new-\d not drained within 4s: drain-t\/web-/,
    );
    expect((err as DrainBlockedError).pdbNames).toEqual(["drain-t/web-pdb"]);
    expect((err as DrainBlockedError).blockers[0]).toMatchObject({
      pdbs: [{ namespace: "drain-t", name: "web-pdb", disruptionsAllowed: 0 }],
    });
    for (const n of ["new-1", "new-2"])
      expect((await sb.core.readNode({ name: n })).spec?.unschedulable).toBe(true);

    // When the PDB allows one disruption and the operator retries
    await setPdbMinAvailable(3);
    const readyWhenChecked: number[] = [];
    const outcome = await drainNew(60_000, async () => {
      // The caller's check runs after the workload check: web is back at 4/4 Ready here.
      const d = await sb.apps.readNamespacedDeployment({ name: "web", namespace: NS });
      readyWhenChecked.push(d.status?.readyReplicas ?? 0);
      return { ok: true, reason: "traffic 100%" };
    }).run(kube, spec, AbortSignal.timeout(120_000), () => {});

    // Then it completes, checked health once between the two nodes, and web runs on spare
    expect(outcome.summary).toMatch(/^drained 2 nodes of group new: 4 pods evicted in [\d.]+s/);
    expect(readyWhenChecked).toEqual([4]);
    const placement = new ProbeRecorder(
      placementProbe(kube, {
        namespace: NS,
        podSelector: "app=web",
        label: "web",
        on: { group: "spare" },
        count: 4,
      }),
    );
    try {
      await placement.until((r) => r.ok, 30_000, "web on group spare");
    } finally {
      await placement.stop();
    }

    // When the step is rolled back, the nodes are schedulable again
    expect((await drainNew(60_000).undo!(kube, spec, AbortSignal.timeout(30_000))).summary).toBe(
      "uncordoned 2 nodes of group new",
    );
    for (const n of ["new-1", "new-2"])
      expect((await sb.core.readNode({ name: n })).spec?.unschedulable).toBeFalsy();
  });
});
