import { availableParallelism } from "node:os";
import { Command } from "commander";
import { ExitCode, InputError } from "../engine/errors.js";
import { strictUsage } from "./options.js";

// `eks-runbook load <url>`: the tutorial's load-testing script as a command. A line (or a
// JSON object) per second while it runs, the summary at the end, also after Ctrl-C. The
// generator itself is imported inside the action, so `--help` stays fast.

export interface LoadCommandIo {
  /** One line of output (stdout), without the newline. */
  out(line: string): void;
  /** Stops the run like Ctrl-C; when absent, SIGINT and SIGTERM do. */
  signal?: AbortSignal;
  setExitCode(code: number): void;
}

const defaultIo: LoadCommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

const DEFAULT_DURATION = "30s";
const MAX_DEFAULT_THREADS = 4;

const HELP_AFTER = `
Stops after --duration (default ${DEFAULT_DURATION}; no time limit when only --requests is
given), after exactly --requests requests, or on Ctrl-C, whichever comes first. In-flight
requests are always drained and counted, and the summary is printed in every case.

A strict client: no retries, every failed request counted. A request fails when it gets a
non-2xx status (http-503, …) or a transport error, by class:
  refused         nothing listens on the port
  reset           a fresh connection broke before a complete answer
  keepalive-race  a reused keep-alive connection was closed before any answer byte
                  (browsers and Go's client retry this silently; this command does not)
  timeout         no complete answer within --timeout
  tls             the TLS handshake failed (untrusted certificate: see --insecure)
  unreachable     the host did not resolve or has no route
  other           anything else
With --rate, requests due while every connection is busy are counted as "not sent".

Exit codes:
  0    every request succeeded
  1    at least one request failed (zero downtime not shown)
  2    bad input, or the URL's host:port could not be reached before starting
  130  interrupted (Ctrl-C / SIGTERM); the summary is still printed

Examples:
  $ eks-runbook load http://127.0.0.1:8080/echoserver --host apps.example.com
  $ eks-runbook load http://my-lb/echoserver --connections 100 --requests 50000
  $ eks-runbook load http://my-lb/ --rate 500 --duration 5m --json | tail -n 1
  $ eks-runbook load https://127.0.0.1:8443/api -m POST -H "Content-Type: application/json" \
      --body '{"ping":1}' --insecure -n 1000`;

interface RawOptions {
  host?: string;
  header?: string[];
  method?: string;
  body?: string;
  insecure?: boolean;
  connections: string;
  rate?: string;
  duration?: string;
  requests?: string;
  timeout: string;
  threads?: string;
  json: boolean;
}

export function loadCommand(io: LoadCommandIo = defaultIo): Command {
  return strictUsage(new Command("load"))
    .description("send HTTP load to a URL and count every answer, second by second")
    .argument("<url>", "http(s) URL, path included, e.g. http://my-lb/echoserver")
    .option("--host <host>", "Host header (default: the URL's host)")
    .option(
      "-H, --header <header>",
      'extra request header "Name: value" (repeatable)',
      (v: string, all: string[] | undefined) => [...(all ?? []), v],
    )
    .option("-m, --method <method>", "request method", "GET")
    .option("--body <text>", "request body sent with every request (@file reads a file)")
    .option("--insecure", "HTTPS: accept any server certificate (self-signed, wrong name)")
    .option("-c, --connections <n>", "keep-alive connections, one request in flight on each", "50")
    .option("--rate <r>", "target requests per second over all connections (default: no limit)")
    .option(
      "-z, --duration <d>",
      `how long to send: 500ms, 30s, 5m, 1h (default ${DEFAULT_DURATION})`,
    )
    .option("-n, --requests <n>", "stop after exactly this many requests")
    .option("--timeout <d>", "per-request timeout", "2s")
    .option(
      "--threads <n>",
      `worker threads sharing the connections (default: cores, at most ${MAX_DEFAULT_THREADS})`,
    )
    .option("--json", "one JSON object per line: a traffic event per second, the summary last")
    .addHelpText("after", HELP_AFTER)
    .action(async (url: string, raw: RawOptions) => {
      io.setExitCode(await runLoad(url, raw, io));
    });
}

async function runLoad(urlText: string, raw: RawOptions, io: LoadCommandIo): Promise<number> {
  const o = await import("../traffic/load-options.js");
  const url = o.parseTargetUrl(urlText);
  const host = raw.host !== undefined ? o.parseHostHeader(raw.host) : undefined;
  const connections = o.parsePositiveInt(raw.connections, "--connections", o.MAX_CONNECTIONS);
  const rate = raw.rate !== undefined ? o.parsePositiveNumber(raw.rate, "--rate") : undefined;
  const requests =
    raw.requests !== undefined
      ? o.parsePositiveInt(raw.requests, "--requests", o.MAX_REQUESTS)
      : undefined;
  const durationText = raw.duration ?? (requests === undefined ? DEFAULT_DURATION : undefined);
  const durationMs =
    durationText !== undefined ? o.parseDuration(durationText, "--duration") : undefined;
  const timeoutMs = o.parseTimeout(raw.timeout);
  const threads =
    raw.threads !== undefined
      ? o.parsePositiveInt(raw.threads, "--threads", 64)
      : Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
  const json = raw.json === true;
  const headers = (raw.header ?? []).map((h) => o.parseHeader(h));
  const method = o.parseMethod(raw.method ?? "GET");
  const body = raw.body !== undefined ? o.readBody(raw.body) : undefined;
  const insecure = raw.insecure === true;

  const controller = new AbortController();
  const interrupt = () => controller.abort();
  if (io.signal) io.signal.addEventListener("abort", interrupt, { once: true });
  else {
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);
  }
  try {
    const { checkReachable } = await import("../traffic/reachability.js");
    const reach = await checkReachable(url, { timeoutMs, signal: controller.signal });
    if (controller.signal.aborted) return ExitCode.interrupted;
    if (!reach.ok) {
      throw new InputError(
        `cannot reach ${reach.reason}`,
        "Check the URL (scheme, host, port) and that the load balancer answers, e.g. with curl -v.",
      );
    }

    const { createLoadGenerator } = await import("../traffic/load-generator.js");
    const fmt = await import("../traffic/load-format.js");
    const gen = createLoadGenerator({
      connections,
      threads: Math.min(threads, connections),
      ...(rate !== undefined ? { rate } : {}),
      timeoutMs,
      ...(requests !== undefined ? { maxRequests: requests } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      method,
      ...(headers.length > 0 ? { headers } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(insecure ? { insecure } : {}),
    });
    if (!json) {
      const limit = [
        requests !== undefined ? `${requests.toLocaleString("en-US")} requests` : "",
        durationMs !== undefined ? `${durationMs / 1000}s` : "",
        rate !== undefined ? `${rate} req/s` : "",
      ].filter(Boolean);
      io.out(
        `${method} ${o.redactUrl(url.href)} · ${connections} connections · ${limit.join(" · ")}`,
      );
    }
    let firstAt: number | undefined;
    gen.subscribe((s) => {
      firstAt ??= s.at;
      if (json) io.out(JSON.stringify(fmt.sampleEvent(s)));
      else io.out(fmt.formatSampleLine(s, (s.at - firstAt + s.durationMs) / 1000));
    });
    if (controller.signal.aborted) return ExitCode.interrupted;
    await gen.start({ url: url.href, ...(host ? { host } : {}) }, controller.signal);
    const summary = await gen.finished();
    const interrupted = controller.signal.aborted;
    if (json) io.out(JSON.stringify(fmt.summaryEvent(summary)));
    else for (const line of fmt.formatSummaryLines(summary, interrupted)) io.out(line);
    if (interrupted) return ExitCode.interrupted;
    return summary.requests.failed > 0 ? ExitCode.failed : ExitCode.ok;
  } finally {
    if (io.signal) io.signal.removeEventListener("abort", interrupt);
    else {
      process.off("SIGINT", interrupt);
      process.off("SIGTERM", interrupt);
    }
  }
}
