import * as pulumi from "@pulumi/pulumi";
import { expect, it } from "vitest";
import { asgProvider } from "../../src/infra/local-asg.js";
import { MOTO_ENDPOINT_ENV } from "../../src/infra/local-env.js";

// Pulumi stores the dynamic provider as serialised code and runs it in another process. It
// must serialise here too, where the test runner rewrites imports (an `import()` inside a
// method drags the runner's module loader in and fails), and carry only plain code.

it("the ASG provider serialises to self-contained code that requires the SDK at run time", async () => {
  // As pulumi.dynamic.Resource does it: the provider reaches the closure as a plain value.
  const serialize = (provider: unknown) => pulumi.runtime.serializeFunction(() => provider);
  const sf = await serialize(asgProvider);
  expect(sf.text).toContain('require("@aws-sdk/client-auto-scaling")');
  expect(sf.text).toContain(`process.env.${MOTO_ENDPOINT_ENV}`);
  expect(sf.text).not.toMatch(/__vite|vitest/);
  // Small: the methods and their helpers, nothing captured by accident.
  expect(sf.text.length).toBeLessThan(20_000);
});
