import { describe, expect, it } from "vitest";
import { kubeletSkew, parseKubeVersion } from "../../src/kube/versions.js";

describe("parseKubeVersion", () => {
  it("reads git versions, EKS suffixes and bare minors", () => {
    expect(parseKubeVersion("v1.33.13")).toEqual({ major: 1, minor: 33, patch: 13 });
    expect(parseKubeVersion("v1.32.9-eks-113cf36")).toEqual({ major: 1, minor: 32, patch: 9 });
    expect(parseKubeVersion("1.33")).toEqual({ major: 1, minor: 33 });
    expect(parseKubeVersion("kwok-v0.7.0")).toBeUndefined();
    expect(parseKubeVersion(undefined)).toBeUndefined();
  });
});

describe("kubeletSkew", () => {
  const cp = { major: 1, minor: 33 };
  it("classifies by minors behind", () => {
    expect(kubeletSkew({ major: 1, minor: 33 }, cp)).toEqual({ level: "ok" });
    expect(kubeletSkew({ major: 1, minor: 30 }, cp)).toEqual({ level: "behind", minors: 3 });
    expect(kubeletSkew({ major: 1, minor: 29 }, cp)).toEqual({ level: "too-old", minors: 4 });
    expect(kubeletSkew({ major: 1, minor: 34 }, cp)).toEqual({ level: "newer" });
    expect(kubeletSkew({ major: 2, minor: 0 }, cp)).toEqual({ level: "newer" });
    expect(kubeletSkew(undefined, cp).level).toBe("unknown");
  });
});
