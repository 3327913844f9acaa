// A runbook process for the crash/resume test: the real Engine and Journal, the fake
// steps of the engine unit tests, and an infra whose state and side effects live in files
// so they survive the process. With `crashAfter` it SIGKILLs itself right after writing
// that many journal records: a crash at exactly that transition. With `tornAt` it dies in
// the middle of writing record number `tornAt`: half the line is on disk, no newline, as a
// crash inside write(2) leaves it.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { Engine } from "../../src/engine/engine.js";
import { Journal, type JournalRecord } from "../../src/engine/journal.js";
import type { MigrationSpec } from "../../src/infra/spec.js";
import { DEFAULT_CONFIG, initialSpec } from "../../src/migrations/eks-nodegroups/config.js";
import { type FakeCtx, FakeInfra, FakeTraffic, fakeSteps } from "../helpers/engine-fakes.js";

const { dir, crashAfter, tornAt } = JSON.parse(process.argv[2] ?? "{}") as {
  dir: string;
  crashAfter?: number;
  tornAt?: number;
};
const effects = `${dir}/effects.log`;
const stateFile = `${dir}/infra.json`;

class FileInfra extends FakeInfra {
  override async apply(spec: MigrationSpec, opts: Parameters<FakeInfra["apply"]>[1]) {
    const r = await super.apply(spec, opts);
    writeFileSync(stateFile, JSON.stringify(spec));
    appendFileSync(effects, `apply ${spec.echoserver.replicas}\n`);
    return r;
  }
}

class CrashingJournal extends Journal<MigrationSpec> {
  private n = 0;
  override append(rec: JournalRecord<MigrationSpec>): void {
    if (tornAt !== undefined && this.n + 1 === tornAt) {
      const line = `${JSON.stringify(rec)}\n`;
      appendFileSync(this.path, line.slice(0, Math.ceil(line.length / 2)));
      process.kill(process.pid, "SIGKILL");
    }
    super.append(rec);
    this.n++;
    if (crashAfter !== undefined && this.n === crashAfter) process.kill(process.pid, "SIGKILL");
  }
}

const infra = new FileInfra();
if (existsSync(stateFile))
  infra.current = JSON.parse(readFileSync(stateFile, "utf8")) as MigrationSpec;
const ctx: FakeCtx = { probes: {}, actionsRun: [] };
const steps = fakeSteps();
const act = steps[1]!.action!;
const run = act.run;
act.run = async (c, spec, signal, progress) => {
  appendFileSync(effects, "action act\n");
  return run(c, spec, signal, progress);
};

const engine = new Engine({
  steps,
  ctx,
  infra,
  journal: new CrashingJournal(`${dir}/journal.jsonl`, {
    onWarning: (w) => process.stderr.write(w),
  }),
  initialSpec: initialSpec(DEFAULT_CONFIG),
  stack: "crash",
  target: "local",
  dryRun: false,
  yes: true,
  overrideGates: [],
  traffic: new FakeTraffic(),
});
const result = await engine.run();
process.exit(result.exitCode);
