import { INTENT_OVERRIDE } from "../engine/engine.js";
import { InputError } from "../engine/errors.js";

// Step-dependent flags of `run` and `--plan`, checked against the plan once it is loaded
// (after the screen's first frame: this module pulls in the engine).

/** `--override-gates a,b`: names of gates (or `intent`) that may be overridden. */
export function parseOverrides(
  raw: unknown,
  steps: readonly { gates: readonly { id: string }[] }[],
): string[] {
  if (raw === undefined || raw === false) return [];
  const names = String(raw)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const known = new Set([INTENT_OVERRIDE, ...steps.flatMap((s) => s.gates.map((g) => g.id))]);
  const unknown = names.filter((n) => !known.has(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new InputError(
      `--override-gates: ${names.length === 0 ? "no gate named" : `unknown gate ${unknown.map((u) => `"${u}"`).join(", ")}`}`,
      `Name the gates that may be overridden, comma-separated: ${[...known].join(", ")}.`,
    );
  }
  return names;
}

export function parseToStep(raw: unknown, steps: readonly unknown[]): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > steps.length) {
    throw new InputError(
      `--to-step "${String(raw)}": must be a step number from 1 to ${steps.length}`,
      "Pass the number of the last step to run, e.g. --to-step 4 (see `eks-runbook status`).",
    );
  }
  return n;
}
