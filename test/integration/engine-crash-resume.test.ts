import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { JournalRecord } from "../../src/engine/journal.js";
import { nodeBin, repoRoot } from "../helpers/cli.js";

// A runbook process killed (SIGKILL) right after each journal record it writes, i.e. at
// every transition, then run again: it must finish, and a step the journal had recorded
// as done must never be applied again.

const here = fileURLToPath(new URL(".", import.meta.url));

function runChild(dir: string, crashAfter?: number, tornAt?: number) {
  return spawnSync(
    nodeBin,
    [
      "--experimental-transform-types",
      "--no-warnings",
      "--import",
      join(here, "infra-ts-hooks.mjs"),
      join(here, "engine-crash-child.ts"),
      JSON.stringify({ dir, crashAfter, tornAt }),
    ],
    { cwd: repoRoot, encoding: "utf8", timeout: 60_000 },
  );
}

const records = (dir: string): JournalRecord[] =>
  readFileSync(join(dir, "journal.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as JournalRecord);

const effects = (dir: string): string[] => {
  try {
    return readFileSync(join(dir, "effects.log"), "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
};

describe("crash at every transition, then resume", () => {
  it("completes after a SIGKILL at any journal record without repeating finished steps", () => {
    // Given the number of records an uninterrupted run writes
    const clean = mkdtempSync(join(tmpdir(), "crash-clean-"));
    const full = runChild(clean);
    expect(full.status, full.stderr).toBe(0);
    const total = records(clean).length;
    expect(effects(clean)).toEqual(["apply 4", "action act", "apply 3"]);
    expect(total).toBeGreaterThan(20);

    for (let k = 1; k < total; k++) {
      const dir = mkdtempSync(join(tmpdir(), `crash-${k}-`));
      // When the process dies right after record k
      const crashed = runChild(dir, k);
      expect(crashed.signal, `k=${k}`).toBe("SIGKILL");
      const before = records(dir);
      expect(before).toHaveLength(k);
      const doneBefore = new Set(
        before
          .filter((r) => r.type === "transition" && r.status === "done")
          .map((r) => (r as { step: string }).step),
      );
      const effectsBefore = effects(dir).length;
      // Then a second run finishes
      const resumed = runChild(dir);
      expect(resumed.status, `k=${k}: ${resumed.stderr}`).toBe(0);
      const after = records(dir);
      expect(after.at(-1), `k=${k}`).toMatchObject({ type: "end", result: "completed" });
      // and applies nothing a finished step already did
      const redone = effects(dir).slice(effectsBefore);
      const expected = [
        ...(doneBefore.has("grow") ? [] : ["apply 4"]),
        ...(doneBefore.has("act") ? [] : ["action act"]),
        ...(doneBefore.has("shrink") ? [] : ["apply 3"]),
      ];
      expect(redone, `k=${k}`).toEqual(expected);
    }
  });

  it("a crash in the middle of a journal write: the torn line is ignored with a warning and the run resumes", () => {
    const clean = mkdtempSync(join(tmpdir(), "torn-clean-"));
    expect(runChild(clean).status).toBe(0);
    const total = records(clean).length;
    for (const k of [1, 2, Math.floor(total / 2), total - 1]) {
      const dir = mkdtempSync(join(tmpdir(), `torn-${k}-`));
      // When the process dies halfway through writing record k
      const crashed = runChild(dir, undefined, k);
      expect(crashed.signal, `k=${k}`).toBe("SIGKILL");
      const text = readFileSync(join(dir, "journal.jsonl"), "utf8");
      expect(text.endsWith("\n"), `k=${k}: the last line is torn`).toBe(false);
      const complete = text.split("\n").slice(0, -1);
      expect(complete, `k=${k}`).toHaveLength(k - 1);
      const doneBefore = new Set(
        complete
          .map((l) => JSON.parse(l) as JournalRecord)
          .filter((r) => r.type === "transition" && r.status === "done")
          .map((r) => (r as { step: string }).step),
      );
      const effectsBefore = effects(dir).length;
      // Then the next run warns about the torn line, ignores it and finishes
      const resumed = runChild(dir);
      expect(resumed.status, `k=${k}: ${resumed.stderr}`).toBe(0);
      expect(resumed.stderr).toMatch(new RegExp(`line ${k} is an incomplete record`));
      // and the journal is whole again: every line a record, ending with the run's end
      const after = records(dir);
      expect(after.at(-1), `k=${k}`).toMatchObject({ type: "end", result: "completed" });
      expect(readFileSync(join(dir, "journal.jsonl"), "utf8").endsWith("\n")).toBe(true);
      const redone = effects(dir).slice(effectsBefore);
      const expected = [
        ...(doneBefore.has("grow") ? [] : ["apply 4"]),
        ...(doneBefore.has("act") ? [] : ["action act"]),
        ...(doneBefore.has("shrink") ? [] : ["apply 3"]),
      ];
      expect(redone, `k=${k}`).toEqual(expected);
    }
  });
});
