// The real screen (dist/ui/render-ink.js, as the CLI mounts it) fed a synthetic event stream,
// for terminal tests of what no real rehearsal step produces: a preview of 40 resources and a
// failed drain with a blocking PodDisruptionBudget. Keys go back as decisions, like the engine.
// Usage: node test/helpers/screen-feed.mjs big-preview|failed-drain
import { renderInk } from "../../dist/ui/render-ink.js";
import { at, bigPreview, confirmAt, IDS } from "./screen-events.ts";

const scenario = process.argv[2];
let finish;
const done = new Promise((r) => {
  finish = r;
});
const ui = renderInk(
  {
    decide: (step, decision) => finish({ step, decision }),
    abort: (reason) => finish({ abort: reason }),
  },
  { interactive: true },
);
const send = (e) => ui.onEvent(e);
const summary = (result, stepsDone) =>
  send({
    type: "summary",
    result,
    stepsDone,
    requests: { total: 1200, ok: 1200, failed: 0 },
    overrides: 0,
    at,
  });

if (scenario === "big-preview") {
  for (const e of confirmAt(4)) if (e.type !== "awaiting") send(e);
  send(bigPreview(IDS[3], 40));
  send({ type: "awaiting", step: IDS[3], kind: "confirm", options: ["confirm", "stop"], at });
} else if (scenario === "failed-drain") {
  for (const e of confirmAt(5)) if (e.type !== "awaiting") send(e);
  const pods = Array.from({ length: 12 }, (_, i) => ({
    kind: "evict",
    target: `apps/echoserver-${i + 1}`,
    detail: `on old-node-${(i % 3) + 1}`,
  }));
  send({
    type: "preview",
    step: IDS[4],
    changes: { create: 0, update: 0, replace: 0, delete: 0 },
    resources: [],
    action: {
      summary: "cordon 3 old nodes, evict 13 pods (1 blocked)",
      items: [
        ...pods,
        { kind: "cordon", target: "old-node-1" },
        {
          kind: "block",
          target: "apps/nginx-ing-cntlr-7d9f",
          detail: "PodDisruptionBudget apps/nginx-ing-cntlr allows 0 disruptions",
        },
      ],
    },
    at,
  });
  send({ type: "step", step: IDS[4], index: 5, status: "applying", at });
  send({ type: "step", step: IDS[4], index: 5, status: "verifying", at });
  send({
    type: "gate",
    step: IDS[4],
    gate: "drained",
    title: "old nodes drained",
    passed: false,
    settled: false,
    reason: "1 evictable pod left on old nodes: apps/nginx-ing-cntlr-7d9f (PDB allows 0)",
    at,
  });
  send({
    type: "step",
    step: IDS[4],
    index: 5,
    status: "failed",
    reason: "gates did not pass",
    at,
  });
  send({
    type: "awaiting",
    step: IDS[4],
    kind: "failure",
    options: ["retry", "rollback", "stop"],
    reason:
      "drained: 1 evictable pod left on old nodes: apps/nginx-ing-cntlr-7d9f (PodDisruptionBudget apps/nginx-ing-cntlr allows 0 disruptions)",
    at,
  });
} else {
  process.stderr.write(`unknown scenario ${scenario}\n`);
  process.exit(2);
}

const outcome = await done;
if (outcome.abort) summary("aborted", 4);
else summary(outcome.decision === "confirm" ? "completed" : "failed", 4);
await ui.close();
process.stdout.write(`decision: ${JSON.stringify(outcome)}\n`);
