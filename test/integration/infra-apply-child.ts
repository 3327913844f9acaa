import type { MigrationSpec } from "../../src/infra/spec.js";
import { createInfraDriver, type LocalInfraOptions } from "../../src/targets/infra-driver.js";

// An eks-runbook process reduced to one `apply`, for the test that SIGKILLs it mid-update.
// argv[2]: JSON {driver: LocalInfraOptions, spec: MigrationSpec}. Prints one JSON line per
// progress report and {"done":true} at the end.

const { driver, spec } = JSON.parse(process.argv[2] ?? "{}") as {
  driver: LocalInfraOptions;
  spec: MigrationSpec;
};
const infra = await createInfraDriver(driver);
await infra.apply(spec, {
  signal: new AbortController().signal,
  onProgress: (p) => process.stdout.write(`${JSON.stringify({ progress: p })}\n`),
});
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
