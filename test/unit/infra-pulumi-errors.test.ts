import { describe, expect, it } from "vitest";
import {
  AbortedError,
  ExitCode,
  PrerequisiteError,
  RunbookError,
} from "../../src/engine/errors.js";
import {
  errorLines,
  mapPulumiError,
  type PulumiErrorContext,
} from "../../src/infra/pulumi-errors.js";

// Fabricated like the Automation API's CommandError: a name and the CLI's output.
function commandError(name: string, stderr: string, stdout = ""): Error {
  const e = new Error(`code: 255\n stdout: ${stdout}\n stderr: ${stderr}\n`);
  e.name = name;
  Object.assign(e, { commandResult: { stdout, stderr, code: 255 } });
  return e;
}

const local: PulumiErrorContext = {
  target: "local",
  stack: "dev",
  operation: "update",
  aborted: false,
};
const aws: PulumiErrorContext = { ...local, target: "aws" };

describe("Pulumi failures become typed errors with a next step", () => {
  it("a cancelled operation is an interruption (exit 130)", () => {
    const e = mapPulumiError(commandError("CommandError", "error: update canceled"), {
      ...local,
      aborted: true,
    });
    expect(e).toBeInstanceOf(AbortedError);
    expect(e.exitCode).toBe(ExitCode.interrupted);
  });

  it("a locked stack names the other update and what to do", () => {
    const e = mapPulumiError(
      commandError("ConcurrentUpdateError", "error: the stack is currently locked by 1 lock(s)"),
      aws,
    );
    expect(e.message).toBe("stack dev is locked by another update");
    expect(e.hint).toMatch(/pulumi cancel/);
  });

  it("a missing stack points at the backend", () => {
    const e = mapPulumiError(
      commandError("StackNotFoundError", "error: no stack named 'dev' found"),
      aws,
    );
    expect(e.message).toMatch(/not found/);
    expect(e.hint).toMatch(/pulumi whoami/);
  });

  it("a missing plugin is a prerequisite: setup locally, plugin install on AWS", () => {
    const text =
      "error: could not load plugin for kubernetes provider 'default': no resource plugin 'kubernetes' found in the workspace or on your $PATH";
    const l = mapPulumiError(commandError("CommandError", text), local);
    expect(l).toBeInstanceOf(PrerequisiteError);
    expect(l.message).toBe('the Pulumi plugin "kubernetes" is not installed');
    expect(l.hint).toMatch(/npm run setup/);
    const a = mapPulumiError(
      commandError("CommandError", "error: no resource plugin 'eks' found in the workspace"),
      aws,
    );
    expect(a.hint).toMatch(/pulumi plugin install resource eks/);
  });

  it("missing AWS credentials say how to configure them", () => {
    const e = mapPulumiError(
      commandError(
        "CommandError",
        "error: unable to validate AWS credentials.\nerror: No valid credential sources found",
      ),
      aws,
    );
    expect(e).toBeInstanceOf(PrerequisiteError);
    expect(e.message).toBe("no valid AWS credentials");
    expect(e.hint).toMatch(/aws sts get-caller-identity/);
  });

  it("anything else keeps the engine's error lines, not the whole output", () => {
    const stdout = `${"noise\n".repeat(50)}    error: resource apps/nginx-ing-cntlr was not successfully created\n`;
    const e = mapPulumiError(commandError("CommandError", "error: update failed", stdout), {
      ...local,
      errors: ["nginx-ing-cntlr: 0/3 replicas available"],
    });
    expect(e).toBeInstanceOf(RunbookError);
    expect(e.message).toBe(
      "Pulumi update of stack dev failed:\nnginx-ing-cntlr: 0/3 replicas available\nerror: resource apps/nginx-ing-cntlr was not successfully created",
    );
    expect(e.message).not.toMatch(/noise/);
  });

  it("error lines are bounded in number and length", () => {
    const lines = errorLines(
      Array.from({ length: 20 }, (_, i) => `error: ${i} ${"x".repeat(1000)}`).join("\n"),
    );
    expect(lines).toHaveLength(5);
    expect(lines[0]!.length).toBeLessThanOrEqual(401);
  });
});
