import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError, RunbookError } from "../engine/errors.js";
import type { ReportSummary } from "../report/report-model.js";
import { reportsDir, validateStackName } from "./state-dir.js";

// `eks-runbook report`: the latest report of a stack. On a terminal: the verdict, the steps
// as a table and where the files are. `--format md|json|html` prints that file as is (for
// pipes and tickets); `--open` prints report.html's path and opens it with xdg-open when
// the system has it.

const FORMATS = ["text", "md", "json", "html"] as const;
type Format = (typeof FORMATS)[number];
const FILE_OF: Record<Exclude<Format, "text">, string> = {
  md: "report.md",
  json: "report.json",
  html: "report.html",
};

export interface ReportCommandIo {
  out(text: string): void;
  /** Whether stdout is a colour terminal. */
  color: boolean;
  /** Finds an executable (the opener); absent → nothing is opened. */
  which(name: string): string | undefined;
}

async function defaultIo(): Promise<ReportCommandIo> {
  const { which } = await import("../which.js");
  return {
    out: (t) => process.stdout.write(t),
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
    which: (n) => which(n),
  };
}

function parseFormat(raw: unknown): Format {
  const f = String(raw ?? "text");
  if (!(FORMATS as readonly string[]).includes(f)) {
    throw new InputError(
      `--format "${f}": not a report format`,
      "Use --format md, --format json or --format html (default: a summary for the terminal).",
    );
  }
  return f as Format;
}

export function latestReportDir(stack: string): string {
  const dir = reportsDir(stack);
  const runs = existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => existsSync(join(dir, d, "report.md")))
        .sort()
    : [];
  const latest = runs.at(-1);
  if (!latest) {
    throw new RunbookError(
      `stack ${stack}: no report yet (looked in ${dir})`,
      `A report is written by the last step of a run: eks-runbook --stack ${stack}`,
    );
  }
  return join(dir, latest);
}

export async function reportCommand(
  raw: Record<string, unknown>,
  io?: ReportCommandIo,
): Promise<number> {
  const stack = validateStackName(String(raw.stack ?? "dev"));
  const format = parseFormat(raw.format);
  const out = io ?? (await defaultIo());
  const dir = latestReportDir(stack);
  if (raw.open === true) {
    const html = join(dir, FILE_OF.html);
    out.out(`${html}\n`);
    const opener = out.which("xdg-open");
    if (opener && existsSync(html)) {
      // Detached and unref'd: the browser outlives this command; its output is not ours.
      spawn(opener, [html], { detached: true, stdio: "ignore" }).unref();
    }
    return 0;
  }
  if (format !== "text") {
    const file = join(dir, FILE_OF[format]);
    if (!existsSync(file)) {
      throw new RunbookError(
        `${file} does not exist (a report written by an older version)`,
        "Use --format md, or run the report step again to write every format.",
      );
    }
    out.out(readFileSync(file, "utf8"));
    return 0;
  }
  const jsonFile = join(dir, FILE_OF.json);
  const summary = existsSync(jsonFile)
    ? (JSON.parse(readFileSync(jsonFile, "utf8")) as Partial<ReportSummary>)
    : undefined;
  if (summary && (summary.schemaVersion ?? 0) >= 2) {
    const { renderTerminal } = await import("../report/report-terminal.js");
    out.out(renderTerminal(summary as ReportSummary, dir, out.color));
    return 0;
  }
  // An older report: its Markdown, without the HTML line breaks it used in table cells.
  out.out(readFileSync(join(dir, FILE_OF.md), "utf8").replace(/<br>/g, "; "));
  out.out(`\nfiles: ${dir}\n`);
  return 0;
}
