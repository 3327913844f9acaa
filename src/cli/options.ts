import { InputError } from "../engine/errors.js";
import type { RunbookConfig } from "../migrations/eks-nodegroups/config.js";
import { planChanges, planStart } from "../migrations/eks-nodegroups/plan.js";
import type { TargetRequest } from "../targets/target.js";

export type Target = "aws" | "local";

export interface RunOptions {
  target: Target;
  stack: string;
  config?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  /** Gate ids (or `intent`) that may be overridden when they fail. */
  overrideGates: string[];
}

export function parseTarget(v: string): Target {
  if (v === "aws" || v === "local") return v;
  throw new InputError(
    `--target "${v}": must be "aws" or "local"`,
    "Use --target local to rehearse, --target aws for the real thing.",
  );
}

/** Decided once, at the entry: who draws and whether anyone can answer a prompt. */
export function chooseRenderer(
  o: { json: boolean },
  env = process.env,
  stdout = process.stdout,
  stdin = process.stdin,
) {
  const tty = Boolean(stdout.isTTY) && !env.CI;
  const mode: "json" | "plain" | "ink" = o.json ? "json" : tty ? "ink" : "plain";
  const canPrompt = mode === "ink" && Boolean(stdin.isTTY);
  return { mode, canPrompt };
}

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
    aws: {
      adminPrincipalArns: config.aws.adminPrincipalArns,
      tags: config.aws.tags,
      ...(config.aws.permissionsBoundary
        ? { permissionsBoundary: config.aws.permissionsBoundary }
        : {}),
    },
  };
}
