import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCommand } from "../../src/cli/load-command.js";
import { ExitCode } from "../../src/engine/errors.js";
import { createLoadGenerator } from "../../src/traffic/load-generator.js";
import { freePort, type NginxServer, startNginx } from "../helpers/nginx.js";

// The honest client against a real nginx on loopback: each failure is named by what the
// client saw (a keep-alive race, a reset, a refused port, a TLS failure, a 5xx), the
// request options reach the server, and a rate schedule keeps counting when connections
// hang. Every run is bounded by --requests or --duration.

let nginx: NginxServer;
let tlsPort: number;
let certDir: string;

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, made here with openssl.
  certDir = mkdtempSync(join(tmpdir(), "eks-runbook-cert-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(certDir, "key.pem"),
      "-out",
      join(certDir, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  tlsPort = await freePort();
  nginx = await startNginx({
    http: `
      map "$request_method:$http_x_probe:$content_length" $post_ok { "POST:yes:11" 1; default 0; }
      split_clients "\${request_id}" $close_or_drop { 50% drop; * answer; }
      server {
        listen 127.0.0.1:${tlsPort} ssl;
        ssl_certificate ${join(certDir, "cert.pem")};
        ssl_certificate_key ${join(certDir, "key.pem")};
        location / { default_type text/plain; return 200 "tls ok\\n"; }
      }`,
    server: `
      location = /ok { default_type text/plain; return 200 "ok\\n"; }
      # the first request on a connection is answered, the next one on the same
      # connection is closed without a byte: what a client sees when the server closes a
      # keep-alive connection as its request arrives
      location = /race {
        if ($connection_requests != 1) { return 444; }
        default_type text/plain;
        return 200 "ok\\n";
      }
      location = /reset { return 444; }
      # one request per connection: answered with "Connection: close", or closed unanswered
      location = /one-per-connection {
        keepalive_requests 1;
        if ($close_or_drop = drop) { return 444; }
        default_type text/plain;
        return 200 "ok\n";
      }
      location = /unavailable { return 503; }
      location = /post {
        if ($post_ok = 0) { return 400; }
        default_type text/plain;
        return 200 "posted\\n";
      }`,
  });
});

afterAll(async () => {
  await nginx?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

async function runLoad(args: string[]) {
  const lines: string[] = [];
  let exitCode: number | undefined;
  await loadCommand({
    out: (l) => lines.push(l),
    setExitCode: (c) => {
      exitCode = c;
    },
  }).parseAsync(args, { from: "user" });
  const summary = args.includes("--json") ? JSON.parse(lines.at(-1) ?? "{}") : undefined;
  return { lines, exitCode, summary };
}

describe("failure classes against nginx", () => {
  it("a close before any byte on a reused connection is a keep-alive race; on a fresh one a reset", async () => {
    const before = (await nginx.statusCounts())["444"] ?? 0;
    // Given one connection: 200, then 444 on the same connection, then a fresh connection…
    const race = await runLoad([`${nginx.url}/race`, "-c", "1", "-n", "10", "--json"]);
    // Then every other request is a keep-alive race, and nothing else failed
    expect(race.summary.requests).toEqual({ total: 10, ok: 5, failed: 5 });
    expect(race.summary.errors).toEqual({ "keepalive-race": 5 });
    expect(race.exitCode).toBe(ExitCode.failed);
    // And a close on every fresh connection is a reset, never a race
    const reset = await runLoad([`${nginx.url}/reset`, "-c", "2", "-n", "6", "--json"]);
    expect(reset.summary.errors).toEqual({ reset: 6 });
    const after = await nginx.waitForLogged(0);
    expect((after["444"] ?? 0) - before).toBe(11);
  });

  it("after an answer that closed the connection, the next request is on a fresh one: a reset, never a race", async () => {
    const before = (await nginx.statusCounts())["444"] ?? 0;
    const r = await runLoad([`${nginx.url}/one-per-connection`, "-c", "1", "-n", "200", "--json"]);
    const after = await nginx.waitForLogged(0);
    const dropped = (after["444"] ?? 0) - before;
    expect(dropped).toBeGreaterThan(20);
    expect(r.summary.errors).toEqual({ reset: dropped });
    expect(r.summary.requests.ok).toBe(200 - dropped);
  });

  it("a 5xx is counted by code in JSON and in the text summary's error distribution", async () => {
    const json = await runLoad([`${nginx.url}/unavailable`, "-c", "2", "-n", "40", "--json"]);
    expect(json.summary.errors).toEqual({ "http-503": 40 });
    expect(json.summary.statusCodes).toEqual({ "503": 40 });
    expect(json.summary.successPercent).toBe(0);
    const text = await runLoad([`${nginx.url}/unavailable`, "-c", "2", "-n", "40"]);
    expect(text.lines).toContain("  [503] 40 responses");
    expect(text.lines).toContain("  [40] http-503");
    expect(text.lines).toContain("success   0.00%");
    expect(text.exitCode).toBe(ExitCode.failed);
  });

  it("sends the method, headers and body given", async () => {
    const r = await runLoad([
      `${nginx.url}/post`,
      "-m",
      "post",
      "-H",
      "X-Probe: yes",
      "--body",
      '{"ping":1}\n',
      "-n",
      "20",
      "--json",
    ]);
    expect(r.summary.statusCodes).toEqual({ "200": 20 });
    expect(r.exitCode).toBe(ExitCode.ok);
  });

  it("a refused port under a rate keeps the schedule: failures at the rate, not per tick", async () => {
    // Given a port nothing listens on and a rate of 300/s on 3 connections for 1 s
    const port = await freePort();
    const gen = createLoadGenerator({ connections: 3, rate: 300, durationMs: 1000 });
    await gen.start({ url: `http://127.0.0.1:${port}/` }, new AbortController().signal);
    const s = await gen.finished();
    // Then about 300 requests were attempted and refused (a lane resting 100 ms after each
    // refusal would have managed 3 × 10 = 30)
    expect(s.errors).toEqual({ refused: s.requests.total });
    expect(s.requests.total).toBeGreaterThan(200);
    expect(s.requests.total).toBeLessThanOrEqual(300 + 30);
  });
});

describe("a rate schedule while connections hang", () => {
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    silent = createServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const addr = silent.address();
    silentPort = typeof addr === "object" && addr ? addr.port : 0;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  it("counts what it could not send instead of quietly sending less", async () => {
    // Given a server that never answers, 2 connections, 200 req/s for 1.5 s, 1 s timeout
    const { summary, exitCode } = await runLoad([
      `http://127.0.0.1:${silentPort}/`,
      "-c",
      "2",
      "--rate",
      "200",
      "-z",
      "1500ms",
      "--timeout",
      "1s",
      "--json",
    ]);
    // Then the two requests in flight time out, and the rest of the schedule is "not sent"
    expect(summary.errors.timeout).toBeGreaterThanOrEqual(2);
    expect(summary.requests.ok).toBe(0);
    expect(summary.notSent).toBeGreaterThan(200);
    expect(summary.notSent + summary.requests.total).toBeLessThanOrEqual(300 + 20);
    expect(summary.latencyMs.p50).toBeNull();
    expect(exitCode).toBe(ExitCode.failed);
  });
});

describe("HTTPS", () => {
  it("verifies the certificate by default: a self-signed one is a tls failure, not a crash", async () => {
    const r = await runLoad([`https://127.0.0.1:${tlsPort}/`, "-c", "2", "-n", "10", "--json"]);
    expect(r.summary.requests).toEqual({ total: 10, ok: 0, failed: 10 });
    expect(r.summary.errors).toEqual({ tls: 10 });
    expect(r.exitCode).toBe(ExitCode.failed);
  });

  it("--insecure accepts it", async () => {
    const r = await runLoad([
      `https://127.0.0.1:${tlsPort}/`,
      "-c",
      "2",
      "-n",
      "200",
      "--insecure",
      "--json",
    ]);
    expect(r.summary.requests).toEqual({ total: 200, ok: 200, failed: 0 });
    expect(r.summary.statusCodes).toEqual({ "200": 200 });
    expect(r.exitCode).toBe(ExitCode.ok);
  });

  it("HTTPS to a plain-HTTP port is a tls failure with a text breakdown", async () => {
    const r = await runLoad([`https://127.0.0.1:${nginx.port}/ok`, "-c", "1", "-n", "3"]);
    expect(r.lines.find((l) => l.startsWith("failed"))).toBe("failed    3  (tls×3)");
    expect(r.lines.some((l) => /^ {2}\[3\] tls: /.test(l))).toBe(true);
    expect(r.lines).toContain("latency   no answers");
    expect(r.exitCode).toBe(ExitCode.failed);
  });
});
