import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sandboxDown } from "../../src/sandbox/sandbox.js";
import { cliPath, nodeBin, repoRoot, requireBuild } from "../helpers/cli.js";
import { uniqueName } from "../helpers/sandbox.js";
import { TmuxSession } from "../helpers/tmux.js";

// A person at a real terminal: the Ink screen in tmux, each step confirmed with `y` after
// reading what the screen shows (steps, preview, gates, traffic pane), to the end.

const sandbox = uniqueName("tmux");
const home = mkdtempSync(join(tmpdir(), "ekr-tmux-"));
let session: TmuxSession | undefined;

describe("interactive rehearsal in tmux", () => {
  afterAll(async () => {
    session?.kill();
    await sandboxDown({ name: sandbox });
  });

  it("confirms each step at the prompt and ends with a zero-downtime summary", async () => {
    requireBuild();
    session = TmuxSession.start(`${nodeBin} ${cliPath} --target local --stack tui`, {
      cwd: repoRoot,
      env: { EKS_RUNBOOK_HOME: home, EKS_RUNBOOK_SANDBOX: sandbox, TERM: "xterm-256color" },
      width: 160,
      height: 48,
    });
    const s = session;
    const titles = [
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
    for (const [i, title] of titles.entries()) {
      // Given the screen asks to apply step i+1
      const screen = await s.waitFor(
        new RegExp(`${i + 1}/9 ${title.replace("&", "\\&")}[\\s\\S]*Apply this step\\?`),
        240_000,
      );
      // Then it shows the header, the step list, the preview and the key hints
      expect(screen).toContain("eks-runbook · stack tui · local");
      expect(screen).toMatch(/Steps/);
      expect(screen).toMatch(/Preview|stop the traffic|start the load generator|cordon|delete/);
      expect(screen).toContain("[y] apply");
      expect(screen).toContain("Traffic");
      if (i === 0) expect(screen).toMatch(/to create/);
      if (i === 3) {
        expect(screen).toContain("nginx-ing-cntlr");
        expect(screen).toMatch(/t3\.2xlarge → c5\.4xlarge/);
        expect(screen).toMatch(/\d{1,3}\.\d{2}% ok \(10s\)/);
      }
      // When the operator presses y
      s.keys("y");
      // Then the step moves on (gates shown while verifying, unless it passes at once)
      await s
        .waitFor(
          (scr: string) =>
            !scr.includes(`${i + 1}/9 ${title}`) || !scr.includes("Apply this step?"),
          30_000,
        )
        .catch(() => undefined);
    }
    const end = await s.waitFor(/completed: 9 steps done/, 300_000);
    expect(end).toMatch(/0 failed/);
    await s.waitFor(/\[exit 0\]/, 30_000);
    // The terminal is restored: the cursor is visible again after Ink unmounted.
    expect(s.cursorVisible()).toBe(true);
    expect(s.history()).toMatch(/✔ 4 Migrate NGINX/);
  });
});
