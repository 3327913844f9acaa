import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeClients, kubeClientsFromFile } from "../../src/kube/clients.js";
import { placementProbe } from "../../src/probes/placement-probe.js";
import { isTerminalResult } from "../../src/probes/report-changes.js";
import { rolloutProbe } from "../../src/probes/rollout-probe.js";
import { startTestSandbox, type TestSandbox } from "../helpers/sandbox.js";
import {
  applyDeployment,
  createGroupNodes,
  deploymentSpec,
  ensureNamespace,
  ProbeRecorder,
} from "./probes-kit.js";

// The tutorial's step 4 in miniature: NGINX's node affinity moves from the old group's
// instance type to the new one; the rollout and placement probes follow it on watches.

const NS = "rollout-t";
let sb: TestSandbox;
let kube: KubeClients;

beforeAll(async () => {
  sb = await startTestSandbox("rollout");
  kube = kubeClientsFromFile(sb.info.kubeconfigPath);
  await ensureNamespace(sb.core, NS);
  await createGroupNodes(sb.core, "old", {
    count: 2,
    instanceType: "t3.2xlarge",
    kubelet: "v1.32.9",
  });
  await createGroupNodes(sb.core, "new", { count: 2, instanceType: "c5.4xlarge" });
});

afterAll(async () => {
  await kube?.close();
  await sb?.stop();
});

describe("rollout and placement probes", () => {
  it("follow a rollout that moves pods from the old group to the new one", async () => {
    const nginx = (types: string[]) =>
      deploymentSpec({
        name: "nginx",
        namespace: NS,
        replicas: 3,
        instanceTypes: types,
        graceSeconds: 1,
      });
    const rollout = new ProbeRecorder(rolloutProbe(kube, { namespace: NS, name: "nginx" }));
    const onOld = new ProbeRecorder(
      placementProbe(kube, {
        namespace: NS,
        podSelector: "app=nginx",
        label: "nginx",
        on: { instanceTypes: ["t3.2xlarge"] },
        count: 3,
      }),
    );
    const onNew = new ProbeRecorder(
      placementProbe(kube, {
        namespace: NS,
        podSelector: "app=nginx",
        label: "nginx",
        on: { instanceTypes: ["c5.4xlarge"] },
        count: 3,
      }),
    );
    try {
      // Before anything exists the probes say so
      expect((await rollout.until(() => true, 10_000)).reason).toBe(
        `deployment ${NS}/nginx not found`,
      );
      expect((await onNew.until(() => true, 10_000)).reason).toBe(
        `no nginx pods: nothing matches app=nginx in namespace ${NS}`,
      );

      // Given NGINX pinned to the old group's instance type
      await applyDeployment(sb.apps, nginx(["t3.2xlarge"]));
      await rollout.until((r) => r.ok, 30_000, "first rollout");
      expect((await onOld.until((r) => r.ok, 30_000)).reason).toBe(
        "3/3 nginx pods Ready on t3.2xlarge",
      );
      expect((await onNew.until((r) => r.reason.includes("elsewhere"), 10_000)).ok).toBe(false);

      // When the affinity moves to the new group's instance type
      const rolloutMark = rollout.results.length;
      const newMark = onNew.results.length;
      await applyDeployment(sb.apps, nginx(["c5.4xlarge"]));

      // Then the rollout probe reports progress, then completion
      await rollout.until(
        (r) => r.ok && rollout.results.length > rolloutMark,
        60_000,
        "second rollout",
      );
      const during = rollout.results.slice(rolloutMark);
      expect(
        during.some((r) => !r.ok && /updated|old replica|observe generation/.test(r.reason)),
      ).toBe(true);

      // and placement on the new group passes only once no pod is left elsewhere
      const passed = await onNew.until((r) => r.ok, 60_000, "nginx on c5.4xlarge");
      expect(passed.reason).toBe("3/3 nginx pods Ready on c5.4xlarge");
      const between = onNew.results.slice(newMark, -1);
      expect(between.some((r) => r.reason.includes("elsewhere"))).toBe(true);
      const pods = (await sb.core.listNamespacedPod({ namespace: NS, labelSelector: "app=nginx" }))
        .items;
      expect(pods.map((p) => p.spec?.nodeName?.replace(/-\d$/, "")).sort()).toEqual([
        "new",
        "new",
        "new",
      ]);

      const old = await onOld.until((r) => !r.ok && r.reason.startsWith("0/3"), 10_000);
      expect(old.reason).toMatch(
        /^0\/3 nginx pods Ready on t3\.2xlarge; elsewhere: nginx-\S+ on new-\d \(group new, c5\.4xlarge\)/,
      );
    } finally {
      await Promise.all([rollout.stop(), onOld.stop(), onNew.stop()]);
    }
  });

  it("fails fast with the condition's message when a rollout exceeds its progress deadline", async () => {
    // Given a Deployment no node can take, with a 1 s progress deadline
    await applyDeployment(
      sb.apps,
      deploymentSpec({
        name: "stuck",
        namespace: NS,
        replicas: 1,
        instanceTypes: ["m9.nonexistent"],
        progressDeadlineSeconds: 1,
      }),
    );
    const rollout = new ProbeRecorder(rolloutProbe(kube, { namespace: NS, name: "stuck" }));
    const placement = new ProbeRecorder(
      placementProbe(kube, { namespace: NS, podSelector: "app=stuck", on: { group: "new" } }),
    );
    try {
      // Then the rollout probe ends in a terminal failure quoting the controller
      const r = await rollout.until((x) => isTerminalResult(x), 60_000, "ProgressDeadlineExceeded");
      expect(r.reason).toMatch(
        new RegExp(
          `^deployment ${NS}/stuck exceeded its progress deadline: ReplicaSet "stuck-\\w+" has timed out progressing\\.$`,
        ),
      );
      // and placement names the pod that cannot be scheduled
      expect(
        (await placement.until((x) => x.reason.includes("Unschedulable"), 10_000)).reason,
      ).toMatch(
        /^0\/1 app=stuck pods Ready on group new; not Ready: stuck-\S+ Pending \(Unschedulable\)$/,
      );
    } finally {
      await Promise.all([rollout.stop(), placement.stop()]);
    }
  });
});
