import type { V1Deployment } from "@kubernetes/client-node";
import type { Probe, ProbeResult } from "../engine/ports.js";
import type { KubeClients } from "../kube/clients.js";
import { LiveList } from "../kube/live-list.js";
import { observeSources } from "./cluster-probe.js";
import { plural, type TerminalProbeResult } from "./report-changes.js";

export interface RolloutExpectation {
  namespace: string;
  name: string;
}

/**
 * The same checks as `kubectl rollout status`, plus Ready: the controller has seen the
 * latest spec, every replica is updated, ready and available, and no old replica is left.
 * A rollout past its progress deadline fails at once (terminal) with the condition's message.
 */
export function evaluateRollout(
  d: V1Deployment | undefined,
  exp: RolloutExpectation,
): ProbeResult | TerminalProbeResult {
  const id = `deployment ${exp.namespace}/${exp.name}`;
  if (!d) return { ok: false, reason: `${id} not found` };
  const generation = d.metadata?.generation ?? 0;
  const observed = d.status?.observedGeneration ?? 0;
  if (observed < generation) {
    return {
      ok: false,
      reason: `${id}: waiting for the controller to observe generation ${generation}`,
    };
  }
  const progressing = d.status?.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return {
      ok: false,
      terminal: true,
      reason: `${id} exceeded its progress deadline: ${progressing.message ?? "no message"}`,
    };
  }
  if (d.spec?.paused) return { ok: false, reason: `${id} is paused` };
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const counts = `${updated}/${want} updated, ${ready}/${want} ready, ${available}/${want} available`;
  if (updated < want) return { ok: false, reason: `${id}: ${counts}` };
  if (total > updated) {
    return {
      ok: false,
      reason: `${id}: ${counts}, ${plural(total - updated, "old replica")} pending termination`,
    };
  }
  if (ready < want || available < want) return { ok: false, reason: `${id}: ${counts}` };
  return { ok: true, reason: `${id} rolled out: ${counts} (generation ${generation})` };
}

/** Watches one Deployment (a field selector on its name). */
export function rolloutProbe(kube: KubeClients, exp: RolloutExpectation): Probe {
  return {
    observe: async (signal, report) => {
      const deployments = new LiveList<V1Deployment>(kube.kc, {
        path: `/apis/apps/v1/namespaces/${encodeURIComponent(exp.namespace)}/deployments`,
        itemType: "V1Deployment",
        fieldSelector: `metadata.name=${exp.name}`,
      });
      await observeSources(
        signal,
        report,
        `rollout of ${exp.namespace}/${exp.name}`,
        [deployments],
        () => evaluateRollout(deployments.items()[0], exp),
      );
    },
  };
}
