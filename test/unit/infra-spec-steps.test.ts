import { describe, expect, it } from "vitest";
import { InputError } from "../../src/engine/errors.js";
import { migrationSpecSchema } from "../../src/infra/spec.js";
import {
  addNewGroup,
  DEFAULT_NEW_GROUP,
  DEFAULT_SPEC,
  moveNginx,
  removeOldGroup,
  scaleOldToZero,
  stepSpecs,
} from "../../src/infra/spec-steps.js";

function issues(spec: unknown): string[] {
  const r = migrationSpecSchema.safeParse(spec);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("the tutorial's step specs", () => {
  it("are all valid, in order", () => {
    for (const [step, spec] of Object.entries(stepSpecs())) {
      expect(issues(spec), step).toEqual([]);
    }
  });

  it("provision: standard 3 × t3.medium @1.33, old 3 × t3.2xlarge @1.32, NGINX on t3.2xlarge", () => {
    expect(
      DEFAULT_SPEC.nodeGroups.map((g) => [g.name, g.instanceType, g.desired, g.kubeletVersion]),
    ).toEqual([
      ["standard", "t3.medium", 3, "1.33"],
      ["old", "t3.2xlarge", 3, "1.32"],
    ]);
    expect(DEFAULT_SPEC.nginx).toEqual({ replicas: 3, instanceTypes: ["t3.2xlarge"] });
    expect(DEFAULT_SPEC.echoserver).toEqual({ replicas: 3, nodeGroup: "standard" });
    expect([DEFAULT_SPEC.host, DEFAULT_SPEC.path]).toEqual(["apps.example.com", "/echoserver"]);
  });

  it("each step changes only what it names", () => {
    const s = stepSpecs();
    expect(s.createNewGroup.nodeGroups.map((g) => g.name)).toEqual(["standard", "old", "new"]);
    expect(s.createNewGroup.nodeGroups[2]).toEqual(DEFAULT_NEW_GROUP);
    expect(s.migrateNginx).toEqual({
      ...s.createNewGroup,
      nginx: { replicas: 3, instanceTypes: ["c5.4xlarge"] },
    });
    expect(s.scaleOldToZero.nodeGroups[1]).toMatchObject({
      name: "old",
      desired: 0,
      min: 0,
      max: 3,
    });
    expect(s.scaleOldToZero.nodeGroups.filter((g) => g.name !== "old")).toEqual(
      s.migrateNginx.nodeGroups.filter((g) => g.name !== "old"),
    );
    expect(s.removeOldGroup.nodeGroups.map((g) => g.name)).toEqual(["standard", "new"]);
  });

  it("never mutates its argument, and re-adding the new group is idempotent", () => {
    const before = structuredClone(DEFAULT_SPEC);
    const added = addNewGroup(DEFAULT_SPEC);
    stepSpecs();
    expect(DEFAULT_SPEC).toEqual(before);
    expect(addNewGroup(added)).toEqual(added);
  });

  it("refuses a group that does not exist with a typed error", () => {
    expect(() => moveNginx(DEFAULT_SPEC, "new")).toThrow(InputError);
    expect(() => scaleOldToZero(DEFAULT_SPEC, "nope")).toThrow(/no node group "nope"/);
    expect(() => removeOldGroup(DEFAULT_SPEC, "nope")).toThrow(InputError);
  });

  it("a step out of order gives a spec the schema refuses (NGINX would have no nodes)", () => {
    const premature = scaleOldToZero(addNewGroup(DEFAULT_SPEC));
    expect(issues(premature)).toEqual([
      "nginx.instanceTypes: 3 NGINX replicas need 3 nodes of t3.2xlarge (one per node), but the node groups provide 0 (old: 0)",
    ]);
    expect(issues(removeOldGroup(DEFAULT_SPEC))[0]).toMatch(/^nginx.instanceTypes: .*provide 0$/);
  });
});

describe("spec placement rules", () => {
  it("NGINX only counts nodes whose taints it tolerates", () => {
    const tainted = addNewGroup(DEFAULT_SPEC, {
      ...DEFAULT_NEW_GROUP,
      taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
    });
    expect(issues(moveNginx(tainted))[0]).toMatch(/need 3 nodes of c5.4xlarge .* provide 0/);
  });

  it("the echoserver's group must exist, have nodes and be untainted", () => {
    expect(issues({ ...DEFAULT_SPEC, echoserver: { replicas: 3, nodeGroup: "x" } })).toEqual([
      'echoserver.nodeGroup: no node group named "x" (have standard, old)',
    ]);
    const withNew = addNewGroup(DEFAULT_SPEC);
    expect(issues({ ...withNew, echoserver: { replicas: 3, nodeGroup: "new" } })).toEqual([
      'echoserver.nodeGroup: node group "new" is tainted; the echoserver tolerates no taints',
    ]);
    expect(issues({ ...DEFAULT_SPEC, echoserver: { replicas: 1 } })).toEqual([]);
  });

  it("one taint per key in a group", () => {
    const g = {
      ...DEFAULT_NEW_GROUP,
      taints: [
        { key: "nginx", value: "true", effect: "NoSchedule" as const },
        { key: "nginx", value: "true", effect: "NoExecute" as const },
      ],
    };
    expect(issues(addNewGroup(DEFAULT_SPEC, g))).toContain(
      'nodeGroups.2.taints.1.key: duplicate taint key "nginx" (one taint per key)',
    );
  });
});
