import "../quiet-warnings.js";
import { parentPort, workerData } from "node:worker_threads";
import type { FromWorker, LoadWorkerData, ToWorker } from "./load-protocol.js";
import { RequestLoop } from "./request-loop.js";

// Entry of a load worker thread: builds its clients, says "ready", starts on "go" (all the
// run's workers count seconds from the same instant), posts one bucket per second and its
// totals when done. The port is unref'd: the thread lives while the loop has sockets and
// timers, and exits by itself once the run is done.

const port = parentPort;
if (!port) throw new Error("load-worker.ts runs in a worker thread (see load-generator.ts)");
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

const data = workerData as LoadWorkerData;
const loop = new RequestLoop(
  data.config,
  {
    onBucket: (bucket) =>
      post({ type: "bucket", bucket }, [
        bucket.latency.indexes.buffer as ArrayBuffer,
        bucket.latency.counts.buffer as ArrayBuffer,
      ]),
  },
  data.issued ? new Int32Array(data.issued) : undefined,
);
let started = false;
port.on("message", (m: ToWorker) => {
  if (m.type === "go" && !started) {
    started = true;
    loop.start(m.epoch0);
  } else if (m.type === "stop") {
    loop.stop();
    if (!started) {
      started = true;
      loop.start();
    }
  }
});
loop.done.then(
  (totals) => {
    post({ type: "done", totals });
    port.unref();
  },
  (err: unknown) =>
    post({ type: "fatal", message: err instanceof Error ? err.message : String(err) }),
);
post({ type: "ready" });
