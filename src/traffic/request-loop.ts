import { Client, type Dispatcher } from "undici";
import { BucketRecorder, type WorkerBucket, type WorkerTotals } from "./bucket-recorder.js";
import { isConnectFailure, transportClassIndex } from "./error-kind.js";
import type { LoadWorkerConfig } from "./load-protocol.js";
import { TokenBucket } from "./token-bucket.js";

// The request loop that runs inside the load worker. One undici Client per connection
// (keep-alive, no pipelining) and one "lane" per client: a lane is also the dispatch
// handler of its own request, so the steady state allocates nothing of ours per request.
// A lane that finishes a request sends the next one from the completion callback, so there
// is no queue and no timer on the hot path. Without a rate this is a closed loop (each
// connection always has one request in flight); with a rate, lanes also need a token, and
// the schedule keeps running when connections hang: what no free lane could send is counted
// as "not sent" (dropped), never silently skipped.
//
// Strict client: no retries. Each lane knows whether its connection has already carried a
// response, so a failure on a reused keep-alive connection before any response byte is told
// apart from a reset on a fresh one (error-kind.ts, "keepalive-race").

/** Lanes whose connect failed rest until the next tick instead of spinning on errors. */
const TICK_MS = 100;

/** Code of the error a request gets when the sweep aborts it for its timeout. */
const SWEEP_TIMEOUT_CODE = "UND_ERR_HEADERS_TIMEOUT";

class Lane implements Dispatcher.DispatchHandler {
  readonly client: Client;
  private readonly loop: RequestLoop;
  start = 0;
  status = 0;
  busy = false;
  /** The socket is open (undici's connect/disconnect events). */
  connected = false;
  /** Responses completed on the current socket. */
  served = 0;
  /** The in-flight request was written on a socket that had already carried a response. */
  reused = false;
  /** Set while inside dispatch(): an error reported synchronously must not recurse. */
  dispatching = false;
  /** The in-flight request's controller once it is written (for the timeout sweep). */
  controller: Dispatcher.DispatchController | null = null;

  constructor(client: Client, loop: RequestLoop) {
    this.client = client;
    this.loop = loop;
    client.on("connect", () => {
      this.connected = true;
      this.served = 0;
    });
    client.on("disconnect", () => {
      this.connected = false;
      this.served = 0;
    });
  }

  /**
   * undici calls this as it writes the request on a socket (not at dispatch): the counters
   * then describe that socket, also when the previous answer closed the old one.
   */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.reused = this.connected && this.served > 0;
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.loop.completed(this);
  }

  onResponseError(_c: Dispatcher.DispatchController | null, err: Error): void {
    this.loop.failed(this, err);
  }
}

export interface RequestLoopHooks {
  /** Each one-second bucket as it closes. */
  onBucket(bucket: WorkerBucket): void;
}

export class RequestLoop {
  private readonly config: LoadWorkerConfig;
  private readonly hooks: RequestLoopHooks;
  private readonly opts: Dispatcher.DispatchOptions;
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
    this.opts = requestOptions(config);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    for (let i = 0; i < config.connections; i++) {
      const client = new Client(config.origin, {
        pipelining: 1,
        allowH2: false,
        connectTimeout: config.timeoutMs,
        headersTimeout: config.timeoutMs,
        bodyTimeout: config.timeoutMs,
        ...(config.insecure ? { connect: { rejectUnauthorized: false } } : {}),
      });
      this.lanes.push(new Lane(client, this));
    }
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

  completed(lane: Lane): void {
    const now = performance.now();
    this.inflight--;
    lane.busy = false;
    lane.controller = null;
    lane.served++;
    this.recorder.response(now, lane.status, now - lane.start);
    this.next(lane, now);
  }

  failed(lane: Lane, err: Error): void {
    const now = performance.now();
    this.inflight--;
    lane.busy = false;
    lane.controller = null;
    const cls = transportClassIndex(err, { reused: lane.reused, responseStarted: lane.status > 0 });
    this.recorder.transportError(now, cls);
    // Any transport failure leaves the socket unusable; undici reports "disconnect" only
    // after this callback, so the lane forgets the connection now: its next request goes
    // out on a fresh one and must not count as reused.
    lane.connected = false;
    lane.served = 0;
    if (this.stopping) {
      this.maybeFinish();
      return;
    }
    // Without a rate, a lane that could not connect rests until the next tick instead of
    // spinning; with a rate the schedule bounds it. Either way the next request is sent
    // after undici has finished with this error (its close and connect paths are not
    // re-entrant), never from inside its callback.
    if (lane.dispatching || (isConnectFailure(cls) && !this.bucket)) {
      this.parked.push(lane);
      return;
    }
    queueMicrotask(() => this.next(lane, performance.now()));
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
    lane.status = 0;
    lane.busy = true;
    lane.reused = false;
    lane.dispatching = true;
    lane.client.dispatch(this.opts, lane);
    lane.dispatching = false;
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
      if (lane.busy && lane.start <= limit && lane.controller && !lane.controller.aborted) {
        lane.controller.abort(
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
      for (const lane of this.lanes) void lane.client.destroy().catch(() => undefined);
      this.resolveDone(totals);
    } catch (err) {
      this.rejectDone(err);
    }
  }
}

/** The request every lane sends, built once: undici reuses it on every dispatch. */
function requestOptions(config: LoadWorkerConfig): Dispatcher.DispatchOptions {
  // Flat array: the cheapest header form for undici to process on every request.
  const headers: string[] = [];
  if (config.host) headers.push("host", config.host);
  for (const [name, value] of config.headers ?? []) headers.push(name, value);
  return {
    path: config.path,
    method: (config.method ?? "GET") as Dispatcher.HttpMethod,
    headers: headers.length > 0 ? headers : null,
    ...(config.body !== undefined ? { body: Buffer.from(config.body) } : {}),
  };
}
