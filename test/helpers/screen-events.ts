import type { EngineEvent, PreviewEvent } from "../../src/engine/events.js";

// Synthetic engine events for screen tests: a nine-step run, and a preview with many
// resources (no real step of the tutorial previews more than ~30 resources at once).

export const at = "2026-11-21T10:00:00.000Z";

export const TITLES = [
  "Provision",
  "Start traffic",
  "Create new group",
  "Migrate NGINX",
  "Drain old nodes",
  "Delete old nodes",
  "Scale old to 0",
  "Remove old group",
  "Verify & report",
];
export const IDS = [
  "provision",
  "start-traffic",
  "create-new-group",
  "migrate-nginx",
  "drain-old-nodes",
  "delete-old-nodes",
  "scale-old-to-zero",
  "remove-old-group",
  "verify-report",
];

export function runEvent(): EngineEvent {
  return {
    type: "run",
    runId: "00000000-0000-4000-8000-000000000000",
    stack: "dev",
    target: "local",
    dryRun: false,
    steps: IDS.map((id, i) => ({
      id,
      index: i + 1,
      title: TITLES[i]!,
      why: `Why step ${i + 1} exists, in a sentence long enough to wrap on a narrow terminal screen.`,
      status: "pending",
    })),
    at,
  };
}

/** A preview creating `n` resources, each with a long property value. */
export function bigPreview(step: string, n: number): PreviewEvent {
  return {
    type: "preview",
    step,
    changes: { create: n, update: 0, replace: 0, delete: 0 },
    resources: Array.from({ length: n }, (_, i) => ({
      op: "create" as const,
      urn: `urn:pulumi:dev::eks::kubernetes:core/v1:ConfigMap::cm-${i + 1}`,
      type: "kubernetes:core/v1:ConfigMap",
      name: `apps/resource-${String(i + 1).padStart(2, "0")}`,
      diffs: [
        {
          path: "data.config",
          kind: "add" as const,
          new: `value-${i + 1}-${"x".repeat(90)}-end-${i + 1}`,
        },
      ],
      replaceKeys: [],
    })),
    at,
  };
}

/** The events of a run that reached `index` (1-based) and asks to confirm it. */
export function confirmAt(
  index: number,
  extra: Partial<Extract<EngineEvent, { type: "awaiting" }>> = {},
): EngineEvent[] {
  const out: EngineEvent[] = [runEvent()];
  for (let i = 0; i < index - 1; i++) {
    out.push({ type: "step", step: IDS[i]!, index: i + 1, status: "previewing", at });
    out.push({ type: "step", step: IDS[i]!, index: i + 1, status: "done", at });
  }
  const id = IDS[index - 1]!;
  out.push({ type: "step", step: id, index, status: "previewing", at });
  return [
    ...out,
    { type: "step", step: id, index, status: "awaiting-confirmation", at },
    { type: "awaiting", step: id, kind: "confirm", options: ["confirm", "stop"], at, ...extra },
  ];
}
