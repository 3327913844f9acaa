import type { GateDef, Step } from "../../engine/step.js";
import type { ProjectSpec } from "../../infra/project-spec.js";
import type { OwnStackContext } from "./context.js";
import { stepIntent } from "./intent.js";
import type { LoadedPlan } from "./plan-file.js";
import type { GateName, PlanStep } from "./plan-schema.js";

// Your migration plan as the engine's steps. Around the plan's own steps: "start traffic"
// first (when there is traffic to watch) and "verify & report" last. A config step is a
// Pulumi step whose change sets stack config keys; a manual step is two engine steps — an
// action that shows what to change and waits until the program on disk changed, then a
// Pulumi step that previews the edited program, checks it against the step's intent and
// applies it. Drain and delete-nodes are the tutorial's operations on the old group.

type Gate = GateDef<OwnStackContext, ProjectSpec>;
export type OwnStackStep = Step<OwnStackContext, ProjectSpec>;

/** The engine step that waits for a manual step's edit. */
export const editStepId = (id: string) => `${id}-edit`;

export function ownStackInitialSpec(config: Record<string, string>): ProjectSpec {
  return { config, edits: [] };
}

/** Every config key the plan's steps set (the only keys the runbook writes). */
export function managedConfigKeys(plan: Pick<LoadedPlan, "steps">): string[] {
  return [...new Set(plan.steps.flatMap((s) => (s.kind === "config" ? Object.keys(s.set) : [])))];
}

export function ownStackSteps(plan: LoadedPlan): OwnStackStep[] {
  const windowMs = plan.gates.windowSeconds * 1000;
  const timeoutMs = plan.gates.timeoutSeconds * 1000;
  const hasTraffic = plan.traffic !== "none";
  const gate = (id: string, title: string, probe: Gate["probe"]): Gate => ({
    id,
    title,
    windowMs,
    timeoutMs,
    probe,
  });
  const traffic = (step: string): Gate[] =>
    hasTraffic
      ? [
          gate("traffic", `traffic ≥ ${plan.gates.successRatePercent}% ok`, (c) =>
            c.probes.trafficHealthy(step),
          ),
        ]
      : [];
  const expect = plan.groups.new.expect;
  const named: Record<GateName, () => Gate> = {
    "new-group-ready": () =>
      gate("new-group-ready", `${expect.count} new nodes Ready`, (c) => c.probes.newGroupReady()),
    "new-asg-ready": () =>
      gate("new-asg-ready", `new ASG: ${expect.count} InService`, (c) =>
        c.probes.asgInService("new", expect.count),
      ),
    "workloads-moved": () =>
      gate("workloads-moved", `${plan.workloads.length} workload(s) on the new group`, (c) =>
        c.probes.workloadsMoved(),
      ),
    "old-asg-empty": () =>
      gate("old-asg-empty", "old ASG: 0 InService", (c) => c.probes.asgInService("old", 0)),
  };
  const gatesOf = (s: PlanStep & { gates?: GateName[] }) => [
    ...(s.gates ?? []).map((g) => named[g]()),
    ...traffic(s.id),
  ];

  const steps: OwnStackStep[] = [];
  if (hasTraffic) {
    steps.push({
      id: "start-traffic",
      title: "Start traffic",
      why:
        "Zero downtime is a claim about requests, so requests flow to your endpoint from here to the end; " +
        "every later gate checks that none of them failed.",
      action: {
        preview: async (c) => ({
          summary: "start the load generator",
          items: [
            {
              kind: "start",
              target: `${c.trafficTarget?.url ?? "?"}${c.trafficTarget?.path ?? ""}`,
              ...(c.trafficTarget?.host ? { detail: `Host: ${c.trafficTarget.host}` } : {}),
            },
          ],
        }),
        run: async (c, _spec, signal) => {
          const t = c.trafficTarget;
          if (t && !c.traffic.running) await c.traffic.start(t, signal);
          return { summary: `traffic started against ${t?.url ?? "?"}${t?.path ?? ""}` };
        },
        undo: async (c) => {
          await c.traffic.stop();
          return { summary: "traffic stopped" };
        },
      },
      onResume: async (c, _spec, signal) => {
        if (c.trafficTarget && !c.traffic.running) await c.traffic.start(c.trafficTarget, signal);
      },
      gates: traffic("start-traffic"),
    });
  }

  for (const s of plan.steps) {
    const why = s.why ?? s.title;
    switch (s.kind) {
      case "config": {
        const set = Object.fromEntries(Object.entries(s.set).map(([k, v]) => [k, String(v)]));
        steps.push({
          id: s.id,
          title: s.title,
          why,
          change: (spec) => ({ ...spec, config: { ...spec.config, ...set } }),
          intent: stepIntent(s.intent),
          gates: gatesOf(s),
        });
        break;
      }
      case "manual":
        steps.push({
          id: editStepId(s.id),
          title: `Edit: ${s.title}`.slice(0, 60),
          why: s.instructions,
          action: {
            preview: async (c) => ({
              summary: `waits for your change to the program in ${c.program.projectDir}`,
              items: [{ kind: "write", target: c.program.projectDir, detail: s.instructions }],
            }),
            run: (c, _spec, signal, progress) => c.program.waitForChange(signal, progress),
          },
          gates: [],
        });
        steps.push({
          id: s.id,
          title: s.title,
          why,
          change: (spec) => ({ ...spec, edits: [...spec.edits.filter((e) => e !== s.id), s.id] }),
          intent: stepIntent(s.intent),
          gates: gatesOf(s),
        });
        break;
      case "drain":
        steps.push({
          id: s.id,
          title: s.title,
          why:
            s.why ??
            "Cordon the old nodes and evict their pods through the Eviction API, which honours PodDisruptionBudgets.",
          action: {
            preview: (c, _spec, signal) => c.ops.drainPreview(signal),
            run: (c, _spec, signal, progress) => c.ops.drain(signal, progress),
            undo: (c, _spec, signal) => c.ops.uncordon(signal),
          },
          gates: [
            gate("drained", "no evictable pods on old nodes", (c) => c.probes.oldDrained()),
            ...traffic(s.id),
          ],
        });
        break;
      case "delete-nodes":
        steps.push({
          id: s.id,
          title: s.title,
          why: s.why ?? "Remove the drained Node objects from the API server.",
          action: {
            preview: (c, _spec, signal) => c.ops.deleteNodesPreview(signal),
            run: (c, _spec, signal) => c.ops.deleteNodes(signal),
          },
          gates: [
            gate("old-nodes-gone", "no old nodes in the API", (c) => c.probes.oldNodesGone()),
            ...traffic(s.id),
          ],
        });
        break;
    }
  }

  steps.push({
    id: "verify-report",
    title: "Verify & report",
    why: hasTraffic
      ? "Stop the traffic and write the evidence: every request counted, the per-second timeline and the verdict."
      : "Write the evidence. The plan has no traffic to watch (traffic: none): the traffic gates were off.",
    action: {
      preview: async (c) => c.report.preview(),
      run: async (c, spec, signal) => {
        if (c.traffic.running) await c.traffic.stop();
        const r = await c.report.write(spec, signal);
        return { summary: r.summary, details: { report: r.path } };
      },
    },
    gates: hasTraffic
      ? [
          {
            id: "zero-downtime",
            title: "0 failed requests",
            windowMs: 0,
            timeoutMs,
            probe: (c) => c.probes.zeroFailures(),
          },
        ]
      : [],
  });
  return steps;
}
