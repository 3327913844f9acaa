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
}): EksReport {
  return {
    preview: () => ({
      summary: "stop the traffic and write the report",
      items: [
        { kind: "stop", target: "load generator" },
        {
          kind: "write",
          target: join(o.reportsDir, "<time>/"),
          detail: "report.md, report.json, timeline.csv/json, chart.svg/png",
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
