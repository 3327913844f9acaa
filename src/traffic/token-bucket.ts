// Rate limiting without a timer per request: tokens accrue with elapsed time and a request
// takes one. The bucket holds at most `capacity` tokens (100 ms worth by default) so a
// stall is not followed by a burst far above the target rate. Tokens that would overflow
// are requests the schedule wanted sent while no connection was free to send them: they are
// counted (`takeOverflow`), so a client whose connections hang in an outage reports what
// it could not send instead of quietly sending less. Pure: the clock is passed in.

export class TokenBucket {
  private tokens: number;
  private last: number;
  private overflow = 0;
  private readonly perMs: number;
  readonly capacity: number;

  /** `rate` in tokens per second; `now` in ms (any monotonic clock). */
  constructor(rate: number, now: number, capacity = Math.max(1, Math.ceil(rate / 10))) {
    if (!(rate > 0)) throw new RangeError(`token bucket rate must be > 0, got ${rate}`);
    this.perMs = rate / 1000;
    this.capacity = capacity;
    // Start with one token: the first request goes out at once, the rest at the rate.
    this.tokens = 1;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      const tokens = this.tokens + (now - this.last) * this.perMs;
      if (tokens > this.capacity) this.overflow += tokens - this.capacity;
      this.tokens = Math.min(this.capacity, tokens);
      this.last = now;
    }
  }

  /** Takes a token if one is available. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until a token is available (0 if one is). */
  msUntilNext(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.perMs;
  }

  /** Whole requests that overflowed the bucket since the last call (the fraction carries). */
  takeOverflow(now: number): number {
    this.refill(now);
    const whole = Math.floor(this.overflow);
    this.overflow -= whole;
    return whole;
  }
}
