import type { RunTarget, TargetDeps, TargetRequest } from "./target.js";

// The one place a target is chosen; each builder is loaded only when it is the one.

export async function createTarget(req: TargetRequest, deps: TargetDeps): Promise<RunTarget> {
  if (req.target === "local") {
    const { createLocalTarget } = await import("./local.js");
    return createLocalTarget(req, deps);
  }
  const { createAwsTarget } = await import("./aws.js");
  return createAwsTarget(req, deps);
}
