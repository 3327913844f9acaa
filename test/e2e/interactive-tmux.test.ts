import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sandboxDown } from "../../src/sandbox/sandbox.js";
import { cliPath, nodeBin, repoRoot, requireBuild } from "../helpers/cli.js";
import { uniqueName } from "../helpers/sandbox.js";
import { TmuxSession } from "../helpers/tmux.js";

// A person at a real terminal of 80×24 and of 200×50: the Ink screen in tmux, each step
// confirmed after reading what the screen shows, to the end. The frame must fit the terminal
// (header on the first row, nothing pushed into scrollback while the screen is up), a
// destructive step must ask for its number typed, and `q` during an apply must ask first.
// What no real step produces (a 40-resource preview, a drain blocked by a PDB) is fed
// through the same renderer (dist/ui/render-ink.js) by test/helpers/screen-feed.mjs.

const SIZES = [
  [80, 24],
  [200, 50],
] as const;
const TITLES = [
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
/** Screens kept for the report (capture-pane text). */
const captureDir = join(tmpdir(), "ekr-tmux-captures");
mkdirSync(captureDir, { recursive: true });
const keep = (name: string, screen: string) =>
  writeFileSync(join(captureDir, `${name}.txt`), screen);
const env = { TERM: "xterm-256color", NODE_NO_WARNINGS: "1" };
const sessions: TmuxSession[] = [];
const sandboxes: string[] = [];

afterAll(async () => {
  for (const s of sessions) s.kill();
  for (const name of sandboxes) await sandboxDown({ name });
});

/** The frame fits: no more rows than the pane, the header on its first row. */
function expectFits(screen: string, rows: number, header: string) {
  const lines = screen.replace(/\n$/, "").split("\n");
  expect(lines.length).toBeLessThanOrEqual(rows);
  expect(lines[0], screen).toContain(header);
}

describe.each(SIZES)("the screen at %i×%i, synthetic events (real renderer)", (cols, rows) => {
  it("scrolls a 40-resource preview to its last resource and full value", async () => {
    requireBuild();
    const s = TmuxSession.start(`${nodeBin} test/helpers/screen-feed.mjs big-preview`, {
      cwd: repoRoot,
      env,
      width: cols,
      height: rows,
    });
    sessions.push(s);
    const first = await s.waitFor("Apply this step?");
    expectFits(first, rows, "eks-runbook · stack dev · local");
    expect(first).toContain("+40 to create");
    expect(first).not.toContain("resource-40");
    expect(s.historySize()).toBe(0);
    // When the operator pages down, then jumps to the end
    s.keys("NPage");
    await s.waitFor((x) => !x.includes("+40 to create") || rows >= 70);
    s.keys("End");
    const end = await s.waitFor("resource-40");
    keep(`preview-end-${cols}x${rows}`, end);
    // Then the last resource and its whole value (wrapped, not cut) are on screen
    expect(end.replace(/\n\s*/g, "")).toContain("-end-40");
    expect(end).toMatch(/\d+–\d+ of \d+/);
    expectFits(end, rows, "eks-runbook · stack dev · local");
    // And a `/` filter finds one resource
    s.keys("/");
    s.type("resource-07");
    await s.waitFor("/resource-07_");
    s.keys("Enter");
    await s.waitFor((x) => x.includes("resource-07") && !x.includes("resource-08"));
    // Esc and y apart: a terminal reads ESC followed at once by a key as Alt+key.
    await s.waitFor('/ filter "resource-07"');
    s.keys("Escape");
    await s.waitFor((x) => !x.includes('filter "resource-07"'));
    await new Promise((r) => setTimeout(r, 300));
    s.keys("y");
    const after = await s.waitFor("[exit 0]");
    expect(after).toContain("decision:");
    expect(after).toContain('"decision":"confirm"');
    // Only the outcome (a few lines) went to the normal screen.
    expect(s.historySize()).toBeLessThan(20);
  });

  it("shows a failed drain: the reason, the blocker first, and the options", async () => {
    requireBuild();
    const s = TmuxSession.start(`${nodeBin} test/helpers/screen-feed.mjs failed-drain`, {
      cwd: repoRoot,
      env,
      width: cols,
      height: rows,
    });
    sessions.push(s);
    const f = await s.waitFor("Step failed:");
    keep(`failed-drain-${cols}x${rows}`, f);
    expectFits(f, rows, "eks-runbook · stack dev · local");
    expect(f).toContain("5/9 Drain old nodes (failed)");
    const lines = f.split("\n");
    const plan = lines.findIndex((l) => l.includes("Plan: 14 items, 1 blocked (listed first)"));
    expect(plan, f).toBeGreaterThan(0);
    expect(lines[plan + 1]).toContain("block apps/nginx-ing-cntlr-7d9f");
    expect(f).toContain("[r] retry gates  [b] roll back  [s] stop");
    s.keys("s");
    const after = await s.waitFor("[exit 0]");
    expect(after).toContain('"decision":"stop"');
    expect(after).toContain("failed: 4 steps done");
  });
});

describe.each(SIZES)("interactive rehearsal in tmux at %i×%i", (cols, rows) => {
  it("confirms all nine steps by reading the screen; the frame always fits", async () => {
    requireBuild();
    const sandbox = uniqueName(`tmux${cols}`);
    sandboxes.push(sandbox);
    const home = mkdtempSync(join(tmpdir(), "ekr-tmux-"));
    const s = TmuxSession.start(`${nodeBin} ${cliPath} --target local --stack tui`, {
      cwd: repoRoot,
      env: { ...env, EKS_RUNBOOK_HOME: home, EKS_RUNBOOK_SANDBOX: sandbox },
      width: cols,
      height: rows,
    });
    sessions.push(s);
    expect(s.size()).toEqual({ columns: cols, rows });
    const header = "eks-runbook · stack tui · local";
    const historyAtStart = s.historySize();
    let quitAsked = 0;
    let typedConfirmations = 0;
    for (const [i, title] of TITLES.entries()) {
      const n = i + 1;
      // Given the screen asks to apply step n
      const screen = await s.waitFor(
        new RegExp(`${n}/9 ${title.replace("&", "\\&")}[\\s\\S]*Apply this step\\?`),
        240_000,
      );
      if (n === 4 || n === 5) keep(`confirm-step${n}-${cols}x${rows}`, screen);
      // Then it shows the header (first row), the step, the preview, traffic and the keys,
      // and nothing went to scrollback
      expectFits(screen, rows, header);
      expect(s.historySize()).toBe(historyAtStart);
      expect(screen).toMatch(/Preview /);
      expect(screen).toContain("[y] apply");
      expect(screen).toContain("Traffic");
      if (n === 1) expect(screen).toMatch(/to create/);
      if (n === 4) {
        expect(screen).toContain("nginx-ing-cntlr");
        expect(screen).toMatch(/t3\.2xlarge → c5\.4xlarge/);
        expect(screen).toMatch(/\d{1,3}\.\d{2}% ok \(10s\)/);
      }
      // When the operator presses y (and, for a destructive step, types its number)
      s.keys("y");
      const next = await s.waitFor(
        (x) => x.includes("Enter to apply") || !x.includes("Apply this step?"),
        30_000,
      );
      if (next.includes("Enter to apply")) {
        typedConfirmations++;
        expect(next).toMatch(new RegExp(`Type ${n} and Enter to apply`));
        keep(`destructive-step${n}-${cols}x${rows}`, next);
        s.type(String(n));
        s.keys("Enter");
        await s.waitFor((x) => !x.includes("Apply this step?"), 30_000);
      }
      // While a Pulumi step applies, q asks before cancelling anything; n continues.
      if (quitAsked === 0 && [1, 3, 4, 7, 8].includes(n)) {
        const applying = await s
          .waitFor(new RegExp(`${n}/9 ${title}[^\\n]*\\(applying\\)`), 20_000)
          .catch(() => undefined);
        if (applying) {
          s.keys("q");
          const asked = await s.waitFor(/Cancel the update in progress\?|Quit the run\?/, 10_000);
          if (asked.includes("Cancel the update in progress?")) {
            quitAsked++;
            keep(`quit-during-apply-${cols}x${rows}`, asked);
          }
          s.keys("n");
          await s.waitFor((x) => !/Cancel the update|Quit the run\?/.test(x), 10_000);
        }
      }
    }
    const end = await s.waitFor(/completed: 9 steps done/, 300_000);
    expect(end).toMatch(/0 failed/);
    await s.waitFor("[exit 0]", 30_000);
    expect(quitAsked).toBe(1);
    // Drain (5), delete nodes (6) and remove the group (8) remove things.
    expect(typedConfirmations).toBeGreaterThanOrEqual(2);
    // The terminal is restored; the outcome (one line per step) stays in the normal screen.
    expect(s.cursorVisible()).toBe(true);
    const history = s.history();
    keep(`outcome-${cols}x${rows}`, history);
    expect(history).toMatch(/✔ 4 Migrate NGINX/);
    expect(history.match(/✔ 4 Migrate NGINX/g)).toHaveLength(1);
    // Scrollback grew by the outcome at most (a frame of `rows` lines would be far more).
    expect(s.historySize() - historyAtStart).toBeLessThan(rows);
  });
});
