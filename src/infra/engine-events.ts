import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation/index.js";
import type {
  ApplyProgress,
  ChangeCounts,
  Diagnostic,
  PreviewResult,
  PropertyDiff,
  ResourceChange,
  ResourceOp,
} from "../engine/ports.js";

// Pulumi engine events → the runbook's structured diff and progress. Pure: the driver feeds
// events in, these hand back plain data.

const STACK_TYPE = "pulumi:pulumi:Stack";
/** Inputs that are bookkeeping, not desired state (the serialised dynamic provider). */
const IGNORED_INPUTS = new Set(["__provider"]);

/** Collapses the engine's step kinds into the runbook's operations. */
export function resourceOp(op: string): ResourceOp | undefined {
  switch (op) {
    case "create":
    case "import":
      return "create";
    case "update":
      return "update";
    case "replace":
    case "create-replacement":
    case "delete-replaced":
    case "discard-replaced":
    case "import-replacement":
    case "read-replacement":
      return "replace";
    case "delete":
    case "discard":
      return "delete";
    case "same":
      return "same";
    case "read":
      return "read";
    case "refresh":
      return "refresh";
    default:
      return undefined; // remove-pending-replace: bookkeeping only
  }
}

/** The logical name at the end of a URN (`urn:pulumi:stack::proj::type::name`). */
export function urnName(urn: string): string {
  const i = urn.lastIndexOf("::");
  return i < 0 ? urn : urn.slice(i + 2);
}

// ── property paths ───────────────────────────────────────────────────────────────────

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Pulumi's property-path syntax: `a.b[0]["x/y"]`. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (let m = re.exec(path); m !== null; m = re.exec(path)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(m[3].replace(/\\(.)/g, "$1"));
  }
  return out;
}

export function formatPath(parts: readonly (string | number)[]): string {
  let s = "";
  for (const p of parts) {
    if (typeof p === "number") s += `[${p}]`;
    else if (IDENT.test(p)) s += s === "" ? p : `.${p}`;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s;
}

export function valueAt(obj: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** Leaf-level differences between two values, as property paths. */
export function leafDiffs(
  oldV: unknown,
  newV: unknown,
  prefix: (string | number)[] = [],
): PropertyDiff[] {
  if (oldV === undefined && newV === undefined) return [];
  if (isObject(oldV) && isObject(newV) && Array.isArray(oldV) === Array.isArray(newV)) {
    const keys = Array.isArray(oldV)
      ? Array.from(
          { length: Math.max(oldV.length, (newV as unknown as unknown[]).length) },
          (_, i) => i,
        )
      : [...new Set([...Object.keys(oldV), ...Object.keys(newV)])];
    return keys.flatMap((k) =>
      leafDiffs(
        (oldV as Record<string | number, unknown>)[k],
        (newV as Record<string | number, unknown>)[k],
        [...prefix, k],
      ),
    );
  }
  if (JSON.stringify(oldV) === JSON.stringify(newV)) return [];
  const path = formatPath(prefix);
  if (oldV === undefined) return [{ path, kind: "add", new: newV }];
  if (newV === undefined) return [{ path, kind: "delete", old: oldV }];
  return [{ path, kind: "update", old: oldV, new: newV }];
}

/**
 * A value from a step's state: the side the provider diffed (inputs or outputs), else the
 * other one (a preview has no new outputs yet; the Kubernetes provider diffs outputs).
 */
function stateValue(
  st: StepEventMetadata["old"],
  parts: (string | number)[],
  inputDiff: boolean,
): unknown {
  const [first, second] = inputDiff ? [st?.inputs, st?.outputs] : [st?.outputs, st?.inputs];
  const v = valueAt(first ?? {}, parts);
  return v === undefined ? valueAt(second ?? {}, parts) : v;
}

/** The property changes of one step: the provider's detailed diff, or computed from inputs. */
export function propertyDiffs(m: StepEventMetadata): PropertyDiff[] {
  const oldInputs = m.old?.inputs ?? {};
  const newInputs = m.new?.inputs ?? {};
  if (m.detailedDiff && Object.keys(m.detailedDiff).length > 0) {
    return Object.entries(m.detailedDiff)
      .filter(([path]) => !IGNORED_INPUTS.has(String(parsePath(path)[0])))
      .map(([path, d]) => {
        const parts = parsePath(path);
        const kind = d.diffKind.replace("-replace", "") as PropertyDiff["kind"];
        const diff: PropertyDiff = { path, kind };
        if (kind !== "add") diff.old = stateValue(m.old, parts, d.inputDiff);
        if (kind !== "delete") diff.new = stateValue(m.new, parts, d.inputDiff);
        if (d.diffKind.endsWith("-replace")) diff.replaces = true;
        return diff;
      });
  }
  // No detailed diff (dynamic providers): compare the inputs the engine says changed, or
  // all of them when it names none.
  const keys = (
    m.diffs?.length ? m.diffs : [...new Set([...Object.keys(oldInputs), ...Object.keys(newInputs)])]
  ).filter((k) => !IGNORED_INPUTS.has(k));
  const replaceKeys = new Set(m.keys ?? []);
  return keys.flatMap((k) =>
    leafDiffs(oldInputs[k], newInputs[k], [k]).map((d) =>
      replaceKeys.has(k) ? { ...d, replaces: true } : d,
    ),
  );
}

// ── preview ──────────────────────────────────────────────────────────────────────────

export function emptyCounts(): ChangeCounts {
  return { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
}

/** Builds the structured diff from a preview's resourcePreEvents. */
export class PreviewCollector {
  private readonly byUrn = new Map<string, ResourceChange>();

  add(event: EngineEvent): void {
    const m = event.resourcePreEvent?.metadata;
    if (!m || m.type === STACK_TYPE) return;
    const op = resourceOp(m.op);
    if (!op) return;
    const seen = this.byUrn.get(m.urn);
    // Only a step that has both states describes a change (not delete-replaced's half).
    const diffs = (op === "update" || op === "replace") && m.old && m.new ? propertyDiffs(m) : [];
    const replaceKeys = (m.keys ?? []).filter((k) => !IGNORED_INPUTS.has(k));
    if (!seen) {
      this.byUrn.set(m.urn, {
        op,
        urn: m.urn,
        type: m.type,
        name: urnName(m.urn),
        diffs,
        replaceKeys,
      });
      return;
    }
    // A replacement arrives as several steps (create-replacement, replace, delete-replaced):
    // keep one entry; the "replace" step's diff is the canonical one.
    if (op === "replace") seen.op = "replace";
    if (m.op === "replace" || seen.diffs.length === 0)
      seen.diffs = diffs.length ? diffs : seen.diffs;
    if (seen.replaceKeys.length === 0) seen.replaceKeys = replaceKeys;
  }

  result(): PreviewResult {
    const changes = emptyCounts();
    const resources: ResourceChange[] = [];
    for (const r of this.byUrn.values()) {
      if (r.op === "read" || r.op === "refresh") continue;
      changes[r.op] += 1;
      if (r.op !== "same") resources.push(r);
    }
    return { changes, resources };
  }
}

// ── apply progress and diagnostics ───────────────────────────────────────────────────

// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes start with ESC
const ANSI = /\u001b\[[0-9;]*m|<\{%[^%]*%\}>/g;

/** Engine diagnostic → runbook diagnostic (colour codes stripped, info#err is info). */
export function toDiagnostic(event: EngineEvent): Diagnostic | undefined {
  const d = event.diagnosticEvent;
  // Debug lines (the runtime tracing every RegisterResource RPC) arrive although the
  // event type does not list that severity: log material, not operator output.
  if (!d || d.ephemeral || (d.severity as string) === "debug") return undefined;
  const message = d.message.replace(ANSI, "").trim();
  if (message === "") return undefined;
  const severity = d.severity === "error" ? "error" : d.severity === "warning" ? "warning" : "info";
  const where = d.urn ? `${urnName(d.urn)}: ` : "";
  return { severity, message: `${where}${message}` };
}

const VERBS: Record<ResourceOp, string> = {
  create: "creating",
  update: "updating",
  replace: "replacing",
  delete: "deleting",
  same: "checking",
  read: "reading",
  refresh: "refreshing",
};

/** done/total of an update: total from the preview, done per changed resource. */
export class ProgressTracker {
  private readonly done = new Set<string>();

  constructor(
    private readonly total: number,
    private readonly report: (p: ApplyProgress) => void,
  ) {}

  add(event: EngineEvent): void {
    const pre = event.resourcePreEvent?.metadata;
    if (pre && pre.type !== STACK_TYPE && !event.resourcePreEvent?.planning) {
      const op = resourceOp(pre.op);
      if (op && op !== "same" && op !== "read" && op !== "refresh") {
        this.report({
          done: this.count(),
          total: this.total,
          current: `${VERBS[op]} ${urnName(pre.urn)} (${pre.type})`,
        });
      }
      return;
    }
    const out = event.resOutputsEvent?.metadata;
    if (out && out.type !== STACK_TYPE) {
      const op = resourceOp(out.op);
      if (op && op !== "same" && op !== "read" && op !== "refresh") {
        this.done.add(out.urn);
        this.report({
          done: this.count(),
          total: this.total,
          message: `${VERBS[op].replace(/ing$/, "ed")} ${urnName(out.urn)}`,
        });
      }
      return;
    }
    const failed = event.resOpFailedEvent?.metadata;
    if (failed) {
      this.report({
        done: this.count(),
        total: this.total,
        message: `failed: ${urnName(failed.urn)}`,
      });
    }
  }

  private count(): number {
    return Math.min(this.done.size, this.total);
  }
}
