import { DescribeVpcsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { LoadBalancerModel } from "../../infra/load-balancer-model.js";
import { fnv1a } from "../fnv1a.js";
import { sleep } from "./kube-util.js";
import type { Log } from "./log.js";

// The sandbox balancer's targets, mirrored into moto's ELBv2 API as the AWS Load Balancer
// Controller keeps an NLB's target group: a target group tagged like the controller tags
// its own (so the lb-targets probe finds it the same way on both targets), one IP target
// per NGINX pod registered when the pod enters rotation.
//
// moto 5.2.5 models no health checks and no draining: a registered target is always
// "healthy", a deregistered one disappears at once ("unused" when asked by id). So the
// mirror keeps a deregistered target registered until the sandbox balancer has drained it
// (the deregistration delay is over) and only then calls DeregisterTargets. A probe that
// treats every listed target as present therefore sees exactly what DescribeTargetHealth
// shows on AWS during a drain (the target listed, in state "draining"), only with the state
// reported as "healthy". The mirror follows the balancer; nothing routes by it.

/** The tags the controller puts on what it creates (its docs: "AWS resource tags"). */
export const LBC_TAGS = {
  cluster: "elbv2.k8s.aws/cluster",
  stack: "service.k8s.aws/stack",
  resource: "service.k8s.aws/resource",
} as const;

export interface Elbv2MirrorOptions {
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  cluster: string;
  /** namespace/name of the Service the target group serves. */
  service: string;
  port: number;
  log: Log;
}

interface Target {
  ip: string;
  port: number;
}

const key = (t: Target) => `${t.ip}:${t.port}`;

/** The controller's naming: k8s-<ns>-<name>-<hash>, at most 32 characters. */
export function targetGroupName(cluster: string, service: string): string {
  const [ns = "", name = ""] = service.split("/");
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, "").slice(0, 8);
  const hash = fnv1a(`${cluster}/${service}`).toString(16).padStart(8, "0").slice(0, 10);
  return `k8s-${clean(ns)}-${clean(name)}-${hash}`.slice(0, 32);
}

export class Elbv2Mirror {
  /** ip:port → target and how many balancer slots hold it (pod IPs get reused: a new pod
   * can take the IP of one still draining, and on AWS that is one target). */
  private readonly want = new Map<string, { target: Target; holders: number }>();
  private arn: string | undefined;
  private model: LoadBalancerModel | undefined;
  private dirty = false;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: Elbv2MirrorOptions) {}

  /** The target group's ARN once it exists (for tests). */
  get targetGroupArn(): string | undefined {
    return this.arn;
  }

  /** Applies the model's health-check and deregistration settings (next sync). */
  setModel(m: LoadBalancerModel): void {
    if (JSON.stringify(m) === JSON.stringify(this.model)) return;
    this.model = m;
    this.arnAttributesApplied = false;
    this.kick();
  }

  registered(t: Target): void {
    const w = this.want.get(key(t));
    this.want.set(key(t), { target: t, holders: (w?.holders ?? 0) + 1 });
    this.kick();
  }

  drained(t: Target): void {
    const w = this.want.get(key(t));
    if (w && w.holders > 1) w.holders--;
    else this.want.delete(key(t));
    this.kick();
  }

  /** Resolves when the mirror has caught up (tests). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
  }

  private arnAttributesApplied = false;

  private kick(): void {
    this.dirty = true;
    if (this.running || this.stopped) return;
    this.running = (async () => {
      let failures = 0;
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.sync();
          failures = 0;
        } catch (err) {
          failures++;
          this.o.log.warn({ err: String(err), failures }, "ELBv2 mirror sync failed; retrying");
          this.dirty = true;
          // Bounded back-off; moto restarts with the sandbox, so keep trying while it runs.
          await sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)));
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(10_000);
  }

  private async ensureTargetGroup(): Promise<string> {
    if (this.arn) return this.arn;
    const name = targetGroupName(this.o.cluster, this.o.service);
    const found = await this.o.elbv2
      .send(new DescribeTargetGroupsCommand({ Names: [name] }), { abortSignal: this.signal() })
      .catch((err: unknown) => {
        if ((err as { name?: string }).name === "TargetGroupNotFoundException") return undefined;
        throw err;
      });
    const existing = found?.TargetGroups?.[0]?.TargetGroupArn;
    if (existing) {
      this.arn = existing;
      return existing;
    }
    const vpcs = await this.o.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "isDefault", Values: ["true"] }] }),
      { abortSignal: this.signal() },
    );
    const vpcId = vpcs.Vpcs?.[0]?.VpcId;
    if (!vpcId) throw new Error("moto has no default VPC for the target group");
    const hc = this.model?.healthCheck;
    const created = await this.o.elbv2.send(
      new CreateTargetGroupCommand({
        Name: name,
        Protocol: "TCP",
        Port: this.o.port,
        VpcId: vpcId,
        TargetType: this.model?.targetType ?? "ip",
        HealthCheckProtocol: hc?.protocol ?? "TCP",
        HealthCheckPath: hc?.protocol === "HTTP" ? hc.path : undefined,
        HealthCheckPort: hc ? String(hc.port) : "traffic-port",
        HealthCheckIntervalSeconds: hc?.intervalSeconds,
        HealthCheckTimeoutSeconds: hc?.timeoutSeconds,
        HealthyThresholdCount: hc?.healthyThreshold,
        UnhealthyThresholdCount: hc?.unhealthyThreshold,
        Tags: [
          { Key: LBC_TAGS.cluster, Value: this.o.cluster },
          { Key: LBC_TAGS.stack, Value: this.o.service },
          { Key: LBC_TAGS.resource, Value: `${this.o.service}:${this.o.port}` },
        ],
      }),
      { abortSignal: this.signal() },
    );
    const arn = created.TargetGroups?.[0]?.TargetGroupArn;
    if (!arn) throw new Error("CreateTargetGroup returned no ARN");
    this.arn = arn;
    this.o.log.info({ name, arn }, "ELBv2 target group created in moto");
    return arn;
  }

  private async sync(): Promise<void> {
    const arn = await this.ensureTargetGroup();
    const m = this.model;
    if (m && !this.arnAttributesApplied) {
      await this.o.elbv2.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [
            {
              Key: "deregistration_delay.timeout_seconds",
              Value: String(m.deregistrationDelaySeconds),
            },
          ],
        }),
        { abortSignal: this.signal() },
      );
      this.arnAttributesApplied = true;
    }
    const health = await this.o.elbv2.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: arn }),
      { abortSignal: this.signal() },
    );
    const have = new Map<string, Target>();
    for (const d of health.TargetHealthDescriptions ?? []) {
      const id = d.Target?.Id;
      const port = d.Target?.Port;
      if (id && port !== undefined) have.set(key({ ip: id, port }), { ip: id, port });
    }
    const add = [...this.want.entries()].filter(([k]) => !have.has(k)).map(([, w]) => w.target);
    const remove = [...have.entries()].filter(([k]) => !this.want.has(k)).map(([, t]) => t);
    const targets = (ts: Target[]) => ts.map((t) => ({ Id: t.ip, Port: t.port }));
    if (add.length > 0) {
      await this.o.elbv2.send(
        new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: targets(add) }),
        { abortSignal: this.signal() },
      );
    }
    if (remove.length > 0) {
      await this.o.elbv2.send(
        new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: targets(remove) }),
        { abortSignal: this.signal() },
      );
    }
    if (add.length > 0 || remove.length > 0) {
      this.o.log.info(
        { registered: add.map(key), deregistered: remove.map(key) },
        "ELBv2 targets mirrored",
      );
    }
  }
}
