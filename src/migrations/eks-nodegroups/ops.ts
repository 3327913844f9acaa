import type { KubeClients } from "../../kube/clients.js";
import type { BetweenNodesCheck } from "../../ops/drain.js";
import { setExcludedFromLoadBalancers } from "../../ops/exclude-from-lb.js";
import {
  deleteNodesOfGroup,
  previewDeleteNodes,
  previewDrain,
  runDrain,
  uncordonGroup,
} from "../../ops/step-actions.js";
import type { RunbookConfig } from "./config.js";
import type { EksOps } from "./context.js";

// The runbook's cluster operations on a node group, selected by the group label every
// node carries (on AWS through the launch template, in the sandbox through the ASG tags).

export interface EksOpsOptions {
  /** The config's drain settings (per-node timeout, parallelism, pause). */
  drain?: RunbookConfig["drain"];
  /** Checked before each next node (e.g. the traffic gate's verdict, see probeCheck). */
  betweenNodes?: BetweenNodesCheck;
}

export function createEksOps(
  getKube: (signal: AbortSignal) => Promise<KubeClients>,
  opts: EksOpsOptions = {},
): EksOps {
  const group = async (name: string, signal: AbortSignal) => ({
    kube: await getKube(signal),
    selector: { group: name },
  });
  const drainOptions = {
    ...(opts.drain
      ? {
          nodeTimeoutMs: opts.drain.nodeTimeoutSeconds * 1000,
          nodeParallelism: opts.drain.parallelism,
          pauseMs: opts.drain.pauseSeconds * 1000,
        }
      : {}),
    ...(opts.betweenNodes ? { betweenNodes: opts.betweenNodes } : {}),
  };
  return {
    drainPreview: async (g, signal) => previewDrain(await group(g, signal), signal),
    drain: async (g, signal, progress) =>
      runDrain({ ...(await group(g, signal)), options: drainOptions }, signal, progress),
    uncordon: async (g, signal) => uncordonGroup(await group(g, signal), signal),
    deleteNodesPreview: async (g, signal) => previewDeleteNodes(await group(g, signal), signal),
    deleteNodes: async (g, signal) => deleteNodesOfGroup(await group(g, signal), signal),
    excludeFromLoadBalancers: async (g, signal) => {
      const t = await group(g, signal);
      return setExcludedFromLoadBalancers(t.kube, t.selector, true, signal);
    },
    includeInLoadBalancers: async (g, signal) => {
      const t = await group(g, signal);
      return setExcludedFromLoadBalancers(t.kube, t.selector, false, signal);
    },
  };
}
