import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { callOptions, type KubeClients } from "../kube/clients.js";
import { selectorMatches } from "../kube/label-selector.js";

export interface PdbInfo {
  namespace: string;
  name: string;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
}

/** "nginx-pdb (disruptionsAllowed 0, 2/2 healthy)". */
export function describePdb(p: PdbInfo): string {
  return `${p.name} (disruptionsAllowed ${p.disruptionsAllowed}, ${p.currentHealthy}/${p.desiredHealthy} healthy)`;
}

export async function listPdbs(
  kube: KubeClients,
  namespace: string,
  signal: AbortSignal,
): Promise<V1PodDisruptionBudget[]> {
  const list = await kube.policy.listNamespacedPodDisruptionBudget(
    { namespace },
    callOptions(signal),
  );
  return list.items;
}

/** The budgets among `pdbs` whose selector covers the pod. */
export function pdbsSelecting(pdbs: readonly V1PodDisruptionBudget[], pod: V1Pod): PdbInfo[] {
  return pdbs
    .filter((p) => selectorMatches(p.spec?.selector, pod.metadata?.labels ?? {}))
    .map((p) => ({
      namespace: p.metadata?.namespace ?? pod.metadata?.namespace ?? "default",
      name: p.metadata?.name ?? "?",
      disruptionsAllowed: p.status?.disruptionsAllowed ?? 0,
      currentHealthy: p.status?.currentHealthy ?? 0,
      desiredHealthy: p.status?.desiredHealthy ?? 0,
    }));
}

/** The PodDisruptionBudgets in the pod's namespace that cover it, read now. */
export async function pdbsCovering(
  kube: KubeClients,
  pod: V1Pod,
  signal: AbortSignal,
): Promise<PdbInfo[]> {
  return pdbsSelecting(await listPdbs(kube, pod.metadata?.namespace ?? "default", signal), pod);
}
