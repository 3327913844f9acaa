import type { WorkerBucket, WorkerTotals } from "./bucket-recorder.js";

// Messages between the load generator (parent thread) and its workers. Structured-cloned
// plain data; a bucket's latency slots are transferred, not copied. A worker posts one
// bucket per second, never one message per request.

export interface LoadWorkerConfig {
  /** scheme://host:port */
  origin: string;
  /** Path and query sent in the request line. */
  path: string;
  /** Host header; default: the URL's host. */
  host?: string;
  /** Request method (default GET). */
  method?: string;
  /** Extra request headers as [name, value] pairs, in order (repeats allowed). */
  headers?: [string, string][];
  /** Request body, sent as is with every request. */
  body?: string;
  /** HTTPS: accept any certificate (self-signed, wrong name). Default: verify. */
  insecure?: boolean;
  /** This worker's keep-alive connections, each with one request in flight at a time. */
  connections: number;
  /** This worker's share of the target rate (requests/s); absent: as fast as possible. */
  rate?: number;
  /** Per-request timeout: from sending to the complete response. */
  timeoutMs: number;
  /** Requests to send over all workers; they draw from `issued`, a shared counter. */
  maxRequests?: number;
  /** Stop sending this long after the start, then drain. */
  durationMs?: number;
}

export interface LoadWorkerData {
  config: LoadWorkerConfig;
  /** Int32Array over a SharedArrayBuffer: [requests issued by all workers]. */
  issued?: SharedArrayBuffer;
}

export type ToWorker =
  /** Start sending; `epoch0` is the common start all workers count seconds from. */
  { type: "go"; epoch0: number } | { type: "stop" };

export type FromWorker =
  | { type: "ready" }
  | { type: "bucket"; bucket: WorkerBucket }
  | { type: "done"; totals: WorkerTotals }
  | { type: "fatal"; message: string };
