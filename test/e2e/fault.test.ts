import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { sandboxDown, sandboxStatus } from "../../src/sandbox/sandbox.js";
import { CliProcess } from "../helpers/cli-process.js";
import { uniqueName } from "../helpers/sandbox.js";

// A fault the runbook must catch: every ingress nginx process of the data plane is killed
// while step 3 verifies. Requests fail, the traffic gate fails, and the run stops there.

const sandbox = uniqueName("fault");
const home = mkdtempSync(join(tmpdir(), "ekr-fault-"));

describe("fault injection", () => {
  afterAll(async () => {
    await sandboxDown({ name: sandbox });
  });

  it("killing the ingress nginx processes mid-step fails the traffic gate and the runbook refuses to continue", async () => {
    const config = join(home, "config.yaml");
    writeFileSync(config, "gates:\n  windowSeconds: 3\n  timeoutSeconds: 90\n");
    const p = new CliProcess(["--target", "local", "--json", "--yes", "--config", config], {
      EKS_RUNBOOK_HOME: home,
      EKS_RUNBOOK_SANDBOX: sandbox,
      CI: "true",
    });
    await p.step("create-new-group", "verifying");
    const info = await sandboxStatus({ name: sandbox });
    // Masters and their workers (a worker outlives a SIGKILLed master and keeps serving).
    const masters = execFileSync("pgrep", ["-f", `nginx: master process.*${info.stateDir}`], {
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .map(Number);
    expect(masters.length).toBeGreaterThan(0);
    for (const pid of masters) {
      execFileSync("pkill", ["-9", "-P", String(pid)]);
      process.kill(pid, "SIGKILL");
    }
    const { code } = await p.exited;
    expect(code).toBe(1);
    const failed = p.events.find((e) => e.type === "step" && e.status === "failed") as Extract<
      EngineEvent,
      { type: "step" }
    >;
    expect(failed).toMatchObject({ step: "create-new-group" });
    expect(failed.reason).toMatch(/traffic: .*requests failed since this step started/);
    expect(p.events.filter((e) => e.type === "step" && e.step === "migrate-nginx")).toEqual([]);
    expect(p.events.at(-1)).toMatchObject({ type: "summary", result: "failed", stepsDone: 2 });
  });
});
