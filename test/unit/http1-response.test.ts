import { describe, expect, it } from "vitest";
import { Http1ResponseParser, ResponseParseError } from "../../src/traffic/http1-response.js";
import { requestBytes } from "../../src/traffic/request-loop.js";

// The lean client's response framing, fed whole and split at every byte: where a response
// ends, its status, and whether its connection may carry the next request.

interface Outcome {
  status: number;
  keepAlive: boolean;
  /** Offset just past the response in the whole input, or -1 (needs more / the close). */
  end: number;
}

/** Feeds `text` in pieces cut at `cuts`, each piece through a fresh reused buffer. */
function parse(text: string, cuts: number[] = [], head = false): Outcome {
  const bytes = Buffer.from(text, "latin1");
  const p = new Http1ResponseParser();
  p.reset(head);
  const bounds = [0, ...cuts, bytes.length];
  // one buffer reused for every read, with stale bytes past the data, as net's onread gives
  const shared = Buffer.alloc(bytes.length + 64, "\r\n\r\nHTTP/1.1 999 stale\r\n\r\n");
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = bytes.subarray(bounds[i], bounds[i + 1]);
    piece.copy(shared, 0);
    const done = p.feed(shared, 0, piece.length);
    if (done >= 0) return { status: p.status, keepAlive: p.keepAlive, end: bounds[i]! + done };
  }
  return { status: p.status, keepAlive: p.keepAlive, end: p.closeCompletes() ? -2 : -1 };
}

/** The outcome is the same however the bytes are split (every single cut point). */
function parseEverySplit(text: string, head = false): Outcome {
  const whole = parse(text, [], head);
  for (let c = 1; c < text.length; c++)
    expect(parse(text, [c], head), `cut at ${c}`).toEqual(whole);
  // and byte by byte
  expect(
    parse(
      text,
      Array.from({ length: text.length - 1 }, (_, i) => i + 1),
      head,
    ),
  ).toEqual(whole);
  return whole;
}

const ok =
  "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

describe("Http1ResponseParser", () => {
  it("a Content-Length body ends the response; keep-alive by default in HTTP/1.1", () => {
    expect(parseEverySplit(ok)).toEqual({ status: 200, keepAlive: true, end: ok.length });
    // bytes after the response are not part of it
    expect(parse(`${ok}HTTP/1.1 200 OK\r\n`).end).toBe(ok.length);
  });

  it("a chunked body with extensions and trailers; Content-Length is ignored beside chunked", () => {
    const r =
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\ncontent-length: 99\r\n\r\n" +
      "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
    expect(parseEverySplit(r)).toEqual({ status: 503, keepAlive: true, end: r.length });
  });

  it("interim 1xx answers are skipped; the final status counts", () => {
    const r = `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${ok}`;
    expect(parseEverySplit(r)).toEqual({ status: 200, keepAlive: true, end: r.length });
  });

  it("no body for 204, 304 and the answer to HEAD, whatever Content-Length says", () => {
    const r204 = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
    expect(parseEverySplit(r204).end).toBe(r204.length);
    const r304 = "HTTP/1.1 304 Not Modified\r\n\r\n";
    expect(parseEverySplit(r304).end).toBe(r304.length);
    const head = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    expect(parseEverySplit(head, true)).toEqual({ status: 200, keepAlive: true, end: head.length });
  });

  it("Connection: close, HTTP/1.0 and a body without length all end the connection", () => {
    const close = "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n";
    expect(parseEverySplit(close)).toEqual({ status: 200, keepAlive: false, end: close.length });
    const http10 = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
    expect(parseEverySplit(http10).keepAlive).toBe(false);
    const http10ka = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok";
    expect(parseEverySplit(http10ka).keepAlive).toBe(true);
    // read until the close: the close completes it
    expect(parseEverySplit("HTTP/1.1 200 OK\r\n\r\nsome body")).toEqual({
      status: 200,
      keepAlive: false,
      end: -2,
    });
    expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxx").end).toBe(-2);
  });

  it("an incomplete response needs more bytes; `started` tells any byte arrived", () => {
    const p = new Http1ResponseParser();
    p.reset(false);
    expect(p.started).toBe(false);
    expect(p.feed(Buffer.from("HTTP/1.1 2"), 0, 10)).toBe(-1);
    expect(p.started).toBe(true);
    expect(p.closeCompletes()).toBe(false);
  });

  it("refuses what is not an HTTP/1.x response", () => {
    const bad = [
      "SSH-2.0-OpenSSH_9.6\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
    ];
    for (const text of bad) expect(() => parse(text), text).toThrow(ResponseParseError);
    const huge = `HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}`;
    expect(() => parse(huge, [30_000, 60_000])).toThrow(/larger than/);
  });
});

describe("requestBytes", () => {
  const base = {
    origin: "http://10.0.0.1:8080",
    path: "/healthz?x=1",
    connections: 1,
    timeoutMs: 1,
  };

  it("a GET: request line, the URL's host, a user agent, no length", () => {
    expect(requestBytes(base).toString("latin1")).toBe(
      "GET /healthz?x=1 HTTP/1.1\r\nhost: 10.0.0.1:8080\r\nuser-agent: eks-runbook-load\r\n\r\n",
    );
  });

  it("a POST with the given Host, headers (in order) and body, and its length", () => {
    const bytes = requestBytes({
      ...base,
      method: "POST",
      host: "apps.example.com",
      headers: [
        ["X-Probe", "yes"],
        ["User-Agent", "mine"],
      ],
      body: "héllo",
    });
    expect(bytes.toString("utf8")).toBe(
      "POST /healthz?x=1 HTTP/1.1\r\nhost: apps.example.com\r\nX-Probe: yes\r\nUser-Agent: mine\r\ncontent-length: 6\r\n\r\nhéllo",
    );
  });

  it("never sends a line break inside a header (request smuggling)", () => {
    expect(() => requestBytes({ ...base, headers: [["X", "a\r\nEvil: 1"]] })).toThrow(/line break/);
  });
});
