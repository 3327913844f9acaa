import { join } from "node:path";
import { journalPath, reportsDir, stackDir } from "../../cli/state-dir.js";
import { RunbookError } from "../../engine/errors.js";
import type { Diagnostic } from "../../engine/ports.js";
import { probeCheck } from "../../ops/between-nodes.js";
import type { RunTarget } from "../../targets/target.js";
import type { RunbookConfig } from "./config.js";
import type { EksContext } from "./context.js";
import { createEksOps } from "./ops.js";
import { createEksProbes } from "./probes.js";
import { createRunReport } from "./report.js";
import { StackOutputs } from "./stack-outputs.js";

// Binds the migration's steps to a target: the real probes, ops, load generator and report
// writer. The load generator is owned here: steps 2 and 9 start and stop it through the
// context, and close() stops it whatever way the run ended.

const INGRESS_NGINX_EOL =
  "ingress-nginx reached end of life in March 2026 (no more releases or security fixes); " +
  "this runbook still uses its last release, as the tutorial did. Plan a move to a maintained controller.";

export interface EksRun {
  ctx: EksContext;
  preflight: Diagnostic[];
  reportPath(): string | undefined;
  close(): Promise<void>;
}

export async function createEksRun(o: {
  target: RunTarget;
  config: RunbookConfig;
  stack: string;
  /** Titles for the report, from the same step list the engine runs. */
  steps: { id: string; title: string }[];
}): Promise<EksRun> {
  const { target, config } = o;
  const [{ createLoadGenerator }, { TimelineLog }] = await Promise.all([
    import("../../traffic/load-generator.js"),
    import("../../traffic/timeline-log.js"),
  ]);
  const outputs = new StackOutputs(target.infra);
  // The timeline is kept beside the journal, so the report of a resumed run covers the
  // seconds before the crash too (the journal keeps the steps; this keeps the traffic).
  const timelineLog = new TimelineLog(join(stackDir(o.stack), "traffic-timeline.jsonl"));
  const traffic = createLoadGenerator({
    connections: config.traffic.connections,
    rate: config.traffic.rate,
    timeoutMs: config.traffic.timeoutSeconds * 1000,
    log: timelineLog,
  });
  let reportPath: string | undefined;
  const probes = createEksProbes({
    kube: target.kube,
    asg: target.asg,
    elbv2: target.elbv2,
    traffic,
    outputs,
    stackResources: (signal) => target.infra.resourceUrns(signal),
  });
  // Between drained nodes, the traffic gate must hold too (besides the workloads' ready
  // replicas, which the drain checks itself), so a drain never outruns a struggling service.
  const betweenNodes = probeCheck(
    probes.trafficHealthy({
      step: "drain-old-nodes",
      windowSeconds: config.gates.windowSeconds,
      successRatePercent: config.gates.successRatePercent,
      minRequests: config.gates.minRequests,
      ignoreFailureClasses: config.gates.ignoreFailureClasses,
    }),
  );
  const ctx: EksContext = {
    config,
    traffic,
    probes,
    ops: createEksOps(target.kube, { drain: config.drain, betweenNodes }),
    trafficTarget: async (signal) => {
      const url = await outputs.loadBalancerUrl(signal);
      if (!url) {
        throw new RunbookError(
          "the stack has no load balancer address (output nginxServiceUrl) yet",
          "Step 1 creates it; if step 1 is done, check the Service nginx-ing-cntlr in namespace apps for status.loadBalancer.",
        );
      }
      return { url, host: config.host, path: config.path };
    },
    report: createRunReport({
      stack: o.stack,
      target: target.name,
      steps: o.steps,
      journalPath: journalPath(o.stack),
      reportsDir: reportsDir(o.stack),
      traffic,
      ...(target.cluster ? { cluster: target.cluster } : {}),
      ...(target.region ? { region: target.region } : {}),
      config,
      ignoreFailureClasses: config.gates.ignoreFailureClasses,
      onWritten: (p) => {
        reportPath = p;
      },
    }),
  };
  return {
    ctx,
    preflight: [{ severity: "warning", message: INGRESS_NGINX_EOL }],
    reportPath: () => reportPath,
    close: async () => {
      if (traffic.running) await traffic.stop();
      timelineLog.close();
    },
  };
}
