// Names shared by the workload module (infra), the probes, the drain and the local data
// plane. They are fixed (not config) so every part finds the same objects.

export const WORKLOAD = {
  namespace: "apps",
  ingressClass: "nginx",
  nginx: {
    /** Deployment, Service (type LoadBalancer), PDB, ConfigMap and label `app` value. */
    name: "nginx-ing-cntlr",
    appLabel: "nginx-ing-cntlr",
    httpPort: 80,
    healthPath: "/healthz",
  },
  echoserver: {
    name: "echoserver",
    appLabel: "echoserver",
    port: 8080,
  },
  /** The taint the new group carries and NGINX tolerates. */
  nginxTaint: { key: "nginx", value: "true", effect: "NoSchedule" },
} as const;

/** The label every node carries with its group's name (set on AWS and in the sandbox). */
export const NODE_GROUP_LABEL = "eks-runbook.dev/node-group";
export const INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type";
