import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { CliProcess } from "../helpers/cli-process.js";

// Two runs on one stack through the real binary. The first run is held in flight by a
// `pulumi` on its PATH that never answers (it stands in for a long Pulumi update; the
// subject here is the CLI's lock, not Pulumi). The second run must be refused with the
// owner named, `status` must say a run is live, and after the first run is killed with
// SIGKILL (no chance to clean up) the lock is reported stale and broken only on request.

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (cond()) return;
    await delay(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("one run per stack at a time", () => {
  it("refuses a second run naming the owner; a killed owner's lock is taken over by the next run, with a warning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ekr-lock-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const started = join(dir, "pulumi-started");
    // `pulumi version` blocks while `hold` exists, fails once it is gone.
    const hold = join(dir, "hold");
    writeFileSync(hold, "");
    writeFileSync(
      join(bin, "pulumi"),
      `#!/bin/sh\ntouch '${started}'\nwhile [ -e '${hold}' ]; do sleep 0.1; done\necho 'pulumi stand-in: no engine here' >&2\nexit 1\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(bin, "aws"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const state = join(dir, "state");
    const env = {
      HOME: join(dir, "home"),
      PATH: `${bin}:/usr/bin:/bin`,
      EKS_RUNBOOK_HOME: state,
      CI: "true",
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      AWS_REGION: "us-east-1",
    };
    const lockFile = join(state, "dev", "run.lock");

    // Given a first run in flight (it holds the lock and waits on Pulumi)
    const first = new CliProcess(["--yes", "--json", "--target", "aws"], env);
    try {
      await until(() => existsSync(started), "the first run to reach Pulumi");
      const owner = JSON.parse(readFileSync(lockFile, "utf8")) as Record<string, unknown>;
      expect(owner).toMatchObject({
        host: hostname(),
        command: "eks-runbook --yes --json --target aws",
      });
      const pid = owner.pid as number;

      // When a second run starts on the same stack, it is refused naming the owner
      const second = runCli(["--yes", "--target", "aws"], { env });
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(
          `another run holds the stack's lock .*run\\.lock: pid ${pid} on ${hostname()} \\(user \\S+, since .*command: eks-runbook --yes --json --target aws\\)`,
        ),
      );
      // and so is a destroy
      const destroy = runCli(["destroy", "--yes-i-typed", "dev", "--target", "aws"], { env });
      expect(destroy.code).toBe(2);
      expect(destroy.stderr).toMatch(new RegExp(`pid ${pid}`));
      // and status says a run is live
      const status = runCli(["status"], { env });
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`a run is live: pid ${pid} on ${hostname()}`));

      // When the first run is killed outright (SIGKILL: it cannot release the lock)
      first.killGroup();
      await first.exited;
    } finally {
      first.killGroup();
    }
    expect(existsSync(lockFile)).toBe(true);
    // status names the dead owner; the next run on this host takes the lock over, saying so
    // (kill -9, then the same command, resumes)
    expect(runCli(["status"], { env }).stdout).toMatch(
      /stale run lock: .*the next run takes it over/,
    );
    rmSync(hold);
    const next = runCli(["--yes", "--target", "aws"], { env });
    expect(next.stdout + next.stderr).toMatch(
      /took over the run lock of pid \d+ .*is not running, so that run ended without releasing it/,
    );
    expect(next.stderr).not.toMatch(/another run holds/);
    expect(existsSync(lockFile)).toBe(false);
  });
});
