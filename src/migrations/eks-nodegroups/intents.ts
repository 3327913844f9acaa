import type { ResourceChange } from "../../engine/ports.js";
import type { StepIntent } from "../../engine/step.js";

// What each Pulumi step of the migration may change. A preview outside its step's intent is
// refused before confirmation: e.g. a new AMI that would replace a launch template during
// "migrate NGINX", or a spec typo that would delete the standard group.

/** Resource names carry their group as a segment: `<stack>-<group>-…` or `…::<group>`. */
export function belongsToGroup(urnOrName: string, group: string): boolean {
  const name = urnOrName.split("::").at(-1) ?? "";
  const re = new RegExp(`(^|::|-)${group.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(-|$)`);
  return re.test(name);
}

const nonDestructive = (c: ResourceChange) => c.op !== "replace" && c.op !== "delete";

export const intents = {
  provision: (): StepIntent => ({
    summary:
      "creates the cluster, the standard and old groups and the workload; replaces or deletes nothing",
    allows: nonDestructive,
  }),
  createNewGroup: (fresh: string): StepIntent => ({
    summary: `creates group ${fresh} and what belongs to it; replaces or deletes nothing`,
    allows: nonDestructive,
  }),
  migrateNginx: (): StepIntent => ({
    summary: "updates the NGINX Deployment in place; creates, replaces or deletes nothing",
    allows: (c) => c.op === "update",
  }),
  scaleOldToZero: (old: string): StepIntent => ({
    summary: `updates group ${old}'s Auto Scaling group only; creates, replaces or deletes nothing`,
    allows: (c) => c.op === "update" && belongsToGroup(c.urn, old),
  }),
  removeOldGroup: (old: string): StepIntent => ({
    summary: `deletes the resources of group ${old} only; creates or replaces nothing`,
    allows: (c) => (c.op === "delete" ? belongsToGroup(c.urn, old) : c.op === "update"),
  }),
};
