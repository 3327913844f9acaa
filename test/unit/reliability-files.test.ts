import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode, InputError, userFsError } from "../../src/engine/errors.js";
import { Journal, type JournalRecord } from "../../src/engine/journal.js";
import { ensurePrivateDir } from "../../src/engine/private-dir.js";
import { inspectRunLock, RunLock } from "../../src/engine/run-lock.js";
import { escapeControl, excerpt, quoteValue } from "../../src/engine/safe-text.js";
import { ensurePassphraseFile } from "../../src/infra/stack-files.js";
import { MAX_INPUT_FILE_BYTES, readInputFile } from "../../src/input-file.js";
import { createLogger, LOG_LEVEL_ENV, logLevelFromEnv } from "../../src/log.js";
import { logFieldsOf } from "../../src/log-fields.js";
import { parseConfigYaml } from "../../src/migrations/eks-nodegroups/config.js";
import { localProcessEnv } from "../../src/sandbox/child-env.js";
import { writeIsolatingPulumi } from "../../src/sandbox/pulumi-command.js";

// Pure file-system behaviour of the reliability pieces (real files, real processes; no
// fakes): journal, run lock, private directories, bounded input files, the log, the
// child environment and the messages that echo input.

const tmp = () => mkdtempSync(join(tmpdir(), "rel-"));
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

describe("safe text", () => {
  it("escapes terminal control sequences and cuts long values", () => {
    expect(escapeControl("a\u001b[31mred\u0007\nnext")).toBe("a\\e[31mred\\u0007\nnext");
    expect(excerpt("x\ny")).toBe("x\\ny");
    expect(excerpt("a".repeat(100))).toMatch(/^a{40}… \(100 characters\)$/);
    expect(excerpt("load http://user:pw@lb.example/x")).toBe("load http://***@lb.example/x");
    expect(quoteValue(SECRET)).not.toContain("wJalr");
    expect(quoteValue("AKIAIOSFODNN7EXAMPLE")).toMatch(/not shown/);
    expect(quoteValue("three")).toBe('"three"');
  });

  it("maps operator-fixable OS errors to exit 2 naming the path", () => {
    const e = userFsError(Object.assign(new Error("x"), { code: "EROFS" }), "/s/dev", "journal");
    expect(e).toBeInstanceOf(InputError);
    expect(e?.exitCode).toBe(ExitCode.badInput);
    expect(e?.message).toBe("journal /s/dev is on a read-only file system (EROFS)");
    expect(userFsError(Object.assign(new Error("x"), { code: "EBADF" }), "/x")).toBeUndefined();
  });
});

describe("input files", () => {
  const opts = { what: "config file", flag: "--config", hint: "h" };
  const msg = (p: string) => {
    try {
      readInputFile(p, opts);
    } catch (e) {
      return (e as Error).message;
    }
    return "read";
  };
  it("refuses what is not a small regular file, without blocking", () => {
    const d = tmp();
    execFileSync("mkfifo", [join(d, "fifo")]);
    expect(msg(join(d, "fifo"))).toMatch(/it is a pipe \(FIFO\)/);
    expect(msg("/dev/zero")).toMatch(/it is a device/);
    expect(msg(d)).toMatch(/it is a directory/);
    writeFileSync(join(d, "big"), Buffer.alloc(MAX_INPUT_FILE_BYTES + 1, 0x61));
    expect(msg(join(d, "big"))).toMatch(/more than the 1048576 allowed/);
    writeFileSync(join(d, "bin"), Buffer.from([0x61, 0, 0x62]));
    expect(msg(join(d, "bin"))).toMatch(/binary/);
    expect(msg("")).toMatch(/--config "": the file name is empty/);
    writeFileSync(join(d, "ok"), "a: 1\n");
    expect(readInputFile(join(d, "ok"), opts)).toBe("a: 1\n");
  });

  it("finds a duplicate key among 40k keys, naming its line", () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: ${i}`);
    // yaml's own pairwise check took 31 s on this input; ours is one pass with a Set per
    // mapping (no timing asserted here: timings belong in benchmarks, not tests).
    expect(() => parseConfigYaml(`${keys.join("\n")}\nk7: again\n`, "f")).toThrow(
      /the key "k7" appears twice \(line 40001\)/,
    );
  });
});

describe("private directories", () => {
  it("creates 0700, tightens an own world-writable one with a warning, refuses a file", () => {
    const d = tmp();
    const dir = join(d, "state", "dev");
    ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o777);
    const warnings: string[] = [];
    ensurePrivateDir(dir, (w) => warnings.push(w));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(warnings.join("")).toMatch(/writable by others \(mode 777\); tightened it to 0700/);
    writeFileSync(join(d, "file"), "");
    expect(() => ensurePrivateDir(join(d, "file", "dev"))).toThrow(/ENOTDIR/);
  });
});

describe("journal", () => {
  const rec = (step: string): JournalRecord => ({
    type: "transition",
    at: "t",
    step,
    status: "done",
    spec: { n: 1 },
  });

  it("ignores a torn last line with a warning, then appends on a clean line", () => {
    const d = tmp();
    const path = join(d, "j", "journal.jsonl");
    const j = new Journal(path);
    j.append(rec("a"));
    j.close();
    writeFileSync(path, `${readFileSync(path, "utf8")}{"type":"transi`, { flag: "w" });
    const warned: string[] = [];
    const state = new Journal(path, { onWarning: (w) => warned.push(w) }).read();
    expect(state.status.get("a")).toBe("done");
    expect(state.warnings).toEqual([expect.stringMatching(/line 2 is an incomplete record/)]);
    expect(warned).toHaveLength(1);
    const again = new Journal(path);
    again.append(rec("b"));
    again.close();
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.filter(Boolean).map((l) => (JSON.parse(l) as { step: string }).step)).toEqual([
      "a",
      "b",
    ]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, "j")).mode & 0o777).toBe(0o700);
  });

  it("validates every record, naming the line and field", () => {
    const d = tmp();
    const path = join(d, "journal.jsonl");
    writeFileSync(
      path,
      `${JSON.stringify(rec("a"))}\n{"type":"transition","at":"x","step":"b","status":"done","spec":"garbage"}\n`,
    );
    expect(() => new Journal(path).read()).toThrow(/line 2 is not a journal record \(field "spec"/);
    writeFileSync(path, '{"type":"transition","step":"b","status":"finished"}\n');
    expect(() => new Journal(path).read()).toThrow(/line 1 .*field "status"/);
    writeFileSync(path, '{"type":"nonsense"}\n');
    expect(() => new Journal(path).read()).toThrow(/line 1 .*not a known record type/);
  });

  it("refuses a symlinked journal (read and append)", () => {
    const d = tmp();
    writeFileSync(join(d, "elsewhere"), `${JSON.stringify(rec("a"))}\n`);
    symlinkSync(join(d, "elsewhere"), join(d, "journal.jsonl"));
    const j = new Journal(join(d, "journal.jsonl"));
    expect(() => j.read()).toThrow(/symbolic link/);
    expect(() => j.append(rec("b"))).toThrow(InputError);
  });
});

describe("run lock", () => {
  it("refuses a second owner naming the first; a dead owner is stale until broken", async () => {
    const d = tmp();
    const file = join(d, "dev", "run.lock");
    const first = RunLock.acquire(file, { command: "eks-runbook run --yes", user: "ann" });
    expect(() => RunLock.acquire(file, { command: "x", user: "bob" })).toThrow(
      new RegExp(`another run holds the stack's lock .*pid ${process.pid} on ${hostname()}`),
    );
    first.release();
    expect(existsSync(file)).toBe(false);

    // A lock left by a process that is gone (SIGKILL: no chance to release it).
    const child = spawn("sleep", ["30"]);
    const pid = child.pid!;
    mkdirSync(join(d, "dev"), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({ pid, host: hostname(), user: "ann", startedAt: "t", command: "c" }),
    );
    expect(inspectRunLock(file).state).toBe("live");
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(inspectRunLock(file)).toMatchObject({ state: "stale" });
    // Provably abandoned on this host: taken over, with a warning naming the dead owner.
    const warned: string[] = [];
    const taken = RunLock.acquire(file, { command: "x", user: "bob", warn: (w) => warned.push(w) });
    expect(warned.join("")).toMatch(
      new RegExp(`took over the run lock of pid ${pid} .*user ann.*pid ${pid} is not running`),
    );
    expect(inspectRunLock(file)).toMatchObject({ state: "live", owner: { user: "bob" } });
    taken.release();

    // A lock from another host cannot be checked: refused unless --break-lock.
    writeFileSync(
      file,
      JSON.stringify({ pid, host: `not-${hostname()}`, user: "ann", startedAt: "t", command: "c" }),
    );
    const refused = (() => {
      try {
        RunLock.acquire(file, { command: "x", user: "bob" });
      } catch (e) {
        return e as InputError;
      }
    })();
    expect(refused?.message).toMatch(/is held from another host: pid \d+ on not-/);
    expect(refused?.hint).toMatch(/pass --break-lock/);
    const broken = RunLock.acquire(file, {
      command: "x",
      user: "bob",
      breakLock: true,
      warn: (w) => warned.push(w),
    });
    expect(warned.join("")).toMatch(new RegExp(`broke the run lock of pid ${pid}`));
    broken.release();
  });
});

describe("log", () => {
  it("refuses a bad level naming the variable", () => {
    expect(() => logLevelFromEnv({ [LOG_LEVEL_ENV]: "bogus" })).toThrow(
      /EKS_RUNBOOK_LOG_LEVEL: must be one of/,
    );
    expect(logLevelFromEnv({})).toBe("info");
  });

  it("a log that cannot be written is one warning, and the process goes on", () => {
    const d = tmp();
    mkdirSync(join(d, "run.log"));
    const warned: string[] = [];
    const logger = createLogger(join(d, "run.log"), { warn: (w) => warned.push(w), level: "info" });
    logger.info("one");
    logger.info("two");
    logger.flush();
    expect(warned).toEqual([expect.stringMatching(/run\.log cannot be written \(EISDIR\)/)]);
  });

  it("logs only allow-listed event fields: no diff values, no secrets", () => {
    const d = tmp();
    const file = join(d, "run.log");
    const logger = createLogger(file, { level: "info" });
    const e = {
      type: "preview" as const,
      step: "provision",
      changes: { create: 1, update: 0, replace: 0, delete: 0 },
      resources: [
        {
          op: "create",
          urn: "urn",
          type: "t",
          name: "kubeconfig",
          diffs: [{ path: "kubeconfig", old: "", new: `token: ${SECRET}` }],
        },
      ],
    };
    logger.info({ event: logFieldsOf(e as never) }, e.type);
    logger.info(
      {
        event: logFieldsOf({
          type: "diagnostic",
          severity: "error",
          message: `failed: http://admin:hunter2@127.0.0.1/ key ${SECRET}`,
          at: "t",
        }),
      },
      "diagnostic",
    );
    const text = readFileSync(file, "utf8");
    expect(text).toContain('"resources":1');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("hunter2");
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe("local processes' environment", () => {
  it("keeps paths and locale, drops credentials", () => {
    const env = localProcessEnv(
      { KWOK_RUNTIME: "binary" },
      {
        PATH: "/bin",
        HOME: "/h",
        LC_ALL: "C",
        EKS_RUNBOOK_HOME: "/s",
        AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY: SECRET,
        PULUMI_ACCESS_TOKEN: "pul-x",
        GITHUB_TOKEN: "ghp_x",
      },
    );
    expect(env).toEqual({
      PATH: "/bin",
      HOME: "/h",
      LC_ALL: "C",
      EKS_RUNBOOK_HOME: "/s",
      KWOK_RUNTIME: "binary",
    });
  });

  it("the local Pulumi CLI runs with only the named variables, whatever the parent has", async () => {
    const d = tmp();
    // Stands in for the real CLI binary: prints the environment it was given.
    const real = join(d, "real-pulumi");
    writeFileSync(real, "#!/bin/sh\n/usr/bin/env\n", { mode: 0o700 });
    const root = await writeIsolatingPulumi(join(d, "cli"), real, ["PATH", "PULUMI_HOME"]);
    const out = execFileSync(join(root, "bin", "pulumi"), ["version"], {
      env: {
        PATH: "/usr/bin:/bin",
        PULUMI_HOME: "/ph",
        AWS_SECRET_ACCESS_KEY: SECRET,
        PULUMI_ACCESS_TOKEN: "pul-0123",
        PULUMI_AUTOMATION_API: "true",
      },
      encoding: "utf8",
    });
    const names = out
      .trim()
      .split("\n")
      .map((l) => l.split("=")[0])
      // PWD is the stand-in shell script's own, not inherited.
      .filter((n) => n !== "PWD")
      .sort();
    expect(names).toEqual(["PATH", "PULUMI_AUTOMATION_API", "PULUMI_HOME"]);
    expect(out).not.toContain(SECRET);
  });
});

describe("the local backend's passphrase file", () => {
  it("is created 0600, tightened when looser, and never written through a symlink", async () => {
    const d = tmp();
    const file = join(d, "passphrase");
    await ensurePassphraseFile(file);
    const first = readFileSync(file, "utf8");
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o644);
    await ensurePassphraseFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(first);
    const link = join(d, "linked");
    symlinkSync(join(d, "target"), link);
    await expect(ensurePassphraseFile(link)).rejects.toMatchObject({ code: "ELOOP" });
    expect(existsSync(join(d, "target"))).toBe(false);
    writeFileSync(join(d, "target"), "x");
    await expect(ensurePassphraseFile(link)).rejects.toMatchObject({ code: "ELOOP" });
  });
});
