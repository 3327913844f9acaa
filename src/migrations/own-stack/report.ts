import { join } from "node:path";
import { Journal } from "../../engine/journal.js";
import type { TrafficSource } from "../../engine/ports.js";
import { writeReport } from "../../report/report-writer.js";
import type { OwnStackReport } from "./context.js";

// The report step's writer for your own stack: the same evidence as the tutorial's (journal
// + timeline); with `traffic: none` it says that the traffic gates were off.

export function createOwnStackReport(o: {
  stack: string;
  target: string;
  steps: { id: string; title: string }[];
  journalPath: string;
  reportsDir: string;
  traffic: TrafficSource;
  trafficWatched: boolean;
  onWritten: (path: string) => void;
}): OwnStackReport {
  return {
    preview: () => ({
      summary: o.trafficWatched
        ? "stop the traffic and write the report"
        : "write the report (no traffic was watched: the plan says traffic: none)",
      items: [
        ...(o.trafficWatched ? [{ kind: "stop" as const, target: "load generator" }] : []),
        {
          kind: "write",
          target: join(o.reportsDir, "<time>/"),
          detail: "report.md, report.json, timeline",
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
      const traffic = o.trafficWatched
        ? `${s.requests.total.toLocaleString("en-US")} requests, ${s.requests.failed} failed`
        : "traffic gates off (traffic: none)";
      return {
        path,
        summary: `${o.trafficWatched ? s.verdict : "no traffic watched"}: ${traffic}; report ${path}`,
      };
    },
  };
}
