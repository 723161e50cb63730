/**
 * A client-side sliding-window limit on users requested, so that fetch stays under the RandomUser service's own
 * limit (20,000 users per 5 minutes per IP; past it the service answers 429 without Retry-After, and keeps doing so
 * until its window moves on). A sliding log, not a token bucket: it matches how the service counts, and it never
 * lets a burst through that the service's window would still remember.
 *
 * Bounded: one entry per request inside the window, at most `limit` entries (each request asks for >= 1 user).
 * The state lives in this process: a restart forgets what was requested just before (the service does not).
 */
import { sleep } from '../core/sleep.ts';

export interface SlidingWindowOptions {
  /** Users allowed per window. */
  limit: number;
  windowMs: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class SlidingWindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Request log, oldest first: [time, users]. */
  private readonly log: Array<[number, number]> = [];
  private head = 0;
  private used = 0;

  constructor(opts: SlidingWindowOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new RangeError('limit must be an integer >= 1');
    if (!(opts.windowMs > 0)) throw new RangeError('windowMs must be > 0');
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? sleep;
  }

  /** Users counted in the current window. */
  get inWindow(): number {
    this.expire(this.now());
    return this.used;
  }

  /** How long until `n` users fit in the window (0: now). */
  waitTime(n: number): number {
    this.check(n);
    const t = this.now();
    this.expire(t);
    let free = this.limit - this.used;
    if (free >= n) return 0;
    // Walk the log until enough old requests have left the window.
    for (let i = this.head; i < this.log.length; i++) {
      const [at, users] = this.log[i] as [number, number];
      free += users;
      if (free >= n) return Math.max(0, at + this.windowMs - t);
    }
    return this.windowMs;
  }

  /** Wait until `n` users fit, then count them. Rejects with ABORTED if `signal` fires while waiting. */
  async acquire(n: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.waitTime(n);
      if (wait === 0) break;
      await this.sleep(wait, signal);
    }
    this.log.push([this.now(), n]);
    this.used += n;
  }

  private check(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.limit) throw new RangeError(`cannot ask for ${n} users under a limit of ${this.limit}`);
  }

  private expire(t: number): void {
    while (this.head < this.log.length) {
      const [at, users] = this.log[this.head] as [number, number];
      if (at + this.windowMs > t) break;
      this.used -= users;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
  }
}
