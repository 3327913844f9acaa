import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  gracePeriodSeconds,
  preStopOf,
  terminationPlan,
} from "../../src/sandbox/dataplane/pod-spec.js";
import {
  type Clock,
  runTermination,
  type TerminationTarget,
} from "../../src/sandbox/dataplane/termination.js";

/** A clock that only moves when told to; sleeps resolve in due order. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; resolve: () => void }[] = [];
  now() {
    return this.t;
  }
  sleep(ms: number, signal: AbortSignal) {
    return new Promise<void>((resolve, reject) => {
      const timer = { at: this.t + ms, resolve };
      this.timers.push(timer);
      signal.addEventListener("abort", () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(signal.reason);
      });
    });
  }
  async advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = due.at;
      this.timers = this.timers.filter((x) => x !== due);
      due.resolve();
    }
    this.t = end;
    await flush();
  }
}

async function flush() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A process that records what it was sent, with the clock time; exits when told to. */
function fakeProcess(clock: FakeClock, exitsOn: "graceful" | "never") {
  const log: string[] = [];
  let exit!: () => void;
  const exited = new Promise<void>((r) => {
    exit = r;
  });
  const target: TerminationTarget = {
    exited,
    gracefulStop: () => {
      log.push(`graceful@${clock.now()}`);
      if (exitsOn === "graceful") setTimeout(exit, 0);
    },
    kill: () => {
      log.push(`kill@${clock.now()}`);
      exit();
    },
  };
  return { target, log, exit };
}

function pod(over: {
  grace?: number;
  deletionGrace?: number;
  preStop?: NonNullable<NonNullable<V1Pod["spec"]>["containers"][number]["lifecycle"]>["preStop"];
}): V1Pod {
  return {
    metadata: {
      name: "nginx-1",
      labels: { app: "nginx-ing-cntlr" },
      deletionGracePeriodSeconds: over.deletionGrace,
    },
    spec: {
      terminationGracePeriodSeconds: over.grace,
      containers: [
        {
          name: "controller",
          ports: [{ name: "http", containerPort: 80 }],
          lifecycle: over.preStop ? { preStop: over.preStop } : undefined,
        },
      ],
    },
  };
}

describe("termination timings from the pod spec", () => {
  it("reads preStop sleeps in every form a manifest uses", () => {
    expect(
      preStopOf({ name: "c", lifecycle: { preStop: { sleep: { seconds: 7 } } } }),
    ).toMatchObject({
      seconds: 7,
      source: "sleep-action",
    });
    expect(
      preStopOf({ name: "c", lifecycle: { preStop: { exec: { command: ["sleep", "15"] } } } }),
    ).toMatchObject({ seconds: 15, source: "exec-sleep" });
    expect(
      preStopOf({
        name: "c",
        lifecycle: {
          preStop: { exec: { command: ["/bin/sh", "-c", "sleep 5 && nginx -s quit"] } },
        },
      }),
    ).toMatchObject({ seconds: 5 });
    expect(
      preStopOf({ name: "c", lifecycle: { preStop: { exec: { command: ["/wait-shutdown"] } } } }),
    ).toMatchObject({ seconds: 0, source: "unrecognised" });
    expect(preStopOf({ name: "c" })).toMatchObject({ seconds: 0, source: "none" });
  });

  it("takes the grace period given on delete over the pod's, and scales both", () => {
    expect(gracePeriodSeconds(pod({ grace: 60 }))).toBe(60);
    expect(gracePeriodSeconds(pod({ grace: 60, deletionGrace: 0 }))).toBe(0);
    expect(gracePeriodSeconds(pod({}))).toBe(30);
    const plan = terminationPlan(
      pod({ grace: 120, preStop: { exec: { command: ["sleep", "20"] } } }),
      "nginx",
      0.2,
    );
    expect(plan).toMatchObject({ preStopMs: 4_000, graceMs: 24_000 });
  });
});

describe("termination sequence", () => {
  it("waits the preStop, then stops gracefully; a process that exits is not killed", async () => {
    const clock = new FakeClock();
    const p = fakeProcess(clock, "graceful");
    const phases: string[] = [];
    const done = runTermination({ preStopMs: 3_000, graceMs: 10_000 }, p.target, clock, (ph) =>
      phases.push(`${ph}@${clock.now()}`),
    );
    await clock.advance(2_999);
    expect(p.log).toEqual([]);
    await clock.advance(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(await done).toBe("graceful");
    expect(p.log).toEqual(["graceful@3000"]);
    expect(phases).toEqual(["pre-stop@0", "stopping@3000"]);
  });

  it("kills at the end of the grace period, counted from the start (preStop included)", async () => {
    const clock = new FakeClock();
    const p = fakeProcess(clock, "never");
    const done = runTermination({ preStopMs: 3_000, graceMs: 10_000 }, p.target, clock);
    await clock.advance(9_999);
    expect(p.log).toEqual(["graceful@3000"]);
    await clock.advance(1);
    expect(await done).toBe("killed");
    expect(p.log).toEqual(["graceful@3000", "kill@10000"]);
  });

  it("a preStop longer than the grace period is cut: graceful stop then kill at the end", async () => {
    const clock = new FakeClock();
    const p = fakeProcess(clock, "never");
    const done = runTermination({ preStopMs: 50_000, graceMs: 6_000 }, p.target, clock);
    await clock.advance(6_000);
    expect(await done).toBe("killed");
    expect(p.log).toEqual(["graceful@6000", "kill@6000"]);
  });

  it("grace 0 kills at once, with no preStop and no graceful stop", async () => {
    const clock = new FakeClock();
    const p = fakeProcess(clock, "graceful");
    const done = runTermination({ preStopMs: 3_000, graceMs: 0 }, p.target, clock);
    expect(await done).toBe("killed");
    expect(p.log).toEqual(["kill@0"]);
  });

  it("a process that dies during preStop ends the sequence without signals", async () => {
    const clock = new FakeClock();
    const p = fakeProcess(clock, "never");
    const done = runTermination({ preStopMs: 3_000, graceMs: 10_000 }, p.target, clock);
    await clock.advance(1_000);
    p.exit();
    expect(await done).toBe("exited-during-pre-stop");
    expect(p.log).toEqual([]);
  });
});
