// One way of driving undici, for bench/load-variants.sh: sends N requests on C keep-alive
// connections (no pipelining), one in flight per connection, and prints
// "<variant> <req/s> <CPU µs per request>". Variants:
//   clients   one Client per connection, client.dispatch() with a reused handler object
//             (what src/probes/http/request-loop.ts does)
//   pool      one Pool of C connections, pool.dispatch() with a reused handler object
//   request   one Client per connection, await client.request() + body.dump()
//   milo      as clients, with undici's experimental Milo HTTP/1 parser
//   lean      the load worker's own client (src/traffic/request-loop.ts, from dist/): net
//             sockets and its own response framing, with its per-second counting and
//             latency histogram (work the undici variants above skip)
// Usage: node bench/load-variants.ts <variant> <url> [requests=200000] [connections=100]
import { Client, type Dispatcher, Pool } from "undici";

const [variant = "clients", url = "", nText = "200000", cText = "100"] = process.argv.slice(2);
const total = Number(nText);
const connections = Number(cText);
const target = new URL(url);
const opts: Dispatcher.DispatchOptions = { path: target.pathname, method: "GET", headers: null };
let issued = 0;
let done = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();

function finish(): void {
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rps = done / seconds;
  const usPerReq = (cpu.user + cpu.system) / done;
  process.stdout.write(`${variant} ${rps.toFixed(0)} ${usPerReq.toFixed(1)}\n`);
  process.exit(0);
}

function fail(err: unknown): never {
  process.stderr.write(`${variant}: ${String(err)}\n`);
  process.exit(1);
}

function dispatchLane(d: Dispatcher): void {
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart() {},
    onResponseData() {},
    onResponseEnd() {
      if (++done === total) finish();
      if (issued < total) {
        issued++;
        d.dispatch(opts, handler);
      }
    },
    onResponseError(_c, err) {
      fail(err);
    },
  };
  issued++;
  d.dispatch(opts, handler);
}

async function requestLane(c: Client): Promise<void> {
  while (issued < total) {
    issued++;
    const res = await c.request(opts);
    await res.body.dump();
    if (++done === total) finish();
  }
}

const origin = target.origin;
switch (variant) {
  case "clients":
    for (let i = 0; i < connections; i++) dispatchLane(new Client(origin));
    break;
  case "milo":
    for (let i = 0; i < connections; i++) dispatchLane(new Client(origin, { useMilo: true }));
    break;
  case "pool": {
    const pool = new Pool(origin, { connections });
    for (let i = 0; i < connections; i++) dispatchLane(pool);
    break;
  }
  case "request":
    for (let i = 0; i < connections; i++) void requestLane(new Client(origin)).catch(fail);
    break;
  case "lean": {
    const { RequestLoop } = (await import(
      new URL("../dist/traffic/request-loop.js", import.meta.url).href
    )) as typeof import("../src/traffic/request-loop.ts");
    const loop = new RequestLoop(
      { origin, path: target.pathname, connections, timeoutMs: 10_000, maxRequests: total },
      { onBucket: () => undefined },
    );
    loop.start();
    void loop.done.then((t) => {
      done = t.requests;
      finish();
    }, fail);
    break;
  }
  default:
    fail(`unknown variant ${variant}`);
}
