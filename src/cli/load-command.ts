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

A request fails when it gets a non-2xx status or a transport error: connect (no
connection), reset (connection closed before a full response), timeout (no complete
answer within --timeout), other.

Exit codes:
  0    every request succeeded
  1    at least one request failed (zero downtime not shown)
  2    bad input, or the URL's host:port could not be reached before starting
  130  interrupted (Ctrl-C / SIGTERM); the summary is still printed

Examples:
  $ eks-runbook load http://127.0.0.1:8080/echoserver --host apps.example.com
  $ eks-runbook load http://my-lb/echoserver --connections 100 --requests 50000
  $ eks-runbook load http://my-lb/ --rate 500 --duration 5m --json | tail -n 1`;

interface RawOptions {
  host?: string;
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
    .option("--connections <n>", "keep-alive connections, one request in flight on each", "50")
    .option("--rate <r>", "target requests per second over all connections (default: no limit)")
    .option("--duration <d>", `how long to send: 500ms, 30s, 5m, 1h (default ${DEFAULT_DURATION})`)
    .option("--requests <n>", "stop after exactly this many requests")
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
    });
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
