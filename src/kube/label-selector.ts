import type { V1LabelSelector } from "@kubernetes/client-node";

/**
 * Does a LabelSelector (matchLabels + matchExpressions) select these labels? Same rules as
 * the API server: an empty selector matches everything; a null one matches nothing.
 */
export function selectorMatches(
  sel: V1LabelSelector | undefined,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(value!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(value!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
