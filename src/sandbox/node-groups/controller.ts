import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { CoreV1Api } from "@kubernetes/client-node";
import { NODE_GROUP_LABEL } from "../../infra/workload-names.js";
import { ignoreStatus, sleep } from "../dataplane/kube-util.js";
import type { Log } from "../dataplane/log.js";
import { describeClusterGroups, type ObservedGroup } from "./asg-source.js";
import { managedNodeOf, type NodeProblem, planNodes } from "./node-plan.js";

// The sandbox's node-group controller: what the EKS bootstrap + cloud controller do on AWS.
// Each InService instance of the cluster's Auto Scaling groups (in moto) becomes a kwok
// Node once its boot delay has passed; a Node whose instance is gone is deleted. A Node
// deleted by someone else while its instance is still InService stays deleted (the runbook
// deletes old nodes before scaling their group to 0), so the instance ids whose Node was
// created are remembered in a file and survive an agent restart.

export interface NodeGroupControllerOptions {
  cluster: string;
  asg: AutoScalingClient;
  core: CoreV1Api;
  /** File remembering instance ids whose Node was created. */
  stateFile: string;
  /** Poll interval of DescribeAutoScalingGroups (there is no watch). */
  pollIntervalMs: number;
  /** Boot delay before an instance's Node registers (already scaled by the time factor). */
  bootDelayMs: number;
  /** Each call bounded by this (ms). */
  callTimeoutMs?: number;
  log: Log;
  now?: () => number;
  /** Called after every poll that changed something (for the agent's status file). */
  onChange?: () => void;
}

export interface NodeGroupStatus {
  groups: { asgName: string; nodeGroup?: string; inService: number }[];
  problems: NodeProblem[];
  lastPollOk?: string;
  lastError?: string;
}

interface PersistedState {
  createdInstanceIds: string[];
}

export class NodeGroupController {
  private readonly createdOnce: Set<string>;
  private readonly firstSeen = new Map<string, number>();
  private readonly reported = new Set<string>();
  private readonly now: () => number;
  private current: NodeGroupStatus = { groups: [], problems: [] };
  private lastLoggedError = "";

  constructor(private readonly o: NodeGroupControllerOptions) {
    this.now = o.now ?? Date.now;
    this.createdOnce = new Set(readState(o.stateFile).createdInstanceIds);
  }

  status(): NodeGroupStatus {
    return this.current;
  }

  /** Polls until the signal aborts; errors are logged and retried on the next poll. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let waitMs = this.o.pollIntervalMs;
      try {
        const due = await this.pollOnce(signal);
        if (due !== undefined) waitMs = Math.max(10, Math.min(waitMs, due));
        this.lastLoggedError = "";
      } catch (err) {
        if (signal.aborted) return;
        const msg = err instanceof Error ? err.message : String(err);
        this.current = { ...this.current, lastError: msg };
        if (msg !== this.lastLoggedError) {
          this.o.log.warn({ err: msg }, "node-group poll failed; retrying");
          this.lastLoggedError = msg;
        }
      }
      try {
        await sleep(waitMs, signal);
      } catch {
        return;
      }
    }
  }

  /** One reconciliation; returns ms until a booting instance is due, if any. */
  async pollOnce(signal: AbortSignal): Promise<number | undefined> {
    const timeout = this.o.callTimeoutMs ?? 5_000;
    const groups = await describeClusterGroups(
      this.o.asg,
      this.o.cluster,
      AbortSignal.any([signal, AbortSignal.timeout(timeout)]),
    );
    const nodes = await this.o.core.listNode({ labelSelector: NODE_GROUP_LABEL });
    const existing = nodes.items
      .map((n) => managedNodeOf(n, this.o.cluster))
      .filter((n) => n !== undefined);

    const now = this.now();
    const inServiceNow = new Set<string>();
    for (const g of groups)
      for (const i of g.instances)
        if (i.lifecycleState === "InService") inServiceNow.add(i.instanceId);
    for (const id of inServiceNow) if (!this.firstSeen.has(id)) this.firstSeen.set(id, now);
    for (const id of [...this.firstSeen.keys()])
      if (!inServiceNow.has(id)) this.firstSeen.delete(id);

    const plan = planNodes({
      cluster: this.o.cluster,
      groups,
      existing,
      createdOnce: this.createdOnce,
      firstSeen: this.firstSeen,
      now,
      bootDelayMs: this.o.bootDelayMs,
    });

    let changed = false;
    await Promise.all(
      plan.create.map(async (c) => {
        await ignoreStatus(() => this.o.core.createNode({ body: c.node }), 409);
        this.createdOnce.add(c.instanceId);
        changed = true;
        this.o.log.info(
          { node: c.node.metadata?.name, instanceId: c.instanceId, group: c.group },
          "node registered",
        );
      }),
    );
    await Promise.all(
      plan.delete.map(async (d) => {
        await ignoreStatus(() => this.o.core.deleteNode({ name: d.name }), 404);
        changed = true;
        this.o.log.info({ node: d.name, instanceId: d.instanceId }, "instance gone; node deleted");
      }),
    );
    for (const id of [...this.createdOnce]) {
      if (!plan.present.has(id)) {
        this.createdOnce.delete(id);
        changed = true;
      }
    }
    for (const p of plan.problems) await this.report(p);
    if (changed) writeState(this.o.stateFile, { createdInstanceIds: [...this.createdOnce] });

    this.current = {
      groups: groups.map((g: ObservedGroup) => ({
        asgName: g.asgName,
        nodeGroup: g.tags?.nodeGroup,
        inService: g.instances.filter((i) => i.lifecycleState === "InService").length,
      })),
      problems: plan.problems,
      lastPollOk: new Date(now).toISOString(),
    };
    if (changed || plan.problems.length > 0) this.o.onChange?.();
    return plan.nextDueInMs;
  }

  /** Logs a problem and records it as a Warning Event in `default`, once per agent run. */
  private async report(p: NodeProblem): Promise<void> {
    if (this.reported.has(p.key)) return;
    this.reported.add(p.key);
    this.o.log.error({ asg: p.asgName, reason: p.reason }, p.message);
    const at = new Date(this.now());
    await ignoreStatus(
      () =>
        this.o.core.createNamespacedEvent({
          namespace: "default",
          body: {
            metadata: { generateName: `${p.asgName}.`.toLowerCase().replace(/[^a-z0-9.-]/g, "-") },
            involvedObject: { kind: "AutoScalingGroup", name: p.asgName, namespace: "default" },
            reason: p.reason,
            message: p.message,
            type: "Warning",
            source: { component: "eks-runbook-node-groups" },
            firstTimestamp: at,
            lastTimestamp: at,
            count: 1,
            reportingComponent: "eks-runbook-node-groups",
          },
        }),
      403,
      409,
    ).catch((err: unknown) => {
      this.o.log.warn({ err: String(err) }, "could not record the problem as an Event");
    });
  }
}

function readState(file: string): PersistedState {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<PersistedState>;
    return {
      createdInstanceIds: (parsed.createdInstanceIds ?? []).filter((s) => typeof s === "string"),
    };
  } catch {
    return { createdInstanceIds: [] };
  }
}

function writeState(file: string, state: PersistedState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}
