import { InputError } from "../engine/errors.js";
import type { RunbookConfig } from "../migrations/eks-nodegroups/config.js";
import { planChanges, planStart } from "../migrations/eks-nodegroups/plan.js";
import type { TargetRequest } from "../targets/target.js";
import type { Target } from "./options.js";

// What a command asks of its target, from the flags and the configuration. Kept out of
// options.ts, which the entry loads before the first frame: this one needs the plan (zod).

/** The target's request from the flags and the configuration (--region wins over aws.region). */
export function targetRequest(
  opts: { target: Target; stack: string },
  config: RunbookConfig,
  raw: Record<string, unknown>,
): TargetRequest {
  const region = typeof raw.region === "string" ? raw.region : config.aws.region;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new InputError(
      `--region "${region}": not an AWS region name`,
      "Pass a region such as --region eu-west-1.",
    );
  }
  // Every desired state the plan passes through (the AWS preflight's vCPU peak, the AMIs).
  let spec = planStart(config);
  const plan = [spec];
  for (const [, change] of planChanges(config)) {
    spec = change(spec);
    plan.push(spec);
  }
  return {
    target: opts.target,
    stack: opts.stack,
    clusterVersion: config.clusterVersion,
    ...(region ? { region } : {}),
    ...(typeof raw.profile === "string" ? { profile: raw.profile } : {}),
    plan,
    ...(config.rehearsal.mistake ? { rehearsalMistake: config.rehearsal.mistake } : {}),
    aws: {
      adminPrincipalArns: config.aws.adminPrincipalArns,
      tags: config.aws.tags,
      ...(config.aws.permissionsBoundary
        ? { permissionsBoundary: config.aws.permissionsBoundary }
        : {}),
    },
  };
}
