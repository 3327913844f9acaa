import { describe, expect, it } from "vitest";
import {
  type ExportableTimeline,
  timelineToCsv,
  timelineToJson,
  timelineToJsonObject,
} from "../../src/traffic/timeline-export.js";

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
const timeline: ExportableTimeline = {
  samples: [
    {
      at: T0,
      durationMs: 1000,
      requests: 10,
      ok: 8,
      failed: 2,
      errors: { timeout: 1, "503": 1 },
      p50Ms: 1.5,
      p99Ms: 9,
    },
    {
      at: T0 + 1000,
      durationMs: 1000,
      requests: 5,
      ok: 4,
      failed: 1,
      errors: { "404": 1 },
      p50Ms: 2,
      p99Ms: 3,
    },
    {
      at: T0 + 2000,
      durationMs: 250,
      requests: 1,
      ok: 1,
      failed: 0,
      errors: {},
      p50Ms: 1,
      p99Ms: 1,
    },
  ],
  marks: [
    { label: 'step, "drain"', at: T0 + 1200 },
    { label: "start", at: T0 - 50 },
    { label: "b", at: T0 + 1999 },
    { label: "after-stop", at: T0 + 9000 },
  ],
};

describe("timeline export", () => {
  it("CSV: one row per second, a column per error kind in a stable order, marks in their second", () => {
    const csv = timelineToCsv(timeline);
    expect(csv.split("\n")).toEqual([
      "at,epoch_ms,duration_ms,requests,ok,failed,p50_ms,p99_ms,error_404,error_503,error_timeout,marks",
      `2025-01-02T03:04:05.000Z,${T0},1000,10,8,2,1.5,9,0,1,1,start`,
      `2025-01-02T03:04:06.000Z,${T0 + 1000},1000,5,4,1,2,3,1,0,0,"step, ""drain"";b"`,
      `2025-01-02T03:04:07.000Z,${T0 + 2000},250,1,1,0,1,1,0,0,0,`,
      "",
    ]);
  });

  it("CSV of an empty timeline is the header only", () => {
    expect(timelineToCsv({ samples: [], marks: [] })).toBe(
      "at,epoch_ms,duration_ms,requests,ok,failed,p50_ms,p99_ms,marks\n",
    );
  });

  it("JSON: ISO times, every sample and every mark", () => {
    const obj = timelineToJsonObject(timeline);
    expect(obj.samples[0]).toEqual({
      at: "2025-01-02T03:04:05.000Z",
      durationMs: 1000,
      requests: 10,
      ok: 8,
      failed: 2,
      errors: { timeout: 1, "503": 1 },
      p50Ms: 1.5,
      p99Ms: 9,
    });
    expect(obj.marks.map((m) => m.label)).toEqual(['step, "drain"', "start", "b", "after-stop"]);
    expect(JSON.parse(timelineToJson(timeline))).toEqual(obj);
  });
});
