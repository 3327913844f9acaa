import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { suggestCommand, wantsJson } from "../../src/cli/args.js";
import { completionScript } from "../../src/cli/completion-command.js";
import { addLazyCommands } from "../../src/cli/lazy-commands.js";
import { createLogFormatter } from "../../src/cli/logs-command.js";
import { chooseRenderer } from "../../src/cli/options.js";
import { buildProgram } from "../../src/cli/program.js";
import { eventsJsonSchema } from "../../src/render/event-schema.js";
import { createJsonRenderer, errorLine } from "../../src/render/json-renderer.js";
import { confirmAt } from "../helpers/screen-events.js";

const root = join(import.meta.dirname, "..", "..");

describe("command line", () => {
  it("suggests the command a typo meant", () => {
    const names = ["status", "logs", "report", "destroy", "completion", "sandbox", "load", "run"];
    expect(suggestCommand("stauts", names)).toBe("status");
    expect(suggestCommand("sandbx", names)).toBe("sandbox");
    expect(suggestCommand("log", names)).toBe("logs");
    expect(suggestCommand("kubectl", names)).toBeUndefined();
  });

  it("finds --json and -j (also grouped) before --", () => {
    expect(wantsJson(["--json"])).toBe(true);
    expect(wantsJson(["-yj", "-s", "dev"])).toBe(true);
    expect(wantsJson(["-y", "--", "--json"])).toBe(false);
    expect(wantsJson(["status"])).toBe(false);
  });

  it("falls back to plain lines below 80×24 and says why", () => {
    const tty = { isTTY: true };
    expect(
      chooseRenderer({ json: false }, {}, { isTTY: true, columns: 80, rows: 24 }, tty),
    ).toEqual({ mode: "ink", canPrompt: true });
    const small = chooseRenderer({ json: false }, {}, { isTTY: true, columns: 70, rows: 24 }, tty);
    expect(small).toMatchObject({ mode: "plain", canPrompt: false });
    expect(small.notice).toContain("needs at least 80×24");
    expect(chooseRenderer({ json: true }, {}, { isTTY: true }, tty).mode).toBe("json");
    expect(chooseRenderer({ json: false }, { CI: "1" }, { isTTY: true }, tty).mode).toBe("plain");
  });

  it("documents every EKS_RUNBOOK_* variable the code reads in --help and the README", () => {
    const used = new Set(
      execFileSync("grep", ["-rhoE", "EKS_RUNBOOK_[A-Z_]+", "src", "scripts", "bin"], {
        cwd: root,
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean),
    );
    const program = buildProgram();
    let help = "";
    program.configureOutput({ writeOut: (s) => (help += s) });
    program.outputHelp();
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(used.size).toBeGreaterThanOrEqual(6);
    for (const v of used) {
      expect(help, v).toContain(v);
      expect(readme, v).toContain(v);
    }
    expect(help).toContain("-y, --yes");
    expect(help).toContain("--to-step <n>");
    expect(help).toContain("NO_COLOR");
  });

  it("completes commands, flags and subcommands in bash", () => {
    const program = buildProgram();
    addLazyCommands(program);
    const script = completionScript("bash", program);
    const complete = (...words: string[]) =>
      execFileSync(
        "bash",
        [
          "-c",
          `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _eks_runbook; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: "utf8" },
      ).trim();
    expect(complete("eks-runbook", "sta")).toBe("status");
    expect(complete("eks-runbook", "--st")).toBe("--stack");
    expect(complete("eks-runbook", "-t", "")).toBe("local aws");
    expect(complete("eks-runbook", "sandbox", "")).toBe("up down status doctor");
    expect(complete("eks-runbook", "sandbox", "up", "--n")).toBe("--name --no-agent");
    expect(complete("eks-runbook", "-s", "dev", "logs", "-")).toContain("--follow");
    expect(completionScript("zsh", program)).toContain("bashcompinit");
    expect(() => completionScript("fish", program)).toThrow(/unknown shell "fish"/);
  });

  it("formats run.log lines like the plain renderer", () => {
    const f = createLogFormatter(false);
    const line = JSON.stringify({
      level: 30,
      time: Date.parse("2026-11-21T10:00:01.500Z"),
      msg: "step",
      event: { type: "step", step: "provision", index: 1, status: "applying", at: "x" },
    });
    expect(f(line)).toEqual(["10:00:01.500 info  [?/0] provision: applying"]);
    expect(f('{"level":50,"time":0,"msg":"boom","err":{"message":"why"}}')).toEqual([
      "00:00:00.000 error boom: why",
    ]);
    expect(createLogFormatter(true)('{"a":1}')).toEqual(['{"a":1}']);
  });
});

describe("--json contract", () => {
  it("docs/events.schema.json is the schema generated from the zod event schemas", () => {
    const file = JSON.parse(readFileSync(join(root, "docs", "events.schema.json"), "utf8"));
    expect(file).toEqual(eventsJsonSchema());
  });

  it("every line carries schemaVersion, runId and at, and validates against the schema", () => {
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(eventsJsonSchema());
    const lines: string[] = [];
    const render = createJsonRenderer((l) => lines.push(l), "run-1");
    for (const e of confirmAt(5, { destructive: { reason: "removes capacity", confirmWith: "5" } }))
      render(e);
    lines.push(errorLine({ message: "bad", hint: "fix", exitCode: 2 }, "run-1"));
    for (const l of lines) {
      const e = JSON.parse(l);
      expect(e).toMatchObject({
        schemaVersion: 1,
        runId: expect.any(String),
        at: expect.any(String),
      });
      expect(validate(e), `${l}\n${JSON.stringify(validate.errors)}`).toBe(true);
    }
    // A field the schema does not know is caught (the schema is strict but for traffic).
    expect(validate({ ...JSON.parse(lines[1]!), surprise: 1 })).toBe(false);
  });
});
