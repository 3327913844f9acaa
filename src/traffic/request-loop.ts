import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { BucketRecorder, type WorkerBucket, type WorkerTotals } from "./bucket-recorder.js";
import { isConnectFailure, transportClassIndex } from "./error-kind.js";
import { Http1ResponseParser } from "./http1-response.js";
import type { LoadWorkerConfig } from "./load-protocol.js";
import { TokenBucket } from "./token-bucket.js";

// The request loop that runs inside the load worker: a lean HTTP/1.1 keep-alive client over
// node:net/node:tls, one connection per "lane", one request in flight per connection. The
// request is one Buffer built once; a response is parsed where it lands (http1-response.ts,
// no header objects, the body skipped) and plain TCP reads go into one reusable buffer
// (net's `onread`), so the steady state allocates almost nothing per request. A lane that
// finishes a request sends the next one from the completion callback: no queue, no timer
// on the hot path. Without a rate this is a closed loop (each connection always has one
// request in flight); with a rate, lanes also need a token, and the schedule keeps running
// when connections hang: what no free lane could send is counted as "not sent" (dropped),
// never silently skipped.
//
// Why not undici: with undici's Client (pipelining 1, dispatch with a reused handler) a
// worker spent ~14 µs of JavaScript per request (request validation, the request head
// rebuilt as a string, llhttp callbacks building header buffers; wrk: ~1 µs), and `load`
// reached 0.69-0.86× wrk at 100 connections. This client spends ~3-4 µs (bench/load-vs-
// hey-wrk.sh, 5 rounds: median 1.08× wrk, 2.93× hey; CPU per request 10-12 µs, was 21-25).
//
// Strict client: no retries. Each lane knows whether its connection has already carried a
// response, so a failure on a reused keep-alive connection before any response byte is told
// apart from a reset on a fresh one (error-kind.ts, "keepalive-race").

/** Lanes whose connect failed rest until the next tick instead of spinning on errors. */
const TICK_MS = 100;

/** Code of the error a request gets when the sweep aborts it for its timeout. */
const SWEEP_TIMEOUT_CODE = "UND_ERR_HEADERS_TIMEOUT";
/** Code of a connection closed (by the peer, without an error) before a complete response. */
const CLOSED_CODE = "UND_ERR_SOCKET";
/** One read buffer for every plain-TCP connection of the worker: reads are parsed at once. */
const READ_BUFFER_BYTES = 64 * 1024;

class Lane {
  start = 0;
  busy = false;
  /** The connection, while it can carry requests (null: the next request connects). */
  socket: Socket | null = null;
  /** Responses completed on the current socket. */
  served = 0;
  /** The in-flight request was written on a socket that had already carried a response. */
  reused = false;
  readonly parser = new Http1ResponseParser();
}

interface Endpoint {
  tls: boolean;
  host: string;
  port: number;
  /** TLS: the name sent in SNI and checked against the certificate (never an IP in SNI). */
  servername?: string;
  insecure: boolean;
}

export interface RequestLoopHooks {
  /** Each one-second bucket as it closes. */
  onBucket(bucket: WorkerBucket): void;
}

export class RequestLoop {
  private readonly config: LoadWorkerConfig;
  private readonly hooks: RequestLoopHooks;
  private readonly request: Buffer;
  private readonly headRequest: boolean;
  private readonly endpoint: Endpoint;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly lanes: Lane[] = [];
  private readonly waiting: Lane[] = [];
  private readonly parked: Lane[] = [];
  private bucket: TokenBucket | undefined;
  private recorder!: BucketRecorder;
  private ticker: NodeJS.Timeout | undefined;
  private refill: NodeJS.Timeout | undefined;
  private deadline = Number.POSITIVE_INFINITY;
  private issued = 0;
  private inflight = 0;
  private stopping = false;
  private finished = false;
  private readonly shared: Int32Array | undefined;
  private resolveDone!: (t: WorkerTotals) => void;
  private rejectDone!: (e: unknown) => void;
  /** Settles once every request sent has completed after a stop or the end of the budget. */
  readonly done: Promise<WorkerTotals>;

  /**
   * `issued`: with `maxRequests`, the counter all workers of a run draw their requests from
   * (slot 0 of an Int32Array over shared memory), so the total is exact however fast each
   * worker goes.
   */
  constructor(config: LoadWorkerConfig, hooks: RequestLoopHooks, issued?: Int32Array) {
    this.config = config;
    this.hooks = hooks;
    this.shared = issued;
    this.request = requestBytes(config);
    this.headRequest = (config.method ?? "GET") === "HEAD";
    this.endpoint = endpointOf(config);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    for (let i = 0; i < config.connections; i++) this.lanes.push(new Lane());
  }

  /** Starts sending; seconds are counted from `epoch0` (epoch ms), common to all workers. */
  start(epoch0 = Date.now()): void {
    const now = performance.now();
    const t0 = now - (Date.now() - epoch0);
    this.recorder = new BucketRecorder(t0, (b) => this.hooks.onBucket(b));
    // The schedule starts now, not when the worker was built (no backlog of start-up time).
    if (this.config.rate) this.bucket = new TokenBucket(this.config.rate, now);
    if (this.config.durationMs !== undefined) this.deadline = t0 + this.config.durationMs;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    if (this.stopping) {
      this.maybeFinish();
      return;
    }
    for (const lane of this.lanes) {
      if (this.stopping) break;
      this.next(lane, now);
    }
  }

  /** Stops sending; in-flight requests complete (bounded by the per-request timeout). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.recorder) return; // stopped before start(): start() finishes at once
    clearTimeout(this.refill);
    this.refill = undefined;
    this.waiting.length = 0;
    this.parked.length = 0;
    this.maybeFinish();
  }

  private completed(lane: Lane): void {
    const now = performance.now();
    this.inflight--;
    lane.busy = false;
    this.recorder.response(now, lane.parser.status, now - lane.start);
    this.next(lane, now);
  }

  private failed(lane: Lane, err: Error): void {
    const now = performance.now();
    this.inflight--;
    lane.busy = false;
    const cls = transportClassIndex(err, {
      reused: lane.reused,
      responseStarted: lane.parser.started,
    });
    this.recorder.transportError(now, cls);
    // Any transport failure leaves the socket unusable: the next request goes out on a
    // fresh connection and does not count as reused.
    this.detach(lane);
    if (this.stopping) {
      this.maybeFinish();
      return;
    }
    // Without a rate, a lane that could not connect rests until the next tick instead of
    // spinning; with a rate the schedule bounds it.
    if (isConnectFailure(cls) && !this.bucket) {
      this.parked.push(lane);
      return;
    }
    this.next(lane, now);
  }

  /** Bytes arrived on `socket` (the lane's, unless it was already let go). */
  private onData(lane: Lane, socket: Socket, buf: Buffer, end: number): void {
    if (lane.socket !== socket) return;
    if (!lane.busy) {
      // bytes nobody asked for: the connection cannot be trusted with the next request
      this.detach(lane);
      return;
    }
    let done: number;
    try {
      done = lane.parser.feed(buf, 0, end);
    } catch (err) {
      this.failed(lane, err as Error);
      return;
    }
    if (done < 0) return;
    if (lane.parser.keepAlive && done === end) lane.served++;
    else this.detach(lane); // "Connection: close", or bytes past the response
    this.completed(lane);
  }

  /** The socket closed (`error`: what it reported first, if anything). */
  private onClose(lane: Lane, socket: Socket, error: Error | undefined): void {
    if (lane.socket !== socket) return;
    lane.socket = null;
    lane.served = 0;
    if (!lane.busy) return; // an idle keep-alive connection closed: the next one is fresh
    if (!error && lane.parser.closeCompletes()) {
      this.completed(lane);
      return;
    }
    this.failed(
      lane,
      error ??
        Object.assign(new Error("the connection closed before a complete response"), {
          code: CLOSED_CODE,
        }),
    );
  }

  /** Lets the lane's socket go (destroyed; its late events are ignored). */
  private detach(lane: Lane): void {
    const s = lane.socket;
    if (!s) return;
    lane.socket = null;
    lane.served = 0;
    s.destroy();
  }

  private connect(lane: Lane): Socket {
    const e = this.endpoint;
    let error: Error | undefined;
    let socket: Socket;
    if (e.tls) {
      socket = tlsConnect({
        host: e.host,
        port: e.port,
        ...(e.servername ? { servername: e.servername } : {}),
        rejectUnauthorized: !e.insecure,
        ALPNProtocols: ["http/1.1"],
      });
      socket.on("data", (chunk: Buffer) => this.onData(lane, socket, chunk, chunk.length));
    } else {
      socket = tcpConnect({
        host: e.host,
        port: e.port,
        onread: {
          buffer: this.readBuffer,
          callback: (n: number, buf: Uint8Array) => {
            this.onData(lane, socket, buf as Buffer, n);
            return true;
          },
        },
      });
    }
    socket.setNoDelay(true);
    socket.on("error", (err) => {
      error ??= err;
    });
    socket.on("close", () => this.onClose(lane, socket, error));
    return socket;
  }

  /** The lane is idle: send its next request if the budget, the deadline and the rate allow. */
  private next(lane: Lane, now: number): void {
    if (this.stopping) {
      this.maybeFinish();
      return;
    }
    if (now >= this.deadline) {
      this.stop();
      return;
    }
    if (this.bucket && !this.bucket.take(now)) {
      this.waiting.push(lane);
      this.armRefill(now);
      return;
    }
    const max = this.config.maxRequests;
    if (max !== undefined) {
      const n = this.shared ? Atomics.add(this.shared, 0, 1) : this.issued;
      if (n >= max) {
        this.stop();
        return;
      }
    }
    this.send(lane, now);
  }

  private send(lane: Lane, now: number): void {
    this.issued++;
    this.inflight++;
    lane.start = now;
    lane.busy = true;
    lane.parser.reset(this.headRequest);
    let socket = lane.socket;
    if (socket) {
      lane.reused = lane.served > 0;
    } else {
      socket = this.connect(lane);
      lane.socket = socket;
      lane.reused = false;
    }
    // On a connecting socket the write waits for the connection.
    socket.write(this.request);
  }

  /** One timer for all waiting lanes, set for when the next token is due. */
  private armRefill(now: number): void {
    if (this.refill || !this.bucket) return;
    const ms = Math.max(1, Math.ceil(this.bucket.msUntilNext(now)));
    this.refill = setTimeout(() => {
      this.refill = undefined;
      this.releaseWaiting();
    }, ms);
  }

  private releaseWaiting(): void {
    const now = performance.now();
    while (this.waiting.length > 0 && !this.stopping) {
      const lane = this.waiting.pop()!;
      // next() puts the lane back and re-arms the timer when there is no token yet.
      this.next(lane, now);
      if (this.waiting.at(-1) === lane) return;
    }
  }

  /**
   * Closes the seconds nothing completed in, enforces the deadline, wakes parked lanes and
   * times out requests. undici's own header/body timeouts run on a coarse (~1 s) clock;
   * this sweep keeps the per-request timeout within one tick without a timer per request.
   */
  private tick(): void {
    const now = performance.now();
    this.recorder.advance(now);
    if (this.bucket && !this.stopping) this.recorder.notSent(now, this.bucket.takeOverflow(now));
    const limit = now - this.config.timeoutMs;
    for (const lane of this.lanes) {
      if (lane.busy && lane.start <= limit) {
        this.failed(
          lane,
          Object.assign(new Error(`no complete response within ${this.config.timeoutMs} ms`), {
            code: SWEEP_TIMEOUT_CODE,
          }),
        );
      }
    }
    if (now >= this.deadline) {
      this.stop();
      return;
    }
    const parked = this.parked.splice(0);
    for (const lane of parked) this.next(lane, now);
  }

  private maybeFinish(): void {
    if (!this.stopping || this.finished || this.inflight > 0) return;
    this.finished = true;
    clearInterval(this.ticker);
    try {
      const totals = this.recorder.finish(performance.now());
      for (const lane of this.lanes) this.detach(lane);
      this.resolveDone(totals);
    } catch (err) {
      this.rejectDone(err);
    }
  }
}

/** The request every lane sends, as bytes, built once. */
export function requestBytes(config: LoadWorkerConfig): Buffer {
  const url = new URL(config.origin);
  const method = config.method ?? "GET";
  const host = config.host ?? url.host;
  const extra = config.headers ?? [];
  const body = config.body !== undefined ? Buffer.from(config.body) : undefined;
  for (const part of [config.path, host, method, ...extra.flat()]) {
    // Options are validated where they are read (load-options.ts, the config schema); a
    // line break here would be a second request smuggled into the first.
    if (/[\r\n\0]/.test(part)) throw new RangeError("a request line or header holds a line break");
  }
  const has = (name: string) => extra.some(([n]) => n.toLowerCase() === name);
  let head = `${method} ${config.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of extra) head += `${name}: ${value}\r\n`;
  if (!has("user-agent")) head += "user-agent: eks-runbook-load\r\n";
  // RFC 9110 §8.6: a body's length, and 0 for a method that usually carries one.
  if (!has("content-length") && (body || /^(POST|PUT|PATCH)$/.test(method))) {
    head += `content-length: ${body?.length ?? 0}\r\n`;
  }
  head += "\r\n";
  const bytes = Buffer.from(head, "latin1");
  return body ? Buffer.concat([bytes, body]) : bytes;
}

function endpointOf(config: LoadWorkerConfig): Endpoint {
  const url = new URL(config.origin);
  const tls = url.protocol === "https:";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const sniHost = config.host ? new URL(`http://${config.host}`).hostname : host;
  return {
    tls,
    host,
    port: url.port ? Number(url.port) : tls ? 443 : 80,
    ...(tls && isIP(sniHost) === 0 ? { servername: sniHost } : {}),
    insecure: config.insecure === true,
  };
}
