import { existsSync } from "node:fs";
import { Journal } from "../engine/journal.js";
import { describeOwner, type LockState } from "../engine/run-lock.js";
import { escapeControl } from "../engine/safe-text.js";
import { loadConfig } from "../migrations/eks-nodegroups/config.js";
import { eksMigrationSteps } from "../migrations/eks-nodegroups/steps.js";
import { stackLockState } from "./stack-lock.js";
import { journalPath, validateStackName } from "./state-dir.js";

// `eks-runbook status`: where the migration stands, from the journal alone (no cluster
// access needed, so it also works when the cluster is the problem).

export async function statusCommand(raw: Record<string, unknown>): Promise<number> {
  const stack = validateStackName(String(raw.stack ?? "dev"));
  const path = journalPath(stack);
  const steps = eksMigrationSteps(loadConfig(undefined));
  const state = new Journal(path).read();
  const rows = steps.map((s, i) => ({
    index: i + 1,
    step: s.id,
    title: s.title,
    status: state.status.get(s.id) ?? "pending",
  }));
  const next = rows.find((r) => r.status !== "done");
  const last = state.records.at(-1);
  const lock = stackLockState(stack);
  const warnings = state.warnings ?? [];
  if (raw.json) {
    process.stdout.write(
      `${JSON.stringify({ stack, journal: path, exists: existsSync(path), steps: rows, next: next?.step ?? null, overrides: state.overrides.length, lastRecordAt: last?.at ?? null, lock, warnings })}\n`,
    );
    return 0;
  }
  for (const w of warnings) process.stderr.write(escapeControl(`warning: ${w}\n`));
  const lockLine = describeLock(lock);
  if (lockLine) process.stdout.write(`${lockLine}\n`);
  if (!existsSync(path)) {
    process.stdout.write(`stack ${stack}: no journal at ${path}; the migration has not started.\n`);
    return 0;
  }
  process.stdout.write(`stack ${stack} · journal ${path}\n`);
  for (const r of rows)
    process.stdout.write(
      `  ${r.status === "done" ? "✔" : r.status === "pending" ? "○" : "▶"} ${r.index} ${r.title.padEnd(20)} ${r.status}\n`,
    );
  process.stdout.write(
    next
      ? `next: step ${next.index} (${next.title})${next.status !== "pending" ? `, interrupted while ${next.status}` : ""}\n`
      : "every step is done.\n",
  );
  if (state.overrides.length)
    process.stdout.write(`gate overrides: ${state.overrides.length} (see the report)\n`);
  return 0;
}

function describeLock(lock: LockState): string | undefined {
  switch (lock.state) {
    case "free":
      return undefined;
    case "live":
      return escapeControl(`a run is live: ${describeOwner(lock.owner)}`);
    case "foreign":
      return escapeControl(`a run holds the lock from another host: ${describeOwner(lock.owner)}`);
    case "stale":
      return escapeControl(
        `stale run lock: ${describeOwner(lock.owner)}, but ${lock.why}; the next run takes it over`,
      );
    case "unreadable":
      return `the run lock cannot be read (${lock.why})`;
  }
}
