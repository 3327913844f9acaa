import type { ProbeResult } from "../engine/ports.js";

/** Wraps a report callback so it is called only when the verdict, reason or warnings change. */
export function reportChanges(report: (r: ProbeResult) => void): (r: ProbeResult) => void {
  let last: string | undefined;
  return (r) => {
    const key = JSON.stringify([r.ok, r.reason, r.warnings ?? [], "terminal" in r]);
    if (key === last) return;
    last = key;
    report(r);
  };
}

/**
 * A failing result after which waiting cannot help (a Deployment past its progress
 * deadline): the gate runner fails the gate at once instead of at its timeout.
 */
export interface TerminalProbeResult extends ProbeResult {
  ok: false;
  terminal: true;
}

export function isTerminalResult(r: ProbeResult): r is TerminalProbeResult {
  return (r as Partial<TerminalProbeResult>).terminal === true;
}

/** "a, b, c and 4 more" — keeps reasons one line long. */
export function listSome(items: readonly string[], max = 5): string {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

/**
 * listSome over items formatted only when shown: at 5,000 pods, formatting every one to
 * show three is most of a verdict's cost. `items` must already be in display order.
 */
export function listSomeOf<T>(items: readonly T[], format: (t: T) => string, max = 5): string {
  const shown = items.slice(0, max).map(format).join(", ");
  return items.length <= max ? shown : `${shown} and ${items.length - max} more`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
