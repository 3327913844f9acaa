import type { GateDef, Step } from "../../engine/step.js";
import type { MigrationSpec } from "../../infra/spec.js";
import { WORKLOAD } from "../../infra/workload-names.js";
import type { RunbookConfig } from "./config.js";
import type { EksContext } from "./context.js";
import { intents } from "./intents.js";
import { planChanges } from "./plan.js";

// The tutorial "EKS - Migrating Node Groups with Zero Downtime", modernised, as data: nine
// steps, each a spec change or an operation, each with the gates that must hold before the
// next one may start.

type Gate = GateDef<EksContext, MigrationSpec>;
export type EksStep = Step<EksContext, MigrationSpec>;

export function eksMigrationSteps(config: RunbookConfig): EksStep[] {
  const { standard, old, new: fresh } = config.groups;
  const windowMs = config.gates.windowSeconds * 1000;
  const timeoutMs = config.gates.timeoutSeconds * 1000;
  const change = new Map(planChanges(config));
  const gate = (id: string, title: string, probe: Gate["probe"]): Gate => ({
    id,
    title,
    windowMs,
    timeoutMs,
    probe,
  });

  // Zero downtime per step: the window must be healthy and nothing may have failed since
  // the step began (the engine marks the traffic timeline with the step's id).
  const traffic = (step: string) =>
    gate("traffic", `traffic ≥ ${config.gates.successRatePercent}% ok`, (c) =>
      c.probes.trafficHealthy({
        step,
        windowSeconds: config.gates.windowSeconds,
        successRatePercent: config.gates.successRatePercent,
        minRequests: config.gates.minRequests,
        ignoreFailureClasses: config.gates.ignoreFailureClasses,
      }),
    );
  const nodes = (g: typeof standard, count = g.desired): Gate =>
    gate(`nodes-${g.name}`, `${count} ${g.name} nodes Ready`, (c, spec) =>
      c.probes.nodesReady({
        group: g.name,
        count,
        controlPlaneVersion: spec.clusterVersion,
        kubeletVersion: g.kubeletVersion,
      }),
    );
  const nginxOn = (instanceType: string): Gate =>
    gate("nginx-placement", `NGINX pods on ${instanceType}`, (c, spec) =>
      c.probes.podsPlaced({
        namespace: WORKLOAD.namespace,
        appLabel: WORKLOAD.nginx.appLabel,
        instanceTypes: [instanceType],
        expected: spec.nginx.replicas,
      }),
    );
  // Before old capacity leaves (drain, delete, scale to 0) the load balancer itself must
  // route nothing there: no target on old nodes, registered or still draining.
  const lbOffOld: Gate = gate("lb-targets", `no load balancer target on ${old.name} nodes`, (c) =>
    c.probes.lbTargetsOff(old.name),
  );
  const rollout = (name: string): Gate =>
    gate(`rollout-${name}`, `${name} rollout complete`, (c) =>
      c.probes.rolloutComplete({ namespace: WORKLOAD.namespace, name }),
    );

  return [
    {
      id: "provision",
      title: "Provision",
      why:
        "Create the cluster, the standard group for general workloads and the old group that runs NGINX, " +
        "then deploy NGINX and the echoserver. Everything after this is measured against this baseline.",
      change: change.get("provision")!,
      intent: intents.provision(),
      gates: [
        nodes(standard),
        nodes(old),
        nginxOn(old.instanceType),
        gate("echoserver-placement", `echoserver pods on ${standard.instanceType}`, (c, spec) =>
          c.probes.podsPlaced({
            namespace: WORKLOAD.namespace,
            appLabel: WORKLOAD.echoserver.appLabel,
            instanceTypes: [standard.instanceType],
            expected: spec.echoserver.replicas,
          }),
        ),
        rollout(WORKLOAD.nginx.name),
        rollout(WORKLOAD.echoserver.name),
        gate("http", `HTTP 200 for ${config.host}${config.path}`, (c) =>
          c.probes.httpOk({ host: config.host, path: config.path }),
        ),
      ],
    },
    {
      id: "start-traffic",
      title: "Start traffic",
      why:
        "Zero downtime is a claim about requests, so requests flow through the load balancer from here to the end; " +
        "every later gate checks that none of them failed.",
      action: {
        preview: async (c, _spec, signal) => {
          const rate =
            config.traffic.rate > 0 ? `${config.traffic.rate} req/s` : "as fast as possible";
          const summary = `start the load generator: ${config.traffic.connections} connections, ${rate}`;
          // Before step 1 has run (a dry run of a new stack) there is no load balancer yet.
          const t = await c.trafficTarget(signal).catch(() => undefined);
          const target = t
            ? `${t.url}${t.path ?? ""}`
            : `the load balancer of step 1, ${config.path}`;
          return { summary, items: [{ kind: "start", target, detail: `Host: ${config.host}` }] };
        },
        run: async (c, _spec, signal) => {
          const t = await c.trafficTarget(signal);
          if (!c.traffic.running) await c.traffic.start(t, signal);
          return { summary: `traffic started against ${t.url}${t.path ?? ""}` };
        },
        undo: async (c) => {
          await c.traffic.stop();
          return { summary: "traffic stopped" };
        },
      },
      onResume: async (c, _spec, signal) => {
        if (!c.traffic.running) await c.traffic.start(await c.trafficTarget(signal), signal);
      },
      gates: [traffic("start-traffic")],
    },
    {
      id: "create-new-group",
      title: "Create new group",
      why:
        `Bring up ${fresh.desired} × ${fresh.instanceType} at kubelet ${fresh.kubeletVersion}, tainted so only NGINX lands there. ` +
        "Capacity exists before anything moves: create before delete.",
      change: change.get("create-new-group")!,
      intent: intents.createNewGroup(fresh.name),
      gates: [
        nodes(fresh),
        gate("asg-new", `ASG ${fresh.name}: ${fresh.desired} InService`, (c) =>
          c.probes.asgInService({ group: fresh.name, count: fresh.desired }),
        ),
        traffic("create-new-group"),
      ],
    },
    {
      id: "migrate-nginx",
      title: "Migrate NGINX",
      why:
        `Point NGINX's required node affinity at ${fresh.instanceType}. The rolling update (surge 1, unavailable 0), ` +
        "the PDB and graceful shutdown move it one pod at a time without dropping a request.",
      change: change.get("migrate-nginx")!,
      intent: intents.migrateNginx(),
      gates: [
        rollout(WORKLOAD.nginx.name),
        nginxOn(fresh.instanceType),
        lbOffOld,
        traffic("migrate-nginx"),
      ],
    },
    {
      id: "drain-old-nodes",
      title: "Drain old nodes",
      why:
        "Cordon the old nodes and evict what is left through the Eviction API, which honours PodDisruptionBudgets, " +
        "so nothing is scheduled there again and nothing is killed outside its budget.",
      action: {
        preview: (c, _spec, signal) => c.ops.drainPreview(old.name, signal),
        run: async (c, _spec, signal, progress) => {
          // Instance-target load balancers deregister labelled nodes; a cordon does not.
          const excluded = await c.ops.excludeFromLoadBalancers(old.name, signal);
          progress({ done: 0, total: 0, message: excluded.summary });
          return c.ops.drain(old.name, signal, progress);
        },
        undo: async (c, _spec, signal) => {
          await c.ops.includeInLoadBalancers(old.name, signal);
          return c.ops.uncordon(old.name, signal);
        },
      },
      gates: [
        gate("drained", `no evictable pods on ${old.name} nodes`, (c) =>
          c.probes.noEvictablePods(old.name),
        ),
        lbOffOld,
        traffic("drain-old-nodes"),
      ],
    },
    {
      id: "delete-old-nodes",
      title: "Delete old nodes",
      why: "Remove the drained Node objects from the API server, so the cluster no longer counts them.",
      action: {
        preview: (c, _spec, signal) => c.ops.deleteNodesPreview(old.name, signal),
        run: (c, _spec, signal) => c.ops.deleteNodes(old.name, signal),
      },
      gates: [
        gate("nodes-gone", `no ${old.name} nodes in the API`, (c) =>
          c.probes.nodesAbsent(old.name),
        ),
        lbOffOld,
        traffic("delete-old-nodes"),
      ],
    },
    {
      id: "scale-old-to-zero",
      title: "Scale old to 0",
      why: "Scale the old Auto Scaling group to zero, so its instances terminate and stop costing money.",
      change: change.get("scale-old-to-zero")!,
      intent: intents.scaleOldToZero(old.name),
      gates: [
        gate("asg-old-empty", `ASG ${old.name}: 0 InService`, (c) =>
          c.probes.asgInService({ group: old.name, count: 0 }),
        ),
        lbOffOld,
        traffic("scale-old-to-zero"),
      ],
    },
    {
      id: "remove-old-group",
      title: "Remove old group",
      why: "Remove the old group from the desired state; Pulumi deletes its launch template, ASG and IAM.",
      change: change.get("remove-old-group")!,
      intent: intents.removeOldGroup(old.name),
      gates: [
        gate("stack-clean", `no ${old.name} resources in the stack`, (c) =>
          c.probes.stackWithoutGroup(old.name),
        ),
        gate("asg-old-gone", `ASG ${old.name} gone`, (c) => c.probes.asgGone(old.name)),
        traffic("remove-old-group"),
      ],
    },
    {
      id: "verify-report",
      title: "Verify & report",
      why: "Stop the traffic and write the evidence: every request counted, the per-second timeline and the verdict.",
      action: {
        preview: async (c) => c.report.preview(),
        run: async (c, spec, signal) => {
          if (c.traffic.running) await c.traffic.stop();
          const r = await c.report.write(spec, signal);
          return { summary: r.summary, details: { report: r.path } };
        },
      },
      gates: [
        {
          id: "zero-downtime",
          title: "0 failed requests",
          windowMs: 0,
          timeoutMs,
          probe: (c) => c.probes.zeroFailures(config.gates.ignoreFailureClasses),
        },
      ],
    },
  ];
}
