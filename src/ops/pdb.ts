import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { callOptions, type KubeClients } from "../kube/clients.js";
import { selectorMatches } from "../kube/label-selector.js";
import { LiveList } from "../kube/live-list.js";

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

/**
 * The cluster's PodDisruptionBudgets, watched (one watch for the whole drain) so naming
 * the budget behind each refused eviction costs no request: at scale, thousands of refused
 * evictions would otherwise each list their namespace's budgets.
 */
export class PdbWatch {
  readonly #list: LiveList<V1PodDisruptionBudget>;
  constructor(readonly kube: KubeClients) {
    this.#list = new LiveList(kube.kc, {
      path: "/apis/policy/v1/poddisruptionbudgets",
      itemType: "V1PodDisruptionBudget",
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#list.run(signal, () => {});
  }

  /** The budgets covering the pod: from the watch once synced, else read now. */
  async covering(pod: V1Pod, signal: AbortSignal): Promise<PdbInfo[]> {
    if (!this.#list.synced || this.#list.error) return pdbsCovering(this.kube, pod, signal);
    const ns = pod.metadata?.namespace ?? "default";
    const inNs: V1PodDisruptionBudget[] = [];
    for (const p of this.#list.values()) if (p.metadata?.namespace === ns) inNs.push(p);
    return pdbsSelecting(inNs, pod);
  }
}
