import { InputError } from "../engine/errors.js";
import { type MigrationSpec, migrationSpecSchema } from "./spec.js";

/** Validates a spec before anything runs; an InputError (exit 2) names every bad field. */
export function validateSpec(spec: unknown): MigrationSpec {
  const r = migrationSpecSchema.safeParse(spec);
  if (r.success) return r.data;
  const lines = r.error.issues.map(
    (i) => `  - ${i.path.length ? i.path.join(".") : "(spec)"}: ${i.message}`,
  );
  throw new InputError(
    `invalid migration spec; nothing was sent to Pulumi\n${lines.join("\n")}`,
    "Fix the fields named above in the configuration and run again.",
  );
}
