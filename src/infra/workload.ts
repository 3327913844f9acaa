import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createEchoserver } from "./echoserver.js";
import type { GracefulShutdown } from "./graceful-shutdown.js";
import { createNginx } from "./nginx-controller.js";
import type { MigrationSpec } from "./spec.js";
import { WORKLOAD } from "./workload-names.js";

// The workload both targets deploy, on whatever cluster the given provider points at:
// namespace, IngressClass, the NGINX ingress controller and the echoserver behind it.

export interface WorkloadArgs {
  spec: MigrationSpec;
  shutdown: GracefulShutdown;
  /** Annotations of the NGINX LoadBalancer Service (the AWS LB settings, await control). */
  serviceAnnotations: Record<string, string>;
  /** Annotations of the echoserver Ingress (await control). */
  ingressAnnotations: Record<string, string>;
  /** Labels of the workload's namespace (the LB controller's readiness-gate injection). */
  namespaceLabels?: Record<string, string>;
}

/** Pulumi waits for a resource's readiness unless told to skip (kwok has no LB/ingress controller). */
export const SKIP_AWAIT = { "pulumi.com/skipAwait": "true" } as const;
export function awaitTimeout(seconds: number): Record<string, string> {
  return { "pulumi.com/timeoutSeconds": String(seconds) };
}

/** Where the load balancer answers: `http://host[:port]`, "" until it has an address. */
export function serviceUrl(status: k8s.types.output.core.v1.ServiceStatus | undefined): string {
  const ingress = status?.loadBalancer?.ingress?.[0];
  const host = ingress?.hostname || ingress?.ip;
  if (!host) return "";
  const port = ingress?.ports?.[0]?.port ?? WORKLOAD.nginx.httpPort;
  return `http://${host}${port === 80 ? "" : `:${port}`}`;
}

export class Workload extends pulumi.ComponentResource {
  readonly nginxDeployment: k8s.apps.v1.Deployment;
  readonly nginxService: k8s.core.v1.Service;
  readonly nginxServiceUrl: pulumi.Output<string>;

  constructor(
    name: string,
    args: WorkloadArgs,
    opts: pulumi.ComponentResourceOptions & { provider: k8s.Provider },
  ) {
    super("eks-runbook:index:Workload", name, {}, opts);
    const child: pulumi.CustomResourceOptions = { parent: this, provider: opts.provider };
    const { spec } = args;

    const ns = new k8s.core.v1.Namespace(
      "namespace",
      { metadata: { name: WORKLOAD.namespace, labels: args.namespaceLabels } },
      child,
    );
    new k8s.networking.v1.IngressClass(
      "ingress-class",
      {
        metadata: { name: WORKLOAD.ingressClass },
        spec: { controller: "k8s.io/ingress-nginx" },
      },
      child,
    );
    const nginx = createNginx(
      {
        namespace: WORKLOAD.namespace,
        replicas: spec.nginx.replicas,
        instanceTypes: spec.nginx.instanceTypes,
        shutdown: args.shutdown,
        serviceAnnotations: args.serviceAnnotations,
      },
      child,
      [ns],
    );
    createEchoserver(
      {
        namespace: WORKLOAD.namespace,
        replicas: spec.echoserver.replicas,
        nodeGroup: spec.echoserver.nodeGroup,
        host: spec.host,
        path: spec.path,
        shutdown: args.shutdown,
        ingressAnnotations: args.ingressAnnotations,
      },
      child,
      [ns],
    );
    this.nginxDeployment = nginx.deployment;
    this.nginxService = nginx.service;
    this.nginxServiceUrl = nginx.service.status.apply(serviceUrl);
    this.registerOutputs({ nginxServiceUrl: this.nginxServiceUrl });
  }
}
