// A node group's kubelet version as a Node reports it. Groups name a minor ("1.32", as the
// EKS AMI parameter does); the AMI for that minor ships a concrete patch release, which is
// what `status.nodeInfo.kubeletVersion` shows. Full versions pass through.

/** The patch release the sandbox reports per minor (EKS AMIs of late 2025). */
export const KUBELET_PATCH_FOR_MINOR: Readonly<Record<string, string>> = {
  "1.28": "1.28.15",
  "1.29": "1.29.15",
  "1.30": "1.30.14",
  "1.31": "1.31.13",
  "1.32": "1.32.9",
  "1.33": "1.33.5",
  "1.34": "1.34.1",
};

export class InvalidKubeletVersionError extends Error {
  constructor(readonly value: string) {
    super(
      `kubelet version "${value}" is neither a minor like "1.32" nor a full version like "v1.32.9"`,
    );
    this.name = "InvalidKubeletVersionError";
  }
}

/** "1.32" → "v1.32.9"; "1.32.4" / "v1.32.4-eks-1" → "v1.32.4" / "v1.32.4-eks-1". */
export function resolveKubeletVersion(value: string): string {
  const v = value.trim().replace(/^v/, "");
  if (/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(v)) return `v${v}`;
  const minor = /^(\d+)\.(\d+)$/.exec(v);
  if (!minor) throw new InvalidKubeletVersionError(value);
  const known = KUBELET_PATCH_FOR_MINOR[`${Number(minor[1])}.${Number(minor[2])}`];
  return `v${known ?? `${Number(minor[1])}.${Number(minor[2])}.0`}`;
}
