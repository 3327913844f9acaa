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

describe("config values Kubernetes or AWS would reject mid-run", () => {
  const cases: [string, string, RegExp][] = [
    ["a 300-character host", `host: ${"a".repeat(300)}\n`, /host: a DNS host name \(RFC 1123\)/],
    ["a host label over 63", `host: ${"a".repeat(64)}.example.com\n`, /host: a DNS host name/],
    ["an upper-case host", "host: Apps.Example.com\n", /host: a DNS host name/],
    ["a path with ..", 'path: "/../../etc/passwd"\n', /path: must not contain '\.' or '\.\.'/],
    ["a 100k path", `path: /${"a".repeat(100_000)}\n`, /path: must be ≤ 256/],
    ["a relative path", "path: echoserver\n", /path: an absolute URL path/],
    [
      "a label value with a newline",
      'groups:\n  new:\n    labels: {role: "a\\nb"}\n',
      /groups\.new\.labels\.role: a Kubernetes label value/,
    ],
    [
      "a taint value with a space",
      "groups:\n  new:\n    taints: [{key: nginx, value: 'true or false', effect: NoSchedule}]\n",
      /groups\.new\.taints\.0\.value: a Kubernetes label value/,
    ],
    [
      "a taint key with spaces",
      "groups:\n  new:\n    taints: [{key: 'my key', value: 'x', effect: NoSchedule}]\n",
      /groups\.new\.taints\.0\.key: a Kubernetes label key/,
    ],
    [
      "unreachable minRequests",
      "traffic: {rate: 10}\ngates: {windowSeconds: 5, minRequests: 100}\n",
      /gates\.minRequests \(100\) can never be reached: traffic\.rate 10\/s × gates\.windowSeconds 5 s = 50/,
    ],
    [
      "a window as long as the timeout",
      "gates: {windowSeconds: 60, timeoutSeconds: 60}\n",
      /gates\.windowSeconds \(60\) must be less than gates\.timeoutSeconds \(60\)/,
    ],
    [
      "infinity",
      "traffic: {timeoutSeconds: .inf}\n",
      /timeoutSeconds: expected number, got infinity \(\.inf\)/,
    ],
    [
      "NaN",
      "gates: {successRatePercent: .nan}\n",
      /successRatePercent: expected number, got not a number \(\.nan\)/,
    ],
    [
      "a duplicate key",
      "host: a.example\nhost: b.example\n",
      /\(top level\): the key "host" appears twice \(line 2\)/,
    ],
  ];
  it.each(cases)("refuses %s", (_name, text, message) => {
    const err = errorOf(file(text));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(message);
  });

  it("never prints a mis-pasted .env file or terminal escapes back", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const env = file(`AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=${secret}\n`);
    const err = errorOf(env);
    expect(err.message).toMatch(
      /must be a YAML mapping \(key: value\), got a string of \d+ characters/,
    );
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain("AKIA");
    const esc = errorOf(file('nginx:\n  replicas: "\u001b[2J\u001b[31mx"\n'));
    expect(esc.message).not.toContain("\u001b");
    expect(esc.message).toContain("\\e[2J");
  });
});

describe("rehearsal.mistake", () => {
  it("is accepted for the local target and names the mistake", () => {
    const c = loadConfig(file("rehearsal:\n  mistake: no-prestop-wait\n"), "local");
    expect(c.rehearsal.mistake).toBe("no-prestop-wait");
  });

  it("is refused for --target aws, naming the field and the fix", () => {
    let err: unknown;
    try {
      loadConfig(file("rehearsal:\n  mistake: no-prestop-wait\n"), "aws");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/rehearsal\.mistake: .* refused for --target aws/);
  });

  it("refuses an unknown mistake, listing the known ones", () => {
    const e = errorOf(file("rehearsal:\n  mistake: no-such-thing\n"));
    expect(e.message).toMatch(/rehearsal\.mistake/);
    expect(e.message).toMatch(/no-prestop-wait/);
  });
});
