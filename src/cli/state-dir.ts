import { homedir } from "node:os";
import { join } from "node:path";
import { InputError } from "../engine/errors.js";

// Where a stack's journal, logs, reports and (local target) Pulumi backend live.

export function stateHome(): string {
  return process.env.EKS_RUNBOOK_HOME ?? join(homedir(), ".eks-runbook");
}

export function validateStackName(stack: string): string {
  if (!/^[a-zA-Z][a-zA-Z0-9_.-]{0,62}$/.test(stack)) {
    throw new InputError(
      `--stack "${stack}": a stack name is letters, digits, '-', '_' or '.', starting with a letter, at most 63 characters`,
      "Pass a name such as --stack dev.",
    );
  }
  return stack;
}

export function stackDir(stack: string): string {
  return join(stateHome(), validateStackName(stack));
}

export const journalPath = (stack: string) => join(stackDir(stack), "journal.jsonl");
export const logPath = (stack: string) => join(stackDir(stack), "run.log");
export const reportsDir = (stack: string) => join(stackDir(stack), "reports");
export const lockPath = (stack: string) => join(stackDir(stack), "run.lock");
