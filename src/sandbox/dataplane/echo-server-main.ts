import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The echoserver of one sandbox pod, as its own process: answers every request the way the
// tutorial's echoserver image (registry.k8s.io/echoserver:1.10) does — "Hostname: <pod>",
// the request line, every request header, the body — on the pod's loopback port. A Node
// server (not nginx `return 200`) because only code can list *all* headers received, which
// is what the echo is for; it is also fast enough (tens of thousands of small responses per
// second on one core) to never be the slowest hop behind nginx.
//
// Self-contained (node: imports only, erasable TypeScript) so the sandbox can run this file
// directly from src/ under Node's type stripping as well as the compiled dist/ copy.
//
// SIGTERM is the graceful stop: stop accepting, finish in-flight requests, answer them with
// `Connection: close`, exit when no connection is left (the data plane SIGKILLs at the end
// of the pod's grace period otherwise).

export interface EchoRequest {
  podName: string;
  containerPort: number;
  clientAddress: string;
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function formatEcho(r: EchoRequest): string {
  const q = r.url.indexOf("?");
  const path = q === -1 ? r.url : r.url.slice(0, q);
  const query = q === -1 ? "" : r.url.slice(q + 1);
  const hostHeader = typeof r.headers.host === "string" ? r.headers.host : "";
  const host = hostHeader.replace(/:\d+$/, "") || "localhost";
  const headerLines = Object.keys(r.headers)
    .sort()
    .map((k) => {
      const v = r.headers[k];
      return `\t${k}=${Array.isArray(v) ? v.join(", ") : (v ?? "")}`;
    });
  return [
    `Hostname: ${r.podName}`,
    "",
    "Pod Information:",
    "\t-no pod information available-",
    "",
    "Server values:",
    `\tserver_version=eks-runbook-echo (node ${process.version})`,
    "",
    "Request Information:",
    `\tclient_address=${r.clientAddress}`,
    `\tmethod=${r.method}`,
    `\treal path=${path}`,
    `\tquery=${query}`,
    `\trequest_version=${r.httpVersion}`,
    `\trequest_uri=http://${host}:${r.containerPort}${r.url}`,
    "",
    "Request Headers:",
    ...headerLines,
    "",
    "Request Body:",
    r.body === "" ? "\t-no body in request-" : r.body,
    "",
    "",
  ].join("\n");
}

export interface EchoServerOptions {
  host: string;
  port: number;
  podName: string;
  containerPort: number;
}

const MAX_BODY = 1 << 20;

export function startEchoServer(o: EchoServerOptions): Promise<{ close(): Promise<void> }> {
  let closing = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      const text = formatEcho({
        podName: o.podName,
        containerPort: o.containerPort,
        clientAddress: req.socket.remoteAddress ?? "",
        method: req.method ?? "GET",
        url: req.url ?? "/",
        httpVersion: req.httpVersion,
        headers: req.headers,
        body: chunks.length === 0 ? "" : Buffer.concat(chunks).toString("utf8"),
      });
      const headers: Record<string, string | number> = {
        "Content-Type": "text/plain",
        "Content-Length": Buffer.byteLength(text),
      };
      if (closing) headers.Connection = "close";
      res.writeHead(200, headers);
      res.end(text);
    });
  });
  // Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle connections
  // first and never sends a request on one this server is closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolveStart, reject) => {
    server.once("error", reject);
    server.listen({ host: o.host, port: o.port, backlog: 4096 }, () => {
      server.off("error", reject);
      resolveStart({
        close: () =>
          new Promise<void>((done) => {
            closing = true;
            server.close(() => done());
            server.closeIdleConnections();
            // Connections busy now become idle after their (Connection: close) response.
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            sweep.unref();
          }),
      });
    });
  });
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? undefined : argv[i + 1];
}

async function main(argv: string[]): Promise<void> {
  const port = Number(argValue(argv, "port"));
  const podName = argValue(argv, "pod-name") ?? "echoserver";
  const containerPort = Number(argValue(argv, "container-port") ?? "8080");
  const host = argValue(argv, "host") ?? "127.0.0.1";
  if (!Number.isInteger(port) || port <= 0) {
    process.stderr.write("usage: echo-server-main --port <n> --pod-name <name>\n");
    process.exit(2);
  }
  const srv = await startEchoServer({ host, port, podName, containerPort });
  process.stderr.write(`echoserver ${podName} listening on ${host}:${port}\n`);
  process.once("SIGTERM", () => {
    process.stderr.write("SIGTERM: graceful stop\n");
    void srv.close().then(() => process.exit(0));
  });
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && resolve(process.argv[1]) === self) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(
      `echoserver failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  });
}
