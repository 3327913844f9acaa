// Kubernetes version parsing and the kubelet ↔ control-plane skew policy:
// a kubelet may never be newer than the API server and may be at most three minor
// versions older (https://kubernetes.io/releases/version-skew-policy/).

export interface KubeVersion {
  major: number;
  minor: number;
  patch?: number;
}

/** Parses "v1.33.13", "v1.33.13-eks-7d3a0b2", "1.33"; undefined for anything else. */
export function parseKubeVersion(text: string | undefined): KubeVersion | undefined {
  if (!text) return undefined;
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) return undefined;
  const v: KubeVersion = { major: Number(m[1]), minor: Number(m[2]) };
  if (m[3] !== undefined) v.patch = Number(m[3]);
  return v;
}

export function formatMinor(v: KubeVersion): string {
  return `${v.major}.${v.minor}`;
}

export const MAX_KUBELET_MINORS_BEHIND = 3;

export type SkewVerdict =
  | { level: "ok" }
  | { level: "behind"; minors: number }
  | { level: "too-old"; minors: number }
  | { level: "newer" }
  | { level: "unknown"; why: string };

export function kubeletSkew(
  kubelet: KubeVersion | undefined,
  controlPlane: KubeVersion,
): SkewVerdict {
  if (!kubelet) return { level: "unknown", why: "unparseable kubelet version" };
  if (kubelet.major !== controlPlane.major) {
    return kubelet.major > controlPlane.major
      ? { level: "newer" }
      : { level: "too-old", minors: Number.POSITIVE_INFINITY };
  }
  const minors = controlPlane.minor - kubelet.minor;
  if (minors < 0) return { level: "newer" };
  if (minors > MAX_KUBELET_MINORS_BEHIND) return { level: "too-old", minors };
  if (minors > 0) return { level: "behind", minors };
  return { level: "ok" };
}
