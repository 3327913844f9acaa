import type { TrafficSample } from "../../src/engine/ports.js";

// Synthetic traffic timelines for report tests: 60 s at ~300 req/s across four steps, with
// one of three stories: a clean run, a 6-second stall (nothing completes: a load balancer
// that stopped answering), or a spike of 5xx and keep-alive races.

export type Story = "clean" | "stall" | "spike";

export const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
export const STALL = { from: 30, to: 36 };
export const SPIKE = { from: 40, to: 43 };

export const STEPS = [
  { id: "start-traffic", title: "Start traffic", from: 0, to: 8 },
  { id: "create-new-group", title: "Create the new node group", from: 8, to: 22 },
  { id: "migrate-nginx", title: "Migrate NGINX to the new group", from: 22, to: 45 },
  { id: "drain-old-nodes", title: "Drain the old nodes", from: 45, to: 60 },
];

export function syntheticSamples(story: Story): (TrafficSample & { durationMs: number })[] {
  return Array.from({ length: 60 }, (_, i) => {
    const last = i === 59;
    const base = {
      at: T0 + i * 1000,
      durationMs: last ? 400 : 1000,
      requests: last ? 120 : 300,
      ok: last ? 120 : 300,
      failed: 0,
      errors: {} as Record<string, number>,
      p50Ms: 1.8 + (i % 5) * 0.1,
      p99Ms: 6 + (i % 7),
      maxMs: 14 + (i % 3),
    };
    if (story === "stall" && i >= STALL.from && i < STALL.to) {
      const { maxMs: _, ...rest } = base;
      return { ...rest, requests: 0, ok: 0, p50Ms: 0, p99Ms: 0 };
    }
    if (story === "stall" && i === STALL.to) {
      // the requests stuck in the stall time out together when it ends
      return {
        ...base,
        requests: 308,
        ok: 300,
        failed: 8,
        errors: { timeout: 8 },
        p99Ms: 2000,
        maxMs: 2001,
      };
    }
    if (story === "spike" && i >= SPIKE.from && i < SPIKE.to) {
      return {
        ...base,
        ok: 270,
        failed: 30,
        errors: { "http-503": 24, "keepalive-race": 6 },
        p99Ms: 40,
        maxMs: 55,
      };
    }
    return base;
  });
}

export const iso = (second: number) => new Date(T0 + second * 1000).toISOString();
