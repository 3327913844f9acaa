import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { sandboxDown } from "../../src/sandbox/sandbox.js";
import { CliProcess } from "../helpers/cli-process.js";
import { uniqueName } from "../helpers/sandbox.js";

// The rehearsal has teeth: with NGINX's preStop wait left out (a production mistake), the
// NGINX rollout of step 4 drops requests behind the sandbox's NLB model with its strict
// client, and the step fails on its traffic gate. The data-plane controls
// (dataplane-lb-controls.test.ts) cover the other mistakes; bench/rehearsal-mistakes.sh
// runs every mistake through the whole rehearsal.

const sandbox = uniqueName("mistake");
const home = mkdtempSync(join(tmpdir(), "ekr-mistake-"));

describe("a rehearsal playing a production mistake", () => {
  afterAll(async () => {
    await sandboxDown({ name: sandbox });
  });

  it("no preStop wait: step 4's rollout drops requests and its traffic gate fails the run", async () => {
    const config = join(home, "config.yaml");
    writeFileSync(
      config,
      "rehearsal:\n  mistake: no-prestop-wait\ngates:\n  windowSeconds: 3\n  timeoutSeconds: 120\n",
    );
    const p = new CliProcess(["--target", "local", "--json", "--yes", "--config", config], {
      EKS_RUNBOOK_HOME: home,
      EKS_RUNBOOK_SANDBOX: sandbox,
      CI: "true",
    });
    const { code } = await p.exited;
    const warned = p.events.find(
      (e) => e.type === "diagnostic" && /rehearsal\.mistake/.test(e.message),
    );
    expect(warned).toMatchObject({ severity: "warning" });
    const failed = p.events.find((e) => e.type === "step" && e.status === "failed") as Extract<
      EngineEvent,
      { type: "step" }
    >;
    expect(failed, JSON.stringify(p.events.slice(-5))).toMatchObject({ step: "migrate-nginx" });
    expect(failed.reason).toMatch(/traffic: .*requests failed since this step started/);
    const summary = p.events.at(-1) as Extract<EngineEvent, { type: "summary" }>;
    expect(summary).toMatchObject({ type: "summary", result: "failed", stepsDone: 3 });
    expect(summary.requests.failed).toBeGreaterThan(0);
    expect(code).toBe(1);
  });
});
