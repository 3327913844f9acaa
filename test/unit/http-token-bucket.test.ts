import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/traffic/token-bucket.js";

describe("TokenBucket", () => {
  it("lets the first request through at once, then one per 1/rate", () => {
    const b = new TokenBucket(100, 0); // one token every 10 ms
    expect(b.take(0)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.msUntilNext(0)).toBeCloseTo(10);
    expect(b.take(9.9)).toBe(false);
    expect(b.take(10)).toBe(true);
  });

  it("delivers the rate on average over a long run, whatever the polling pattern", () => {
    const b = new TokenBucket(1000, 0);
    let taken = 0;
    // poll at irregular intervals for 10 s
    for (let t = 0; t <= 10_000; t += 0.37) while (b.take(t)) taken++;
    expect(taken).toBeGreaterThanOrEqual(10_000);
    expect(taken).toBeLessThanOrEqual(10_001);
  });

  it("caps a burst after a stall at the capacity (100 ms worth by default)", () => {
    const b = new TokenBucket(1000, 0);
    b.take(0);
    let burst = 0;
    while (b.take(5_000)) burst++;
    expect(burst).toBe(100);
    expect(b.capacity).toBe(100);
    expect(new TokenBucket(3, 0).capacity).toBe(1);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new TokenBucket(0, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 0)).toThrow(RangeError);
  });

  it("counts the tokens that overflow while nobody takes them: requests not sent", () => {
    // 1000/s, capacity 100, one token at the start: after 1 s without a free connection,
    // 1,001 were due and the bucket holds 100: 901 not sent
    const b = new TokenBucket(1000, 0);
    expect(b.takeOverflow(1000)).toBe(901);
    expect(b.takeOverflow(1000)).toBe(0);
    // a lane that keeps taking tokens as they come overflows nothing
    while (b.take(1000));
    for (let t = 1001; t < 2000; t++) b.take(t);
    expect(b.takeOverflow(2000)).toBe(0);
  });
});
