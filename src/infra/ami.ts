// EKS-optimised Amazon Linux 2023 AMIs are published per Kubernetes minor as public SSM
// parameters, so each node group's AMI follows its kubelet version instead of being a
// hard-coded, region-specific id.

export function al2023AmiParameter(kubernetesVersion: string): string {
  return `/aws/service/eks/optimized-ami/${kubernetesVersion}/amazon-linux-2023/x86_64/standard/recommended/image_id`;
}
