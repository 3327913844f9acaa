import type { KubeClients } from "../kube/clients.js";
import { nodeName } from "../kube/nodes.js";
import { uncordonNodes } from "../ops/cordon.js";
import { checkNodesForDeletion, deleteGroupNodes, deletePreview } from "../ops/delete-nodes.js";
import { drainPlanPreview, planDrain } from "../ops/drain-preview.js";
import { listGroupNodes } from "../ops/group-nodes.js";
import { runDrain } from "../ops/step-actions.js";
import type { EksOps } from "../runbook/eks-context.js";

// The runbook's cluster operations on a node group, selected by the group label every
// node carries (on AWS through the launch template, in the sandbox through the ASG tags).

export function createEksOps(getKube: (signal: AbortSignal) => Promise<KubeClients>): EksOps {
  return {
    drainPreview: async (group, signal) => {
      const kube = await getKube(signal);
      return drainPlanPreview(await planDrain(kube, { group }, signal));
    },
    drain: async (group, signal, progress) =>
      runDrain({ kube: await getKube(signal), selector: { group } }, signal, progress),
    uncordon: async (group, signal) => {
      const kube = await getKube(signal);
      const nodes = (await listGroupNodes(kube, { group }, signal)).map(nodeName);
      const { changed } = await uncordonNodes(kube, nodes, signal);
      return {
        summary: `uncordoned ${changed.length} node(s) of group ${group}`,
        details: { nodes: changed },
      };
    },
    deleteNodesPreview: async (group, signal) =>
      deletePreview(
        { group },
        await checkNodesForDeletion(await getKube(signal), { group }, signal),
      ),
    deleteNodes: async (group, signal) => {
      const { deleted } = await deleteGroupNodes(await getKube(signal), { group }, signal);
      return {
        summary: deleted.length
          ? `deleted ${deleted.length} node(s) of group ${group}`
          : `no nodes of group ${group} left to delete`,
        details: { nodes: deleted },
      };
    },
  };
}
