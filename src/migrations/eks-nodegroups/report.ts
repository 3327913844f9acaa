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
      const s = await writeReport({
        stack: o.stack,
        target: o.target,
        steps: o.steps,
        journal: new Journal(o.journalPath).read().records,
        timeline: o.traffic.timeline(),
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
