#!/usr/bin/env node
// Negative controls through the whole rehearsal: runs steps 1–4 (the NGINX rollout is where
// pods behind the load balancer stop) once with the derived shutdown timings and once per
// production mistake (config rehearsal.mistake), each on a fresh sandbox and state home, and
// prints requests, failures by class and the step that failed. A script, not a CI test: a
// run takes a few minutes (test/e2e/rehearsal-mistake.test.ts keeps one mistake in CI).
//
// Usage: npm run build && node bench/rehearsal-mistakes.mjs [mistake …]
//   (default: none + every mistake; "none" = the derived timings)
//   env KEEP_EVENTS=<dir>: keep each run's JSON events there (<mistake>.jsonl)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const root = new URL("..", import.meta.url).pathname;
const node = join(root, "node_modules", ".bin", "node");
const cli = join(root, "dist", "cli.js");
const ALL = [
  "none",
  "no-prestop-wait",
  "grace-shorter-than-deregistration-delay",
  "keepalive-outlives-deregistration-delay",
];
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL;

function run(args, env) {
  return new Promise((resolve) => {
    const child = spawn(node, [cli, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const events = [];
    createInterface({ input: child.stdout }).on("line", (l) => {
      try {
        events.push(JSON.parse(l));
      } catch {
        // not an event
      }
    });
    child.on("exit", (code) => resolve({ code, events }));
  });
}

const rows = [];
for (const mistake of wanted) {
  const home = mkdtempSync(join(tmpdir(), "ekr-mistakes-"));
  const sandbox = `mistakes-${process.pid}-${rows.length}`;
  const env = { EKS_RUNBOOK_HOME: home, EKS_RUNBOOK_SANDBOX: sandbox, CI: "true" };
  const config = join(home, "config.yaml");
  writeFileSync(
    config,
    `${mistake === "none" ? "" : `rehearsal:\n  mistake: ${mistake}\n`}gates:\n  windowSeconds: 3\n  timeoutSeconds: 120\n`,
  );
  const started = Date.now();
  const { code, events } = await run(
    ["--target", "local", "--json", "--yes", "--to-step", "4", "--config", config],
    env,
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  if (process.env.KEEP_EVENTS) {
    writeFileSync(
      join(process.env.KEEP_EVENTS, `${mistake}.jsonl`),
      events.map((e) => JSON.stringify(e)).join("\n"),
    );
  }
  const errors = {};
  for (const e of events) {
    if (e.type !== "traffic") continue;
    for (const [k, n] of Object.entries(e.errors ?? {})) errors[k] = (errors[k] ?? 0) + n;
  }
  const summary = events.findLast((e) => e.type === "summary");
  const failedStep = events.find((e) => e.type === "step" && e.status === "failed");
  rows.push({
    mistake,
    exit: code,
    result: summary?.result ?? "?",
    requests: summary?.requests.total ?? 0,
    failed: summary?.requests.failed ?? 0,
    errors: JSON.stringify(errors),
    failedStep: failedStep ? `${failedStep.step}: ${failedStep.reason ?? ""}` : "-",
    seconds,
  });
  console.error(JSON.stringify(rows.at(-1)));
  await run(["sandbox", "down"], env);
  rmSync(home, { recursive: true, force: true });
}

console.log("| mistake | exit | result | requests | failed | by class | failed step | wall s |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.mistake} | ${r.exit} | ${r.result} | ${r.requests} | ${r.failed} | ${r.errors} | ${r.failedStep} | ${r.seconds} |`,
  );
}
