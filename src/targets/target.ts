import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { EngineEvent } from "../engine/events.js";
import type { Diagnostic } from "../engine/ports.js";
import type { PulumiInfraDriver } from "../infra/pulumi-driver.js";
import type { ShutdownMistake } from "../infra/shutdown-mistakes.js";
import type { MigrationSpec } from "../infra/spec.js";
import type { KubeClients } from "../kube/clients.js";
import type { Logger } from "../log.js";

// A target is one world a runbook can act on — AWS, or the local sandbox — decided once at
// the entry. Its builder hands back what every runbook needs from that world: the Pulumi
// driver (backend, secrets, environment, tools), the cluster's clients, the Auto Scaling
// API, and what preflight found. Runbooks build their probes, ops and traffic on top.

export type TargetName = "local" | "aws";

export interface RunTarget {
  name: TargetName;
  infra: PulumiInfraDriver;
  /** Kubernetes clients; on AWS they exist only once the cluster does (after step 1). */
  kube(signal: AbortSignal): Promise<KubeClients>;
  asg: AutoScalingClient;
  /** The load balancer's API (in the sandbox, moto mirrors the sandbox balancer's targets). */
  elbv2: ElasticLoadBalancingV2Client;
  /** For the change record: the cluster's name and the region, where known. */
  cluster?: string;
  region?: string;
  /** What the target's preflight found (versions, endpoints, warnings). */
  preflight: Diagnostic[];
  /**
   * The initial desired state with what the target pins with the stack (AWS: region, AMI
   * ids, add-on versions; taken from the stack when it exists, looked up once otherwise).
   */
  pinSpec?(initial: MigrationSpec, signal: AbortSignal): Promise<MigrationSpec>;
  close(): Promise<void>;
}

export interface TargetDeps {
  signal: AbortSignal;
  logger: Logger;
  emit: (e: EngineEvent) => void;
}

export interface TargetRequest {
  target: TargetName;
  stack: string;
  /** The control plane's Kubernetes minor the runbook expects ("1.33"). */
  clusterVersion: string;
  /** What the target is built for: a destroy is not refused for lack of vCPU quota. */
  purpose?: "run" | "destroy" | "preflight";
  /** AWS: --region / --profile (else the SDK's environment). */
  region?: string;
  profile?: string;
  /** AWS: every desired state the plan passes through (vCPU peak, AMIs to pin). */
  plan?: MigrationSpec[];
  /** Local: a production mistake the rehearsal plays (config rehearsal.mistake). */
  rehearsalMistake?: ShutdownMistake;
  /** AWS settings from the configuration. */
  aws?: {
    adminPrincipalArns?: string[];
    tags?: Record<string, string>;
    permissionsBoundary?: string;
  };
}
