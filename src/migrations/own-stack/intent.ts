import type { ResourceChange, ResourceOp } from "../../engine/ports.js";
import type { StepIntent } from "../../engine/step.js";
import type { PlanIntent } from "./plan-schema.js";

// A plan step's intent — which resources it may create, update, replace or delete, as globs —
// turned into the engine's StepIntent. Anything not listed is refused before confirmation:
// a manual edit that would replace the cluster never reaches "apply".

/** `*` matches any run of characters (including `:` and `/`), `?` one character. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("")
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

/** A resource matches a pattern by its name, its type, or `type::name`. */
export function resourceMatches(
  r: Pick<ResourceChange, "name" | "type">,
  pattern: string,
): boolean {
  const re = globToRegExp(pattern);
  return re.test(r.name) || re.test(r.type) || re.test(`${r.type}::${r.name}`);
}

const OPS = [
  ["create", "creates"],
  ["update", "updates"],
  ["replace", "replaces"],
  ["delete", "deletes"],
] as const satisfies readonly (readonly [ResourceOp, keyof PlanIntent])[];

export function describeIntent(i: PlanIntent): string {
  const allowed = OPS.filter(([, key]) => (i[key]?.length ?? 0) > 0).map(
    ([, key]) => `${key} ${(i[key] ?? []).join(", ")}`,
  );
  const none = OPS.filter(([, key]) => (i[key]?.length ?? 0) === 0).map(([, key]) => key);
  const nothing = none.length
    ? `${none.length === OPS.length ? "" : "; "}${none.join(", ").replace(/, ([^,]*)$/, " or $1")} nothing${allowed.length ? " else" : ""}`
    : "";
  return `${allowed.join("; ")}${nothing}`;
}

export function stepIntent(i: PlanIntent): StepIntent {
  return {
    summary: i.summary ?? describeIntent(i),
    allows: (c) => {
      // The stack's own resource changes with its outputs; it is not a resource of yours.
      if (c.type === "pulumi:pulumi:Stack") return c.op !== "replace" && c.op !== "delete";
      // A default provider's inputs are the stack config, so a config step updates it; what
      // that does to resources shows as their own changes, which the intent checks.
      if (c.type.startsWith("pulumi:providers:")) return c.op === "update";
      const entry = OPS.find(([op]) => op === c.op);
      if (!entry) return true;
      return (i[entry[1]] ?? []).some((p) => resourceMatches(c, p));
    },
  };
}
