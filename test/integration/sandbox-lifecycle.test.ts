import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPortFree } from "../../src/sandbox/ports.js";
import { isAlive } from "../../src/sandbox/processes.js";
import {
  SandboxError,
  type SandboxInfo,
  type SandboxUpResult,
  sandboxDown,
  sandboxStatus,
  sandboxUp,
} from "../../src/sandbox/sandbox.js";
import { toolchain } from "../../src/sandbox/toolchain.js";
import { uniqueName, withHint } from "../helpers/sandbox.js";

// up (cold), up (reuse), a crashed component reported and restarted, down leaving no process
// and no port; everything on loopback; the agent started with its contract's arguments and
// stopped with SIGTERM.

const name = uniqueName("life");
let work: string;
let agentScript: string;
let agentMarker: string;
let cold: SandboxUpResult;

/** Listening TCP sockets: inode → "addr:port" (IPv4 and IPv6). */
function listeningSockets(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A") continue; // 0A = LISTEN
      const [addr, port] = f[1]!.split(":") as [string, string];
      const ip =
        addr.length === 8
          ? addr
              .match(/../g)!
              .reverse()
              .map((h) => Number.parseInt(h, 16))
              .join(".")
          : addr === "00000000000000000000000001000000"
            ? "::1"
            : addr === "00000000000000000000000000000000"
              ? "::"
              : addr;
      out.set(f[9]!, `${ip}:${Number.parseInt(port, 16)}`);
    }
  }
  return out;
}

/** Every address a process listens on. */
function listenAddresses(pid: number): string[] {
  const sockets = listeningSockets();
  const addrs: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = "";
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    const addr = m && sockets.get(m[1]!);
    if (addr) addrs.push(addr);
  }
  return addrs;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sandbox-life-"));
  agentMarker = join(work, "agent.json");
  agentScript = join(work, "fake-agent.mjs");
  // Stands in for dist/sandbox/agent-main.js: records its argv, runs until SIGTERM.
  writeFileSync(
    agentScript,
    `import { writeFileSync } from "node:fs";
const marker = ${JSON.stringify(agentMarker)};
writeFileSync(marker, JSON.stringify({ argv: process.argv.slice(2), node: process.version }));
process.on("SIGTERM", () => {
  writeFileSync(marker, JSON.stringify({ argv: process.argv.slice(2), node: process.version, terminated: true }));
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
`,
  );
});

afterAll(async () => {
  await sandboxDown({ name }).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

function running(info: SandboxInfo) {
  return info.components.filter((c) => c.status === "running").map((c) => c.name);
}

describe("sandbox lifecycle", () => {
  it("starts cold with every component on loopback and a private kubeconfig", async () => {
    const lines: string[] = [];
    cold = await sandboxUp({ name, agent: agentScript, onProgress: (l) => lines.push(l) }).catch(
      (err: unknown) => {
        throw withHint(err);
      },
    );
    console.log(`sandbox up (cold): ${cold.elapsedMs} ms`);
    expect(cold.reused).toBe(false);
    expect(cold.state).toBe("running");
    expect(running(cold).sort()).toEqual(
      [
        "agent",
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok-controller",
        "moto",
      ].sort(),
    );
    expect(lines.some((l) => l.includes("ready at https://127.0.0.1:"))).toBe(true);
    expect(cold.apiServerUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cold.kubernetesVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(statSync(cold.kubeconfigPath).mode & 0o777).toBe(0o600);
    expect(statSync(cold.stateDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(cold.logsDir)).toEqual(
      expect.arrayContaining(["kube-apiserver.log", "moto.log"]),
    );

    for (const c of cold.components) {
      const addrs = listenAddresses(c.pid!);
      for (const a of addrs) expect(a, `${c.name} listens on ${a}`).toMatch(/^127\.0\.0\.1:|^::1:/);
      if (c.port) expect(addrs).toContain(`127.0.0.1:${c.port}`);
    }
    const moto = await fetch(`${cold.motoEndpoint}/moto-api/data.json`);
    expect(moto.status).toBe(200);

    const agent = JSON.parse(readFileSync(agentMarker, "utf8")) as { argv: string[]; node: string };
    expect(agent.node).toMatch(/^v24\./);
    expect(agent.argv).toEqual([
      "--kubeconfig",
      cold.kubeconfigPath,
      "--moto-endpoint",
      cold.motoEndpoint,
      "--state-dir",
      cold.stateDir,
      "--cluster",
      name,
    ]);
  });

  it("reuses the running sandbox", async () => {
    const again = await sandboxUp({ name, agent: agentScript });
    console.log(`sandbox up (reuse): ${again.elapsedMs} ms`);
    expect(again.reused).toBe(true);
    expect(again.apiServerUrl).toBe(cold.apiServerUrl);
    for (const c of again.components) {
      expect(c.pid).toBe(cold.components.find((x) => x.name === c.name)?.pid);
    }
  });

  it("reports a crashed component with its log tail and restarts it on up", async () => {
    const scheduler = cold.components.find((c) => c.name === "kube-scheduler")!;
    process.kill(scheduler.pid!, "SIGKILL");
    // Killing is asynchronous: the status must see it once the process is gone.
    await expect.poll(() => isAlive(scheduler.pid), { timeout: 5_000 }).toBe(false);
    const st = await sandboxStatus({ name });
    expect(st.state).toBe("degraded");
    const crashed = st.components.find((c) => c.name === "kube-scheduler");
    expect(crashed?.status).toBe("crashed");
    expect(crashed?.logTail?.length).toBeGreaterThan(0);

    const restarted = await sandboxUp({ name, agent: agentScript });
    expect(restarted.reused).toBe(false);
    expect(restarted.state).toBe("running");
    expect(restarted.apiServerUrl).toBe(cold.apiServerUrl);
    cold = restarted;
  });

  it("down leaves no process, no listening port and no state", async () => {
    const pids = cold.components.map((c) => c.pid!);
    const ports = cold.components.flatMap((c) => (c.port ? [c.port] : []));
    const res = await sandboxDown({ name });
    console.log(`sandbox down: ${res.elapsedMs} ms`);
    expect(res.existed).toBe(true);
    expect(res.portsStillListening).toEqual([]);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    for (const port of ports) expect(await isPortFree(port)).toBe(true);
    expect(existsSync(cold.stateDir)).toBe(false);
    const agent = JSON.parse(readFileSync(agentMarker, "utf8")) as { terminated?: boolean };
    expect(agent.terminated).toBe(true);
    expect((await sandboxStatus({ name })).state).toBe("absent");
  });
});

describe("a component that crashes while starting", () => {
  it("fails up quickly with the component's log tail, and down cleans up", async () => {
    // Given: a kube-apiserver that reports the pinned version but dies on start.
    const tc = toolchain();
    const fake = join(work, "kube-apiserver");
    writeFileSync(
      fake,
      `#!/bin/sh
if [ "$1" = "--version" ]; then echo "Kubernetes v${tc.versions.kubernetes}"; exit 0; fi
echo "E0101 fake apiserver: injected start failure" >&2
exit 1
`,
      { mode: 0o755 },
    );
    const broken = { ...tc, bin: { ...tc.bin, kubeApiserver: fake } };
    const crashName = uniqueName("crash");
    const started = Date.now();
    try {
      // When: up starts it. Then: it fails naming the component and quoting its log.
      const err = await sandboxUp({ name: crashName, agent: false, toolchain: broken }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SandboxError);
      const message = (err as SandboxError).message;
      expect(message).toContain("kube-apiserver");
      expect(message).toContain("injected start failure");
      expect(
        (err as SandboxError).components.find((c) => c.name === "kube-apiserver")?.status,
      ).toBe("crashed");
      // kwokctl alone would wait a minute for an API server that is already gone.
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      const res = await sandboxDown({ name: crashName, toolchain: broken });
      expect(res.portsStillListening).toEqual([]);
    }
  });
});
