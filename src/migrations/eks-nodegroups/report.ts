import { join } from "node:path";
import { Journal } from "../../engine/journal.js";
import type { TrafficSource } from "../../engine/ports.js";
import { writeReport } from "../../report/report-writer.js";
import type { EksReport } from "./context.js";

// The report step's writer: the journal (steps, confirmations, gates, overrides) plus the
// load generator's timeline, into a timestamped directory per run.

export function createRunReport(o: {
  stack: string;
  target: string;
  steps: { id: string; title: string }[];
  journalPath: string;
  reportsDir: string;
  traffic: TrafficSource;
  onWritten: (path: string) => void;
  /** Change-record metadata, when the target knows it (all optional). */
  cluster?: string;
  region?: string;
  versions?: Record<string, string>;
  /** The validated configuration (only its digest is written). */
  config?: unknown;
  /** gates.ignoreFailureClasses, so the report's verdict is the gates' verdict. */
  ignoreFailureClasses?: readonly string[];
}): EksReport {
  return {
    preview: () => ({
      summary: "stop the traffic and write the report",
      items: [
        { kind: "stop", target: "load generator" },
        {
          kind: "write",
          target: join(o.reportsDir, "<time>/"),
          detail: "report.html, report.md, report.json, timeline.csv/json, chart.vl.json/svg/png",
        },
      ],
    }),
    write: async () => {
      const dir = join(o.reportsDir, new Date().toISOString().replace(/[:.]/g, "-"));
      const journal = new Journal(o.journalPath).read().records;
      const s = await writeReport({
        stack: o.stack,
        target: o.target,
        steps: o.steps,
        journal,
        timeline: sinceJournalStart(o.traffic.timeline(), journal[0]?.at),
        dir,
        // The last step writes the report while it runs: its status is the verdict's.
        ...(o.steps.at(-1) ? { reportStep: o.steps.at(-1)!.id } : {}),
        ...(o.cluster ? { cluster: o.cluster } : {}),
        ...(o.region ? { region: o.region } : {}),
        ...(o.versions ? { versions: o.versions } : {}),
        ...(o.config !== undefined ? { config: o.config } : {}),
        ...(o.ignoreFailureClasses ? { ignoreFailureClasses: o.ignoreFailureClasses } : {}),
      });
      const path = join(dir, "report.md");
      o.onWritten(path);
      return {
        path,
        summary: `${s.verdict}: ${s.requests.total.toLocaleString("en-US")} requests, ${s.requests.failed} failed; report ${path}`,
      };
    },
  };
}

/**
 * The timeline from the journal's first record on: the change window. Traffic starts after
 * that record; what is older came from a timeline file that outlived its journal (a
 * journal moved away to start over) and belongs to another change.
 */
function sinceJournalStart(
  t: ReturnType<TrafficSource["timeline"]>,
  firstAt: string | undefined,
): ReturnType<TrafficSource["timeline"]> {
  const from = firstAt ? Date.parse(firstAt) : Number.NaN;
  if (Number.isNaN(from)) return t;
  return {
    samples: t.samples.filter((x) => x.at + 1000 > from),
    marks: t.marks.filter((m) => m.at >= from),
  };
}
