import type { PulumiInfraDriver } from "../infra/pulumi-driver.js";
import type { AwsInfraOptions } from "./aws-infra.js";
import type { LocalInfraOptions } from "./local-infra.js";

// The one place that turns a target into its Pulumi driver. Each builder is loaded only
// when chosen, and loads no Pulumi module itself until the driver first runs.

export type InfraOptions = LocalInfraOptions | AwsInfraOptions;
export type { AwsInfraOptions, LocalInfraOptions };

export async function createInfraDriver(opts: InfraOptions): Promise<PulumiInfraDriver> {
  if (opts.target === "local") {
    const { localInfraDriver } = await import("./local-infra.js");
    return localInfraDriver(opts);
  }
  const { awsInfraDriver } = await import("./aws-infra.js");
  return awsInfraDriver(opts);
}
