import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

// The real binary, no terminal: bad input is refused with exit 2, a message naming the
// field, and nothing created.

function home() {
  const dir = mkdtempSync(join(tmpdir(), "ekr-home-"));
  return { dir, env: { EKS_RUNBOOK_HOME: join(dir, "state"), CI: "true" } };
}

describe("eks-runbook CLI (no cluster needed)", () => {
  it("--help lists the commands and examples", () => {
    const r = runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const word of [
      "run",
      "status",
      "report",
      "destroy",
      "sandbox",
      "load",
      "Examples:",
      "--target local --dry-run",
    ]) {
      expect(r.stdout).toContain(word);
    }
  });

  it.each([
    [
      ["--target", "gcp"],
      /option '(-t, )?--target <target>' argument 'gcp' is invalid. Allowed choices are aws, local/,
    ],
    [["--stack", "1bad name"], /--stack "1bad name": a stack name is letters/],
    [
      ["--config", "/nonexistent.yaml", "--yes"],
      /nonexistent\.yaml: cannot read the config file \(no such file\)/,
    ],
  ])("refuses %j with exit 2 and creates no state", (args, message) => {
    const h = home();
    const r = runCli(args as string[], { env: h.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(h.dir, "state"))).toBe(false);
  });

  it("refuses a bad config file naming file, field and what is allowed", () => {
    const h = home();
    const cfg = join(h.dir, "bad.yaml");
    writeFileSync(cfg, "traffic:\n  connections: -1\ngroups:\n  old:\n    instanceTypo: x\n");
    const r = runCli(["--config", cfg, "--yes", "--target", "local"], { env: h.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${cfg}: invalid configuration`);
    expect(r.stderr).toContain('groups.old: unknown key "instanceTypo"');
    expect(r.stderr).toContain("traffic.connections: must be ≥ 1");
    expect(r.stderr).toContain("hint: Fix the fields named above; nothing was changed.");
    expect(existsSync(join(h.dir, "state"))).toBe(false);
  });

  it("without a terminal and without --yes it refuses to start, naming the flag", () => {
    const h = home();
    const r = runCli(["--target", "local"], { env: h.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("there is no terminal to answer it");
    expect(r.stderr).toContain("Pass --yes");
    expect(existsSync(join(h.dir, "state"))).toBe(false);
  });

  it("status reports a fresh stack and refuses a damaged journal with exit 2", () => {
    const h = home();
    let r = runCli(["status", "--stack", "dev"], { env: h.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("the migration has not started");
    mkdirSync(join(h.dir, "state", "dev"), { recursive: true });
    writeFileSync(
      join(h.dir, "state", "dev", "journal.jsonl"),
      '{"type":"transition","at":"x","step":"provision","status":"done"}\ngarbage\n',
    );
    r = runCli(["status", "--stack", "dev", "--json"], { env: h.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/journal\.jsonl: line 2 is not a journal record/);
  });

  it("report without a report says where it looked", () => {
    const h = home();
    const r = runCli(["report", "--stack", "dev"], { env: h.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stack dev: no report yet");
  });

  it("destroy without a terminal requires the typed stack name", () => {
    const h = home();
    const r = runCli(["destroy", "--stack", "dev"], { env: h.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Pass --yes-i-typed dev");
    const wrong = runCli(["destroy", "--stack", "dev", "--yes-i-typed", "prod"], { env: h.env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(
      'the typed name "prod" is not the stack name "dev"; nothing was destroyed',
    );
  });

  it("load refuses bad numbers and URLs with exit 2", () => {
    for (const args of [
      ["load", "not a url"],
      ["load", "http://127.0.0.1:1", "--connections", "0"],
      ["load", "http://127.0.0.1:1", "--duration", "-3s"],
    ]) {
      const r = runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/error: /);
    }
  });
});
