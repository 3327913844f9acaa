import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensurePassphraseFile, findStackLocks } from "../../src/infra/stack-files.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "infra-stack-files-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("local stack files", () => {
  it("the passphrase is generated once, random, mode 0600, and reused", async () => {
    const f = join(dir, "passphrase");
    await ensurePassphraseFile(f);
    const first = await readFile(f, "utf8");
    expect(first.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(f)).mode & 0o777).toBe(0o600);
    await chmod(f, 0o644);
    await ensurePassphraseFile(f);
    expect(await readFile(f, "utf8")).toBe(first);
    expect((await stat(f)).mode & 0o777).toBe(0o600);
  });

  it("a lock whose process is gone is stale; one from another host is never stolen", async () => {
    const locks = join(dir, ".pulumi", "locks", "organization", "eks-runbook", "dev");
    await mkdir(locks, { recursive: true });
    // pid 2^22+1 is above Linux's pid_max default: no such process.
    await writeFile(
      join(locks, "a.json"),
      JSON.stringify({ pid: 4194305, hostname: hostname(), timestamp: "t1" }),
    );
    await writeFile(
      join(locks, "b.json"),
      JSON.stringify({ pid: 1, hostname: "elsewhere", timestamp: "t2" }),
    );
    const found = await findStackLocks(dir, "eks-runbook", "dev");
    expect(found.map((l) => [l.pid, l.live]).sort()).toEqual([
      [1, true],
      [4194305, false],
    ]);
    expect(await findStackLocks(dir, "eks-runbook", "other")).toEqual([]);
  });
});
