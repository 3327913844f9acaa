import { createRequire } from "node:module";
import { expect, it } from "vitest";

// The CLI's first frame must not wait for Pulumi: loading the driver loads no @pulumi module
// (they are CommonJS, so a loaded one shows up in require.cache).

it("importing the infra driver loads no Pulumi module", async () => {
  const cache = createRequire(import.meta.url).cache;
  const pulumiModules = () =>
    Object.keys(cache).filter((k) => k.includes("/node_modules/@pulumi/"));
  expect(pulumiModules()).toEqual([]);
  const { createInfraDriver } = await import("../../src/targets/infra-driver.js");
  await createInfraDriver({ target: "aws", stack: "dev", workDir: "/nonexistent" });
  expect(pulumiModules()).toEqual([]);
});
