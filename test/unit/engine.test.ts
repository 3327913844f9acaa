import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import type { EngineEvent } from "../../src/engine/events.js";
import { Journal } from "../../src/engine/journal.js";
import type { MigrationSpec } from "../../src/infra/spec.js";
import { DEFAULT_CONFIG, initialSpec } from "../../src/migrations/eks-nodegroups/config.js";
import {
  ControlledProbe,
  type FakeCtx,
  FakeInfra,
  FakeTraffic,
  fakeSteps,
} from "../helpers/engine-fakes.js";

function setup(
  over: Partial<{
    yes: boolean;
    dryRun: boolean;
    overrideGates: string[];
    journalPath: string;
    toStep: number;
  }> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "engine-"));
  const journalPath = over.journalPath ?? join(dir, "journal.jsonl");
  const ctx: FakeCtx = { probes: {}, actionsRun: [] };
  const infra = new FakeInfra();
  const traffic = new FakeTraffic();
  const engine = new Engine({
    steps: fakeSteps(),
    ctx,
    infra,
    journal: new Journal<MigrationSpec>(journalPath),
    initialSpec: initialSpec(DEFAULT_CONFIG),
    stack: "t",
    target: "local",
    dryRun: over.dryRun ?? false,
    yes: over.yes ?? true,
    overrideGates: over.overrideGates ?? [],
    ...(over.toStep !== undefined ? { toStep: over.toStep } : {}),
    traffic,
  });
  const events: EngineEvent[] = [];
  engine.on((e) => events.push(e));
  const statuses = (step: string) =>
    events
      .filter((e) => e.type === "step" && e.step === step)
      .map((e) => (e as { status: string }).status);
  return { engine, ctx, infra, traffic, events, statuses, journalPath };
}

/** Waits until the engine emits an event matching `pred` (no fixed sleeps). */
function waitFor(
  events: EngineEvent[],
  engine: Engine<FakeCtx, MigrationSpec>,
  pred: (e: EngineEvent) => boolean,
): Promise<EngineEvent> {
  const hit = events.find(pred);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve) => {
    const off = engine.on((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

describe("engine", () => {
  it("runs every step through preview, confirmation, apply and gates, in order", async () => {
    // Given an unattended run with gates that hold
    const { engine, infra, statuses, events, ctx } = setup({ yes: true });
    // When it runs
    const r = await engine.run();
    // Then every step is done, in the documented order of states
    expect(r).toEqual({ result: "completed", stepsDone: 3, exitCode: 0 });
    expect(statuses("grow")).toEqual([
      "previewing",
      "awaiting-confirmation",
      "applying",
      "verifying",
      "done",
    ]);
    expect(infra.applied.map((s) => s.echoserver.replicas)).toEqual([4, 3]);
    expect(ctx.actionsRun).toEqual(["act"]);
    expect(events.at(-1)).toMatchObject({ type: "summary", result: "completed", stepsDone: 3 });
  });

  it("waits for the operator's confirmation and stops when told to", async () => {
    const { engine, events, infra, statuses } = setup({ yes: false });
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "grow");
    engine.decide("grow", "confirm");
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "act");
    engine.decide("act", "stop");
    const r = await run;
    expect(r.result).toBe("failed");
    expect(infra.applied).toHaveLength(1);
    expect(statuses("act").at(-1)).toBe("pending");
  });

  it("fails a step whose gate does not hold before its timeout, naming the reason", async () => {
    const { engine, ctx, events, statuses } = setup({ yes: true });
    ctx.probes.nodes = new ControlledProbe({
      ok: false,
      reason: "3/5 nodes Ready: ip-10-0-0-4 NotReady",
    });
    const r = await engine.run();
    expect(r).toMatchObject({ result: "failed", exitCode: 1 });
    expect(statuses("grow").at(-1)).toBe("failed");
    const failed = events.find((e) => e.type === "step" && e.status === "failed");
    expect(failed).toMatchObject({ reason: "nodes: 3/5 nodes Ready: ip-10-0-0-4 NotReady" });
  });

  it("a gate passes only after holding for its window, and a flap restarts the window", async () => {
    const { engine, ctx, events } = setup({ yes: false });
    ctx.probes.nodes = new ControlledProbe({ ok: false, reason: "0/1" });
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "grow");
    engine.decide("grow", "confirm");
    await waitFor(events, engine, (e) => e.type === "gate" && e.gate === "nodes");
    ctx.probes.nodes.set({ ok: true, reason: "1/1" });
    ctx.probes.nodes.set({ ok: false, reason: "flap" });
    ctx.probes.nodes.set({ ok: true, reason: "1/1 again" });
    const settled = (await waitFor(
      events,
      engine,
      (e) => e.type === "gate" && e.gate === "nodes" && e.settled,
    )) as { reason: string };
    expect(settled.reason).toBe("1/1 again");
    engine.abort();
    expect((await run).result).toBe("aborted");
  });

  it("retries the gates when asked, and continues once they pass", async () => {
    const { engine, ctx, events, infra } = setup({ yes: false });
    ctx.probes.nodes = new ControlledProbe({ ok: false, reason: "not yet" });
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "grow");
    engine.decide("grow", "confirm");
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.kind === "failure");
    ctx.probes.nodes.set({ ok: true, reason: "ready" });
    engine.decide("grow", "retry");
    await waitFor(
      events,
      engine,
      (e) => e.type === "step" && e.step === "grow" && e.status === "done",
    );
    expect(infra.applied).toHaveLength(1); // retry re-checks gates, it does not re-apply
    engine.abort();
    await run;
  });

  it("rolls a Pulumi step back by applying the previous spec", async () => {
    const { engine, ctx, events, infra, statuses } = setup({ yes: false });
    ctx.probes.nodes = new ControlledProbe({ ok: false, reason: "never" });
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "grow");
    engine.decide("grow", "confirm");
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.kind === "failure");
    engine.decide("grow", "rollback");
    const r = await run;
    expect(r.result).toBe("failed");
    expect(infra.applied.map((s) => s.echoserver.replicas)).toEqual([4, 3]);
    expect(statuses("grow").at(-1)).toBe("rolled-back");
  });

  it("rolls an action step back with its undo", async () => {
    const { engine, ctx, events } = setup({ yes: false });
    ctx.probes.drained = new ControlledProbe({ ok: false, reason: "2 pods left" });
    const run = engine.run();
    for (const step of ["grow", "act"]) {
      await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === step);
      engine.decide(step, "confirm");
    }
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.kind === "failure");
    engine.decide("act", "rollback");
    await run;
    expect(ctx.actionsRun).toEqual(["act", "undo"]);
  });

  it("continues past failed gates only with --override-gates, and journals the override", async () => {
    const { engine, ctx, journalPath } = setup({ yes: true, overrideGates: ["traffic"] });
    ctx.probes.traffic = new ControlledProbe({ ok: false, reason: "99.2% ok" });
    const r = await engine.run();
    expect(r.result).toBe("completed");
    const records = readFileSync(journalPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.filter((x) => x.type === "override")).toEqual([
      expect.objectContaining({ step: "shrink", gates: [{ gate: "traffic", reason: "99.2% ok" }] }),
    ]);
  });

  it("dry run previews every step, applies nothing and writes no journal", async () => {
    const { engine, infra, ctx, journalPath, events } = setup({ dryRun: true, yes: false });
    const r = await engine.run();
    expect(r).toMatchObject({ result: "dry-run", exitCode: 0 });
    expect(infra.applied).toEqual([]);
    expect(ctx.actionsRun).toEqual([]);
    expect(infra.previews.map((s) => s.echoserver.replicas)).toEqual([4, 3]);
    expect(events.filter((e) => e.type === "preview")).toHaveLength(3);
    expect(() => readFileSync(journalPath)).toThrow();
  });

  it("abort during an apply cancels it through the signal and leaves a resumable journal", async () => {
    const { engine, infra, events, journalPath } = setup({ yes: true });
    infra.blockApply = new Promise(() => undefined);
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "step" && e.status === "applying");
    engine.abort("Ctrl-C");
    expect(await run).toMatchObject({ result: "aborted", exitCode: 130 });
    const last = readFileSync(journalPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(last.at(-1)).toMatchObject({ type: "end", result: "aborted" });

    // When a new engine runs on the same journal, it recovers, then resumes at step 1
    const second = setup({ yes: true, journalPath });
    const r = await second.engine.run();
    expect(r.result).toBe("completed");
    expect(second.infra.recoveries).toBe(1);
    expect(second.events[0]).toMatchObject({ type: "run", resumeFrom: { step: "grow", index: 1 } });
  });

  it("resumes after the last finished step without repeating it, and re-arms in-process effects", async () => {
    const first = setup({ yes: false });
    const run = first.engine.run();
    await waitFor(first.events, first.engine, (e) => e.type === "awaiting" && e.step === "grow");
    first.engine.decide("grow", "confirm");
    await waitFor(first.events, first.engine, (e) => e.type === "awaiting" && e.step === "act");
    first.engine.abort();
    await run;

    const second = setup({ yes: true, journalPath: first.journalPath });
    const r = await second.engine.run();
    expect(r.result).toBe("completed");
    // grow was done: it is neither previewed nor applied again; the spec continues from it
    expect(second.infra.previews.map((s) => s.echoserver.replicas)).toEqual([3]);
    expect(second.statuses("grow")).toEqual([]);
    expect(second.events[0]).toMatchObject({ type: "run", resumeFrom: { step: "act", index: 2 } });
  });

  it("refuses a damaged journal and changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "engine-"));
    const journalPath = join(dir, "journal.jsonl");
    writeFileSync(journalPath, '{"type":"run"}\n{not json\n');
    const { engine, infra } = setup({ yes: true, journalPath });
    await expect(engine.run()).rejects.toThrow(/line 2 is not a journal record/);
    expect(infra.applied).toEqual([]);
    expect(readFileSync(journalPath, "utf8")).toBe('{"type":"run"}\n{not json\n');
  });

  it("re-emits traffic samples as traffic events", async () => {
    const { engine, traffic, events } = setup({ yes: false });
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting");
    traffic.emit({
      at: 0,
      requests: 10,
      ok: 9,
      failed: 1,
      errors: { "503": 1 },
      p50Ms: 1,
      p99Ms: 2,
    });
    expect(events.find((e) => e.type === "traffic")).toMatchObject({
      type: "traffic",
      requests: 10,
      failed: 1,
      at: "1970-01-01T00:00:00.000Z",
    });
    engine.abort();
    await run;
  });
});

describe("gates", () => {
  it("a terminal failure (rollout past its deadline) fails the step at once, not at the timeout", async () => {
    const { engine, ctx, statuses } = setup({ yes: true });
    ctx.probes.nodes = new ControlledProbe({
      ok: false,
      reason: "ProgressDeadlineExceeded: ReplicaSet has timed out",
      terminal: true,
    });
    const started = Date.now();
    const r = await engine.run();
    expect(r.result).toBe("failed");
    expect(statuses("grow").at(-1)).toBe("failed");
    expect(Date.now() - started).toBeLessThan(400); // the gate timeout is 500 ms
  });
});

describe("failures end in the same menu", () => {
  const replaceCluster = {
    op: "replace" as const,
    urn: "urn:pulumi:dev::p::eks:index:Cluster::cluster",
    type: "eks:index:Cluster",
    name: "cluster",
    diffs: [],
    replaceKeys: ["name"],
  };

  it("refuses a preview outside the step's intent before asking, naming the resource", async () => {
    // Given a step whose intent allows only updates, and a preview that replaces the cluster
    const { engine, infra, events, statuses } = setup({ yes: false });
    infra.previewExtra = [replaceCluster];
    const run = engine.run();
    // Then the step fails before confirmation, with the resource named
    const failed = (await waitFor(
      events,
      engine,
      (e) => e.type === "awaiting" && e.kind === "failure",
    )) as Extract<EngineEvent, { type: "awaiting" }>;
    expect(failed.reason).toMatch(/replace eks:index:Cluster cluster/);
    expect(failed.options).toEqual(["retry", "stop"]);
    expect(statuses("grow")).toEqual(["previewing", "failed"]);
    // When the operator fixes the program and retries, the step previews again and asks
    infra.previewExtra = [];
    engine.decide("grow", "retry");
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.kind === "confirm");
    engine.abort();
    await run;
    expect(infra.applied).toEqual([]);
  });

  it("with --yes, a refused preview stops the run unless `intent` was named", async () => {
    const stop = setup({ yes: true });
    stop.infra.previewExtra = [replaceCluster];
    expect((await stop.engine.run()).result).toBe("failed");
    expect(stop.infra.applied).toEqual([]);

    const over = setup({ yes: true, overrideGates: ["intent"] });
    over.infra.previewExtra = [replaceCluster];
    expect((await over.engine.run()).result).toBe("completed");
    const records = readFileSync(over.journalPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.filter((r) => r.type === "override").map((r) => r.gates[0].gate)).toEqual([
      "intent",
      "intent",
    ]);
  });

  it("a failed action is a step failure: retry runs it again, roll back runs its undo", async () => {
    // Given an action that fails once (a drain blocked by a PodDisruptionBudget)
    const { engine, ctx, events, statuses } = setup({ yes: false });
    const steps = (engine as unknown as { o: { steps: ReturnType<typeof fakeSteps> } }).o.steps;
    const act = steps[1]!.action!;
    let blocked = true;
    const run0 = act.run;
    act.run = async (c, spec, signal, progress) => {
      if (blocked) throw new Error("pod apps/a is blocked by PodDisruptionBudget apps/a-pdb");
      return run0(c, spec, signal, progress);
    };
    const run = engine.run();
    const confirm = (step: string) =>
      waitFor(
        events,
        engine,
        (e) => e.type === "awaiting" && e.step === step && e.kind === "confirm",
      ).then(() => engine.decide(step, "confirm"));
    await confirm("grow");
    await confirm("act");
    const failed = (await waitFor(
      events,
      engine,
      (e) => e.type === "awaiting" && e.kind === "failure",
    )) as Extract<EngineEvent, { type: "awaiting" }>;
    expect(failed.reason).toMatch(/PodDisruptionBudget apps\/a-pdb/);
    expect(failed.options).toEqual(["retry", "rollback", "stop"]);
    // When the PDB allows and the operator retries, the step previews, asks and completes
    blocked = false;
    engine.decide("act", "retry");
    await waitFor(
      events,
      engine,
      (e) =>
        e.type === "awaiting" &&
        e.step === "act" &&
        e.kind === "confirm" &&
        events.filter((x) => x.type === "awaiting" && x.step === "act").length === 3,
    );
    engine.decide("act", "confirm");
    await confirm("shrink");
    expect((await run).result).toBe("completed");
    expect(ctx.actionsRun).toEqual(["act"]);
    expect(statuses("act")).toContain("failed");
    expect(statuses("act").at(-1)).toBe("done");
  });

  it("rolls a failed action back with its undo", async () => {
    const { engine, ctx, events, statuses } = setup({ yes: false });
    const steps = (engine as unknown as { o: { steps: ReturnType<typeof fakeSteps> } }).o.steps;
    steps[1]!.action!.run = async () => {
      throw new Error("blocked");
    };
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "grow");
    engine.decide("grow", "confirm");
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "act");
    engine.decide("act", "confirm");
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.kind === "failure");
    engine.decide("act", "rollback");
    expect((await run).result).toBe("failed");
    expect(ctx.actionsRun).toEqual(["undo"]);
    expect(statuses("act").at(-1)).toBe("rolled-back");
  });

  it("with --yes, a gate that was not named with --override-gates stops the run", async () => {
    const { engine, ctx } = setup({ yes: true, overrideGates: ["nodes"] });
    ctx.probes.traffic = new ControlledProbe({ ok: false, reason: "99.2% ok" });
    expect((await engine.run()).result).toBe("failed");
  });

  it("asks a second, typed confirmation for a step that removes capacity", async () => {
    const { engine, events } = setup({ yes: false });
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting" && e.step === "grow");
    const grow = events.find((e) => e.type === "awaiting" && e.step === "grow");
    expect(grow).not.toHaveProperty("destructive");
    engine.decide("grow", "confirm");
    const act = (await waitFor(
      events,
      engine,
      (e) => e.type === "awaiting" && e.step === "act",
    )) as Extract<EngineEvent, { type: "awaiting" }>;
    expect(act.destructive).toEqual({
      reason: "this step removes capacity: would act",
      confirmWith: "2",
    });
    engine.abort();
    await run;
  });
});

describe("where a run starts", () => {
  it("a dry run after step 1 previews only what is left, from the applied state", async () => {
    // Given a journal in which step 1 is done
    const first = setup({ yes: true, toStep: 1 });
    expect(await first.engine.run()).toMatchObject({ result: "paused", stepsDone: 1, exitCode: 0 });
    const before = readFileSync(first.journalPath, "utf8");
    // When a dry run reads it
    const dry = setup({ dryRun: true, yes: false, journalPath: first.journalPath });
    await dry.engine.run();
    // Then it previews steps 2 and 3 only, the Pulumi one from the applied spec, and writes nothing
    expect(
      dry.events.filter((e) => e.type === "preview").map((e) => (e as { step: string }).step),
    ).toEqual(["act", "shrink"]);
    expect(dry.infra.previews.map((s) => s.echoserver.replicas)).toEqual([3]);
    expect(readFileSync(first.journalPath, "utf8")).toBe(before);
  });

  it("a dry run checks a later step's preview against the earlier unapplied steps' intents too", async () => {
    // Given: step 1 may only create the new group, step 3 may only delete the old one. A dry
    // run applies nothing, so step 3's preview also shows step 1's create.
    const dry = setup({ dryRun: true, yes: false });
    const steps = (dry.engine as unknown as { o: { steps: ReturnType<typeof fakeSteps> } }).o.steps;
    const change = (op: "create" | "delete", name: string) => ({
      op,
      urn: `urn:pulumi:dev::p::eks:index:NodeGroupV2::${name}`,
      type: "eks:index:NodeGroupV2",
      name,
      diffs: [],
      replaceKeys: [],
    });
    const only = (op: string, name: string) => ({
      summary: `${op}s group ${name}; updates nothing else`,
      allows: (r: { op: string; name: string }) =>
        r.op === "update" || (r.op === op && r.name === name),
    });
    steps[0]!.intent = only("create", "new");
    steps[2]!.intent = only("delete", "old");
    const preview = dry.infra.preview.bind(dry.infra);
    dry.infra.preview = async (spec) => {
      dry.infra.previewExtra =
        dry.infra.previews.length === 0
          ? [change("create", "new")]
          : [change("create", "new"), change("delete", "old")];
      return preview(spec);
    };
    // When it runs
    expect(await dry.engine.run()).toMatchObject({ result: "dry-run", exitCode: 0 });
    // Then step 3 is not reported as outside its intent, and says why its preview shows more
    const previews = dry.events.filter((e) => e.type === "preview") as Extract<
      EngineEvent,
      { type: "preview" }
    >[];
    expect(previews.map((p) => [p.step, p.intent?.violations.length])).toEqual([
      ["grow", 0],
      ["act", undefined],
      ["shrink", 0],
    ]);
    expect(previews[2]!.intent?.summary).toBe(
      'deletes group old; updates nothing else; in this dry run it also shows what "Grow" would change (not applied)',
    );
    const shrink = dry.events.filter(
      (e) => e.type === "step" && e.step === "shrink" && e.status === "pending",
    );
    expect(shrink.at(-1)).toMatchObject({ reason: "dry run: nothing applied" });

    // And a change no step names is still refused in the dry run, as a run would refuse it
    const typo = setup({ dryRun: true, yes: false });
    const typoSteps = (typo.engine as unknown as { o: { steps: ReturnType<typeof fakeSteps> } }).o
      .steps;
    typoSteps[0]!.intent = only("create", "new");
    typoSteps[2]!.intent = only("delete", "old");
    typo.infra.previewExtra = [change("delete", "cluster")];
    await typo.engine.run();
    const refused = typo.events.filter(
      (e) =>
        e.type === "step" &&
        e.step !== "act" &&
        e.status === "pending" &&
        e.reason?.startsWith("dry run:"),
    );
    expect(refused.map((e) => (e as { reason: string }).reason)).toEqual([
      expect.stringMatching(/delete eks:index:NodeGroupV2 cluster.*a run would refuse this step/),
      expect.stringMatching(/delete eks:index:NodeGroupV2 cluster.*a run would refuse this step/),
    ]);
  });

  it("continues from the stack's own state when this machine has no journal", async () => {
    // Given a stack whose recorded desired state is the one after step 1 (another machine ran it)
    const elsewhere = setup({ yes: true, toStep: 1 });
    await elsewhere.engine.run();
    const here = setup({ yes: true });
    here.infra.current = elsewhere.infra.current;
    // When this machine runs, with an empty journal
    const r = await here.engine.run();
    // Then it re-verifies step 1 (a no-op apply) and continues, never going back to the start
    expect(r.result).toBe("completed");
    expect(here.events[0]).toMatchObject({ type: "run", resumeFrom: { step: "grow", index: 1 } });
    expect(here.infra.applied.map((s) => s.echoserver.replicas)).toEqual([4, 3]);
    expect(here.infra.recoveries).toBe(1);
  });

  it("traffic events carry the timeline's totals and the current step's counts", async () => {
    const { engine, traffic, events } = setup({ yes: false });
    const run = engine.run();
    await waitFor(events, engine, (e) => e.type === "awaiting");
    traffic.emit({ at: 0, requests: 10, ok: 10, failed: 0, errors: {}, p50Ms: 1, p99Ms: 2 });
    expect(events.find((e) => e.type === "traffic")).toMatchObject({
      total: { requests: 100, ok: 100, failed: 0 },
      step: { id: "grow", requests: 100 },
    });
    engine.abort();
    await run;
  });
});
