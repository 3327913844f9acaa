import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { targetRequest } from "../../src/cli/target-request.js";
import { InputError } from "../../src/engine/errors.js";
import { retiredAsgNames } from "../../src/infra/pulumi-driver.js";
import { AWS_VERSIONS, loadConfig } from "../../src/migrations/eks-nodegroups/config.js";
import { StackOutputs } from "../../src/migrations/eks-nodegroups/stack-outputs.js";
import {
  estimateHourlyCost,
  KNOWN_VCPUS,
  peakFootprint,
} from "../../src/targets/aws-preflight/footprint.js";
import { preflightFailure } from "../../src/targets/aws-preflight/preflight.js";

// The AWS target's plan-level logic: per-target defaults, the AWS config keys, the plan's
// peak footprint and its cost estimate, and the ASG names kept with the stack.

const dir = mkdtempSync(join(tmpdir(), "aws-config-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const signal = new AbortController().signal;

describe("--target aws defaults and config", () => {
  it("aws defaults to Kubernetes versions in EKS standard support; local keeps 1.33", () => {
    const aws = loadConfig(undefined, "aws");
    expect(aws.clusterVersion).toBe(AWS_VERSIONS.control);
    expect(
      [aws.groups.standard, aws.groups.old, aws.groups.new].map((g) => g.kubeletVersion),
    ).toEqual(["1.35", "1.34", "1.35"]);
    const local = loadConfig(undefined, "local");
    expect(local.clusterVersion).toBe("1.33");
    expect(local.groups.old.kubeletVersion).toBe("1.32");
  });

  it("accepts admin principals, tags and a permissions boundary", () => {
    const c = loadConfig(
      file(
        "ok.yaml",
        [
          "aws:",
          "  region: eu-west-1",
          "  adminPrincipalArns: [arn:aws:iam::123456789012:role/ci]",
          "  tags: { team: platform }",
          "  permissionsBoundary: arn:aws:iam::123456789012:policy/boundary",
        ].join("\n"),
      ),
      "aws",
    );
    expect(c.aws).toEqual({
      region: "eu-west-1",
      adminPrincipalArns: ["arn:aws:iam::123456789012:role/ci"],
      tags: { team: "platform" },
      permissionsBoundary: "arn:aws:iam::123456789012:policy/boundary",
    });
    const req = targetRequest({ target: "aws", stack: "prod" }, c, { region: "us-west-2" });
    expect(req.region).toBe("us-west-2");
    expect(req.aws?.tags).toEqual({ team: "platform" });
    expect(req.plan).toHaveLength(6);
  });

  it("refuses a reserved tag key, a non-ARN admin and a bad region, naming each field", () => {
    const bad = file(
      "bad.yaml",
      "aws:\n  region: europe\n  adminPrincipalArns: [ci]\n  tags: { 'aws:owner': x }\n",
    );
    let err: unknown;
    try {
      loadConfig(bad, "aws");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as InputError).message;
    expect(msg).toMatch(/aws\.region/);
    expect(msg).toMatch(/aws\.adminPrincipalArns\.0/);
    expect(msg).toMatch(/reserved by AWS/);
    const c = loadConfig(undefined, "aws");
    expect(() => targetRequest({ target: "aws", stack: "p" }, c, { region: "Mars" })).toThrow(
      /not an AWS region/,
    );
  });
});

describe("peak footprint and cost", () => {
  it("the default plan peaks at step 3 with 110 vCPUs (3 × t3.medium, 3 × t3.2xlarge, 5 × c5.4xlarge)", () => {
    const req = targetRequest({ target: "aws", stack: "p" }, loadConfig(undefined, "aws"), {});
    const peak = peakFootprint(req.plan ?? [], KNOWN_VCPUS);
    expect(peak).toEqual({
      at: 2,
      vcpus: 110,
      instances: { "t3.medium": 3, "t3.2xlarge": 3, "c5.4xlarge": 5 },
    });
    const cost = estimateHourlyCost(peak);
    // 3×0.0416 + 3×0.3328 + 5×0.68 + EKS 0.10 + NAT 0.045 + LB 0.025
    expect(cost.usdPerHour).toBe(4.69);
    expect(cost.unpriced).toEqual([]);
  });

  it("a failed check becomes one message with every fix", () => {
    expect(preflightFailure([{ name: "a", severity: "info", message: "fine" }])).toBeUndefined();
    const f = preflightFailure([
      { name: "region", severity: "error", message: "no region", fix: "Pass --region." },
      { name: "vcpu-quota", severity: "warning", message: "unknown" },
      { name: "pulumi", severity: "error", message: "missing", fix: "Install Pulumi." },
    ]);
    expect(f?.message).toBe("AWS preflight failed:\n  - region: no region\n  - pulumi: missing");
    expect(f?.hint).toMatch(/Pass --region\.[\s\S]*Install Pulumi\./);
  });
});

describe("ASG names kept with the stack", () => {
  it("a group that leaves the program is retired with its ASG name; retired names persist", () => {
    const previous = { standard: "s-asg", old: "o-asg", new: "n-asg" };
    expect(retiredAsgNames(previous, {}, ["standard", "new"])).toEqual({ old: "o-asg" });
    // The next update: old is no longer in asgNames, only in retiredAsgNames.
    expect(
      retiredAsgNames({ standard: "s-asg", new: "n-asg" }, { old: "o-asg" }, ["standard", "new"]),
    ).toEqual({ old: "o-asg" });
    // A group that comes back is no longer retired.
    expect(retiredAsgNames({}, { old: "o-asg" }, ["old"])).toEqual({});
  });

  it("a fresh StackOutputs (another machine) finds the removed group's ASG name", async () => {
    const outputs = new StackOutputs({
      outputs: async () => ({
        asgNames: { standard: "s-asg", new: "n-asg" },
        retiredAsgNames: { old: "o-asg" },
      }),
    });
    expect(await outputs.asgName("old", signal)).toBe("o-asg");
    expect(await outputs.asgName("new", signal)).toBe("n-asg");
  });
});
