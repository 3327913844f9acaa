import type { PreviewEvent } from "../engine/events.js";
import type { PropertyDiff, ResourceChange } from "../engine/ports.js";

// Text for a preview, shared by the plain renderer and the Ink view.

export const OP_SYMBOL: Record<string, string> = {
  create: "+",
  update: "~",
  replace: "±",
  delete: "-",
  same: " ",
  read: ">",
  refresh: "↻",
};

export function changeSummary(p: PreviewEvent): string {
  if (p.action) return p.action.summary;
  const { create, update, replace, delete: del } = p.changes;
  const parts = [
    create && `+${create} to create`,
    update && `~${update} to update`,
    replace && `±${replace} to replace`,
    del && `-${del} to delete`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "no changes";
}

export function formatValue(v: unknown, max = 40): string {
  const s = v === undefined ? "∅" : typeof v === "string" ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The last segments of a property path that fit in `max` characters ("…values[0]"). */
export function shortPath(path: string, max: number): string {
  if (path.length <= max) return path;
  const parts = path.split(".");
  let out = parts.pop() ?? path;
  while (parts.length && out.length + parts[parts.length - 1]!.length + 2 <= max)
    out = `${parts.pop()}.${out}`;
  return `…${out}`;
}

/** "old → new", "+ new" or "- old". */
export function valueChange(d: PropertyDiff): string {
  if (d.kind === "add") return `+ ${formatValue(d.new)}`;
  if (d.kind === "delete") return `- ${formatValue(d.old)}`;
  return `${formatValue(d.old)} → ${formatValue(d.new)}`;
}

/** One property change on one line (plain output). */
export function diffLine(d: PropertyDiff): string {
  const sign = d.kind === "add" ? "+" : d.kind === "delete" ? "-" : "~";
  const value =
    d.kind === "update" ? valueChange(d) : formatValue(d.kind === "add" ? d.new : d.old);
  return `${sign} ${d.path}: ${value}${d.replaces ? " (forces replacement)" : ""}`;
}

export function resourceLine(r: ResourceChange): string {
  const shortType = r.type.split(":").slice(-1)[0] ?? r.type;
  return `${OP_SYMBOL[r.op] ?? "?"} ${r.name}  ${shortType}`;
}

const ORDER = ["create", "update", "replace", "delete"];

/** Resources grouped by operation, in create/update/replace/delete order. */
export function groupedResources(p: PreviewEvent): { op: string; resources: ResourceChange[] }[] {
  return ORDER.map((op) => ({ op, resources: p.resources.filter((r) => r.op === op) })).filter(
    (g) => g.resources.length,
  );
}
