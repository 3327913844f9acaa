import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/engine/errors.js";
import {
  DEFAULT_CONFIG,
  initialSpec,
  loadConfig,
} from "../../src/migrations/eks-nodegroups/config.js";

const dir = mkdtempSync(join(tmpdir(), "config-"));
let n = 0;
function file(text: string): string {
  const p = join(dir, `c${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

function errorOf(path: string): InputError {
  try {
    loadConfig(path);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("config", () => {
  it("defaults reproduce the tutorial, modernised", () => {
    const c = loadConfig(undefined);
    expect(c).toEqual(DEFAULT_CONFIG);
    const spec = initialSpec(c);
    expect(
      spec.nodeGroups.map((g) => [g.name, g.instanceType, g.desired, g.kubeletVersion]),
    ).toEqual([
      ["standard", "t3.medium", 3, "1.33"],
      ["old", "t3.2xlarge", 3, "1.32"],
    ]);
    expect(spec.nginx.instanceTypes).toEqual(["t3.2xlarge"]);
    expect(c.groups.new.taints).toEqual([{ key: "nginx", value: "true", effect: "NoSchedule" }]);
  });

  it("merges a partial file over the defaults", () => {
    const c = loadConfig(
      file("groups:\n  new:\n    desired: 6\n    max: 6\ntraffic:\n  rate: 50\n"),
    );
    expect(c.groups.new.desired).toBe(6);
    expect(c.groups.new.instanceType).toBe("c5.4xlarge");
    expect(c.traffic).toEqual({ ...DEFAULT_CONFIG.traffic, rate: 50 });
  });

  const bad: [string, string, RegExp][] = [
    ["unknown top-level key", "clustr: 1\n", /\(top level\): unknown key "clustr"/],
    ["unknown nested key", "groups:\n  old:\n    size: 3\n", /groups\.old: unknown key "size"/],
    [
      "wrong type",
      "nginx:\n  replicas: three\n",
      /nginx\.replicas: expected number, got string "three"/,
    ],
    ["out of range", "traffic:\n  connections: 0\n", /traffic\.connections: must be ≥ 1/],
    ["negative rate", "traffic:\n  rate: -5\n", /traffic\.rate: must be ≥ 0/],
    [
      "version format",
      'clusterVersion: "v1.33"\n',
      /clusterVersion: a Kubernetes minor version like "1\.33"/,
    ],
    [
      "kubelet newer than control plane",
      'groups:\n  new:\n    kubeletVersion: "1.34"\n',
      /groups\.new\.kubeletVersion: kubelet 1\.34 is newer than the control plane 1\.33/,
    ],
    [
      "min > desired",
      "groups:\n  standard:\n    min: 5\n",
      /groups\.standard\.desired: must satisfy min ≤ desired ≤ max/,
    ],
    [
      "bad taint effect",
      "groups:\n  new:\n    taints: [{key: nginx, value: 'true', effect: Sometimes}]\n",
      /groups\.new\.taints\.0\.effect/,
    ],
    ["same group names", "groups:\n  new:\n    name: old\n", /need different names/],
    [
      "same instance type",
      "groups:\n  new:\n    instanceType: t3.2xlarge\n",
      /groups\.new\.instanceType: must differ/,
    ],
    [
      "too many nginx replicas",
      "nginx:\n  replicas: 9\n",
      /nginx\.replicas: 9 replicas need 9 nodes/,
    ],
    ["not a mapping", "- a\n- b\n", /must be a YAML mapping.*got a list/],
    ["not YAML", "groups: [\n", /not valid YAML at line/],
  ];
  it.each(bad)("rejects %s with a message naming the file and field", (_name, text, message) => {
    const path = file(text);
    const err = errorOf(path);
    expect(err.exitCode).toBe(2);
    expect(err.message.startsWith(path)).toBe(true);
    expect(err.message).toMatch(message);
    expect(err.hint).toBeTruthy();
  });

  it("names a missing or unreadable file", () => {
    expect(errorOf(join(dir, "nope.yaml")).message).toMatch(
      /nope\.yaml: cannot read the config file \(no such file\)/,
    );
    const d = join(dir, "a-dir.yaml");
    mkdirSync(d);
    expect(errorOf(d).message).toMatch(/it is a directory/);
  });
});
