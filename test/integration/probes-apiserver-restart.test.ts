import { readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeClients, kubeClientsFromFile } from "../../src/kube/clients.js";
import { nodesProbe } from "../../src/probes/nodes-probe.js";
import { apiNotReadyReason, readClusterCreds } from "../../src/sandbox/api-health.js";
import {
  componentLogFile,
  componentPid,
  componentPidFile,
} from "../../src/sandbox/kwok-cluster.js";
import { type SandboxLayout, sandboxLayout } from "../../src/sandbox/layout.js";
import { isAlive, processArgv, spawnDetached } from "../../src/sandbox/processes.js";
import { toolchain } from "../../src/sandbox/toolchain.js";
import { startTestSandbox, type TestSandbox } from "../helpers/sandbox.js";
import { createGroupNodes, ProbeRecorder } from "./probes-kit.js";

// The API server is killed (SIGKILL) under a running probe and started again with the very
// command line kwokctl's binary runtime used (read from /proc before the kill). The probe
// must say the API is unreachable, reconnect on its own and reach the right verdict.

let sb: TestSandbox;
let kube: KubeClients;
let layout: SandboxLayout;

interface ProcessImage {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

function imageOf(pid: number): ProcessImage {
  const argv = processArgv(pid);
  if (!argv) throw new Error(`process ${pid} is gone`);
  const env: NodeJS.ProcessEnv = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean)) {
    const i = kv.indexOf("=");
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { argv, cwd: readlinkSync(`/proc/${pid}/cwd`), env };
}

/** Waits (bounded) until /proc says the process is gone. There is no exit event for a process we did not spawn. */
async function untilGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function untilApiReady(timeoutMs: number): Promise<void> {
  const creds = readClusterCreds(layout.clusterDir);
  const deadline = Date.now() + timeoutMs;
  // The API server has no readiness push: poll /readyz (as the sandbox itself does).
  for (;;) {
    const reason = await apiNotReadyReason(sb.info.apiServerUrl, creds);
    if (!reason) return;
    if (Date.now() > deadline)
      throw new Error(`API server not ready after ${timeoutMs} ms: ${reason}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  sb = await startTestSandbox("restart");
  kube = kubeClientsFromFile(sb.info.kubeconfigPath);
  layout = sandboxLayout(toolchain(), sb.name);
  await createGroupNodes(sb.core, "g", { count: 2, instanceType: "c5.4xlarge" });
});

afterAll(async () => {
  await kube?.close();
  await sb?.stop();
});

describe("probe across an API server restart", () => {
  it("reports the outage, reconnects, and reaches the right verdict", async () => {
    const probe = new ProbeRecorder(nodesProbe(kube, { selector: { group: "g" }, count: 3 }));
    try {
      // Given a probe waiting for 3 nodes while 2 exist
      expect((await probe.until((r) => r.reason.startsWith("2/3"), 20_000)).ok).toBe(false);

      // When the API server is killed
      const pid = componentPid(layout, "kube-apiserver");
      if (pid === undefined) throw new Error("kube-apiserver of the test sandbox is not running");
      const image = imageOf(pid);
      process.kill(pid, "SIGKILL");
      await untilGone(pid, 10_000);

      // Then the probe says it cannot see the cluster (not an exception)
      const outage = await probe.until(
        (r) => r.reason.includes("cannot watch the cluster"),
        20_000,
        "outage",
      );
      expect(outage.ok).toBe(false);
      expect(outage.reason).toMatch(
        /^nodes of group g: cannot watch the cluster: API server unreachable \(.*(ECONNREFUSED|ECONNRESET|other side closed)/,
      );

      // When it comes back (same command line, new pid in kwokctl's pid file) and the third node appears
      spawnDetached({
        command: image.argv[0]!,
        args: image.argv.slice(1),
        cwd: image.cwd,
        env: image.env,
        logFile: componentLogFile(layout, "kube-apiserver"),
        pidFile: componentPidFile(layout, "kube-apiserver"),
      });
      await untilApiReady(60_000);
      const back = Date.now();
      await createGroupNodes(sb.core, "g", { count: 1, from: 3, instanceType: "c5.4xlarge" });

      // Then the probe recovers on its own and passes
      const pass = await probe.until((r) => r.ok, 30_000, "3/3 after restart");
      expect(pass.reason).toBe("3/3 nodes of group g Ready, kubelet 1.33 (control plane 1.33)");
      console.log(`probe passed ${Date.now() - back} ms after the API server was ready again`);
      // and never passed while it was blind
      const i = probe.results.indexOf(outage);
      expect(probe.results.slice(i, -1).every((r) => !r.ok)).toBe(true);
    } finally {
      await probe.stop();
    }
  });
});
