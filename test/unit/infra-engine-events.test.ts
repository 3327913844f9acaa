import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import type { ApplyProgress } from "../../src/engine/ports.js";
import {
  formatPath,
  leafDiffs,
  PreviewCollector,
  ProgressTracker,
  parsePath,
  toDiagnostic,
} from "../../src/infra/engine-events.js";

const URN =
  "urn:pulumi:dev::eks-runbook::eks-runbook:index:Workload$kubernetes:apps/v1:Deployment::nginx-ing-cntlr";
const ASG_URN =
  "urn:pulumi:dev::eks-runbook::pulumi-nodejs:dynamic/local:AutoScalingGroup::asg-old";

let seq = 0;
function pre(
  metadata: Partial<StepEventMetadata> & { op: StepEventMetadata["op"]; urn: string },
): EngineEvent {
  return {
    sequence: seq++,
    timestamp: 0,
    resourcePreEvent: {
      metadata: { type: metadata.urn.split("::")[2]!.split("$").pop()!, provider: "", ...metadata },
    },
  };
}

function state(inputs: Record<string, unknown>) {
  return { type: "t", urn: "u", id: "i", parent: "", provider: "", inputs, outputs: inputs };
}

const affinity = (v: string) => ({
  spec: {
    template: {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "node.kubernetes.io/instance-type", values: [v] }] },
              ],
            },
          },
        },
      },
    },
  },
});

const VALUES_PATH =
  "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]";

describe("property paths", () => {
  it("parse and format Pulumi's syntax, quoted keys included", () => {
    const p = 'metadata.labels["app.kubernetes.io/name"].x[2]';
    expect(parsePath(p)).toEqual(["metadata", "labels", "app.kubernetes.io/name", "x", 2]);
    expect(formatPath(parsePath(p))).toBe(p);
    expect(parsePath(VALUES_PATH).slice(-6)).toEqual([
      "nodeSelectorTerms",
      0,
      "matchExpressions",
      0,
      "values",
      0,
    ]);
    expect(formatPath(parsePath(VALUES_PATH))).toBe(VALUES_PATH);
  });

  it("leaf diffs name every changed leaf with old and new values", () => {
    expect(
      leafDiffs({ a: 1, b: { c: [1, 2] }, d: "x" }, { a: 1, b: { c: [1, 3, 4] }, e: true }),
    ).toEqual([
      { path: "b.c[1]", kind: "update", old: 2, new: 3 },
      { path: "b.c[2]", kind: "add", new: 4 },
      { path: "d", kind: "delete", old: "x" },
      { path: "e", kind: "add", new: true },
    ]);
  });
});

describe("preview → structured diff", () => {
  it("a Deployment update: the provider's detailed diff with old and new values", () => {
    const c = new PreviewCollector();
    c.add(
      pre({
        op: "update",
        urn: URN,
        // As the Kubernetes provider reports it in a preview: an output diff, and no new
        // outputs yet.
        old: { ...state(affinity("t3.2xlarge")) },
        new: { ...state(affinity("c5.4xlarge")), outputs: {} },
        detailedDiff: { [VALUES_PATH]: { diffKind: "update" as never, inputDiff: false } },
      }),
    );
    c.add(pre({ op: "same", urn: URN.replace("nginx-ing-cntlr", "echoserver") }));
    c.add(
      pre({ op: "same", urn: "urn:pulumi:dev::eks-runbook::pulumi:pulumi:Stack::eks-runbook-dev" }),
    );
    expect(c.result()).toEqual({
      changes: { create: 0, update: 1, replace: 0, delete: 0, same: 1 },
      resources: [
        {
          op: "update",
          urn: URN,
          type: "kubernetes:apps/v1:Deployment",
          name: "nginx-ing-cntlr",
          diffs: [{ path: VALUES_PATH, kind: "update", old: "t3.2xlarge", new: "c5.4xlarge" }],
          replaceKeys: [],
        },
      ],
    });
  });

  it("a dynamic-provider update without a detailed diff: computed from the inputs, __provider ignored", () => {
    const c = new PreviewCollector();
    c.add(
      pre({
        op: "update",
        urn: ASG_URN,
        old: state({ __provider: "old code", desired: 3, min: 3, max: 3, tags: { a: "1" } }),
        new: state({ __provider: "new code", desired: 0, min: 0, max: 3, tags: { a: "1" } }),
      }),
    );
    expect(c.result().resources[0]?.diffs).toEqual([
      { path: "desired", kind: "update", old: 3, new: 0 },
      { path: "min", kind: "update", old: 3, new: 0 },
    ]);
  });

  it("a replacement's three steps are one resource, with the keys that force it", () => {
    const c = new PreviewCollector();
    const old = state({ asgName: "a", desired: 1 });
    const nu = state({ asgName: "b", desired: 1 });
    c.add(pre({ op: "delete-replaced", urn: ASG_URN, old }));
    c.add(
      pre({ op: "replace", urn: ASG_URN, old, new: nu, keys: ["asgName"], diffs: ["asgName"] }),
    );
    c.add(pre({ op: "create-replacement", urn: ASG_URN, old, new: nu, keys: ["asgName"] }));
    expect(c.result()).toMatchObject({
      changes: { replace: 1, create: 0, delete: 0 },
      resources: [
        {
          op: "replace",
          name: "asg-old",
          replaceKeys: ["asgName"],
          diffs: [{ path: "asgName", kind: "update", old: "a", new: "b", replaces: true }],
        },
      ],
    });
  });

  it("creates and deletes are listed without property diffs", () => {
    const c = new PreviewCollector();
    c.add(
      pre({ op: "create", urn: ASG_URN.replace("asg-old", "asg-new"), new: state({ desired: 5 }) }),
    );
    c.add(pre({ op: "delete", urn: ASG_URN, old: state({ desired: 0 }) }));
    expect(c.result().resources.map((r) => [r.op, r.name, r.diffs])).toEqual([
      ["create", "asg-new", []],
      ["delete", "asg-old", []],
    ]);
  });
});

describe("apply progress and diagnostics", () => {
  it("counts changed resources as they finish, names the current operation", () => {
    const seen: ApplyProgress[] = [];
    const t = new ProgressTracker(2, (p) => seen.push(p));
    t.add(pre({ op: "same", urn: URN }));
    t.add(pre({ op: "update", urn: URN }));
    t.add({
      sequence: 1,
      timestamp: 0,
      resOutputsEvent: {
        metadata: {
          op: "update" as never,
          urn: URN,
          type: "kubernetes:apps/v1:Deployment",
          provider: "",
        },
      },
    });
    t.add(pre({ op: "delete", urn: ASG_URN }));
    t.add({
      sequence: 2,
      timestamp: 0,
      resOutputsEvent: {
        metadata: { op: "delete" as never, urn: ASG_URN, type: "x", provider: "" },
      },
    });
    expect(seen).toEqual([
      { done: 0, total: 2, current: "updating nginx-ing-cntlr (kubernetes:apps/v1:Deployment)" },
      { done: 1, total: 2, message: "updated nginx-ing-cntlr" },
      {
        done: 1,
        total: 2,
        current: "deleting asg-old (pulumi-nodejs:dynamic/local:AutoScalingGroup)",
      },
      { done: 2, total: 2, message: "deleted asg-old" },
    ]);
  });

  it("diagnostics lose colour codes and name their resource", () => {
    const d = toDiagnostic({
      sequence: 0,
      timestamp: 0,
      diagnosticEvent: {
        urn: URN,
        message: "\u001b[31mfailed to\u001b[0m roll out\n",
        color: "raw",
        severity: "error",
      },
    });
    expect(d).toEqual({ severity: "error", message: "nginx-ing-cntlr: failed to roll out" });
    expect(
      toDiagnostic({
        sequence: 0,
        timestamp: 0,
        diagnosticEvent: { message: "x", color: "raw", severity: "info#err", ephemeral: true },
      }),
    ).toBeUndefined();
  });
});
