import type { InfraDriver } from "../../engine/ports.js";

// The stack outputs the probes and the traffic need (ASG names per group, the load
// balancer URL). After "remove old group" `asgNames` no longer names the old ASG, yet the
// gate must still check that ASG is gone: the stack keeps it in `retiredAsgNames` (written
// by the driver), so a resume on any machine finds it; names seen are remembered too.

export class StackOutputs {
  private readonly asgNames = new Map<string, string>();
  private lbUrl: string | undefined;
  private cluster: string | undefined;

  constructor(private readonly infra: Pick<InfraDriver<unknown>, "outputs">) {}

  async refresh(signal: AbortSignal): Promise<void> {
    const out = await this.infra.outputs(signal);
    for (const names of [out.retiredAsgNames, out.asgNames]) {
      if (!names || typeof names !== "object") continue;
      for (const [group, name] of Object.entries(names as Record<string, unknown>)) {
        if (typeof name === "string" && name) this.asgNames.set(group, name);
      }
    }
    if (typeof out.clusterName === "string" && out.clusterName) this.cluster = out.clusterName;
    if (typeof out.nginxServiceUrl === "string" && out.nginxServiceUrl)
      this.lbUrl = out.nginxServiceUrl;
  }

  async asgName(group: string, signal: AbortSignal): Promise<string | undefined> {
    if (!this.asgNames.has(group)) await this.refresh(signal);
    return this.asgNames.get(group);
  }

  /** The cluster's name (the load balancer controller tags its resources with it). */
  async clusterName(signal: AbortSignal): Promise<string | undefined> {
    if (!this.cluster) await this.refresh(signal);
    return this.cluster;
  }

  /** The load balancer's base URL (http://host:port), refreshed when unknown. */
  async loadBalancerUrl(signal: AbortSignal): Promise<string | undefined> {
    if (!this.lbUrl) await this.refresh(signal);
    if (!this.lbUrl) return undefined;
    return /^https?:\/\//.test(this.lbUrl) ? this.lbUrl : `http://${this.lbUrl}`;
  }

  /** Forget the load balancer URL (after an apply the Service may have a new one). */
  invalidate(): void {
    this.lbUrl = undefined;
  }
}
