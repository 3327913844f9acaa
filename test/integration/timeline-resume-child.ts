// A runbook process for the timeline resume test: the real load generator with its
// timeline kept on disk, sending to the given URL; it marks a step, lets a few seconds go
// by, marks the next, then SIGKILLs itself (a crash: no stop, no close, no flush).
import { createLoadGenerator } from "../../src/traffic/load-generator.js";
import { TimelineLog } from "../../src/traffic/timeline-log.js";

const { url, logPath } = JSON.parse(process.argv[2] ?? "{}") as { url: string; logPath: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const gen = createLoadGenerator({ connections: 2, rate: 200, log: new TimelineLog(logPath) });
let samples = 0;
gen.subscribe(() => samples++);
gen.mark("start-traffic");
await gen.start({ url }, new AbortController().signal);
while (samples < 2) await sleep(50);
gen.mark("drain-old-nodes");
while (samples < 3) await sleep(50);
process.kill(process.pid, "SIGKILL");
