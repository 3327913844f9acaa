import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCommand } from "../../src/cli/load-command.js";

// The lean client's response framing on the wire, against servers that frame otherwise
// than nginx's `return`: Node's HTTP server (chunked bodies, 204, HEAD, Connection: close)
// and a bare TCP server whose bodies end with the connection. Every request must count as
// answered, and as many requests must reach the server as the client counted.

let http: Server;
let raw: NetServer;
let httpUrl = "";
let rawUrl = "";
const seen = { http: 0, raw: 0 };

beforeAll(async () => {
  http = createHttpServer((req, res) => {
    seen.http++;
    if (req.url === "/chunked") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first part, ");
      setImmediate(() => res.end("second part\n"));
    } else if (req.url === "/no-content") {
      res.writeHead(204).end();
    } else if (req.url === "/close") {
      res.writeHead(200, { connection: "close", "content-type": "text/plain" }).end("bye\n");
    } else {
      res.writeHead(500).end();
    }
  });
  raw = createNetServer((socket) => {
    socket.once("data", () => {
      seen.raw++;
      // no length, no chunking: the body ends when the connection does (RFC 9112 §6.3)
      socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the close\n");
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
  httpUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  rawUrl = `http://127.0.0.1:${(raw.address() as { port: number }).port}`;
});

afterAll(async () => {
  http?.closeAllConnections();
  await new Promise((r) => http?.close(r));
  await new Promise((r) => raw?.close(r));
});

async function load(args: string[]) {
  const lines: string[] = [];
  await loadCommand({ out: (l) => lines.push(l), setExitCode: () => undefined }).parseAsync(
    [...args, "--json"],
    { from: "user" },
  );
  return JSON.parse(lines.at(-1) ?? "{}") as {
    requests: { total: number; ok: number; failed: number };
    statusCodes: Record<string, number>;
    errors: Record<string, number>;
  };
}

describe("response framing on the wire", () => {
  it("chunked bodies, 204, the answer to HEAD and Connection: close are all complete answers", async () => {
    const cases: [string[], string][] = [
      [[`${httpUrl}/chunked`], "200"],
      [[`${httpUrl}/chunked`, "-m", "HEAD"], "200"],
      [[`${httpUrl}/no-content`], "204"],
      [[`${httpUrl}/close`], "200"],
    ];
    for (const [args, status] of cases) {
      const before = seen.http;
      const s = await load([...args, "-c", "4", "-n", "400"]);
      expect(s.requests, args.join(" ")).toEqual({ total: 400, ok: 400, failed: 0 });
      expect(s.statusCodes).toEqual({ [status]: 400 });
      expect(seen.http - before).toBe(400);
    }
  });

  it("a body that ends with the connection is complete when it closes", async () => {
    const before = seen.raw;
    const s = await load([`${rawUrl}/`, "-c", "2", "-n", "100"]);
    expect(s.requests).toEqual({ total: 100, ok: 100, failed: 0 });
    expect(s.errors).toEqual({});
    expect(seen.raw - before).toBe(100);
  });
});
