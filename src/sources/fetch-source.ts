/**
 * The fetch source: polls a PageFetcher (the RandomUser API, or the synthetic generator) at a steady pace, retries
 * each request through core/retry.ts, quarantines invalid users and yields one envelope per response.
 *
 * Contract:
 * - At most one envelope is un-acked at a time: the next request starts only after the previous response settled
 *   (pages of a seeded run are therefore written strictly in order, which the cursor relies on).
 * - The ack is the source's commit: it counts the users as written and, for a seeded run, advances the page
 *   cursor (unless the sink already recorded the page through `beforePublish`). A nack stops the source: the
 *   response was not written, and a seeded page is fetched again on the next start.
 * - A request that still fails after `maxAttempts` attempts (or `maxElapsedMs`) is logged once with its reason,
 *   counted in `errors`, and polling goes on (`once`: the source ends and `summary.failedRequests` is 1).
 * - `read(signal)`: `signal` is the soft stop. It cancels the request or wait in progress (nothing was received,
 *   nothing is lost) and ends the iteration; an envelope already handed out stays valid.
 */
import { PipelineError, toPipelineError } from '../core/errors.ts';
import { envelope, onceAck, type Envelope } from '../core/envelope.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { retry } from '../core/retry.ts';
import { sleep } from '../core/sleep.ts';
import type { StageCounters } from '../core/stats.ts';
import type { RandomUserResponse } from '../transforms/randomuser-types.ts';
import { partitionUsers } from '../transforms/user-schema.ts';
import { FetchStamper } from '../sinks/spool-name.ts';
import type { QuarantineEntry } from '../sinks/quarantine.ts';
import type { FetchedResponse } from './fetched-response.ts';
import type { PageCursor } from './fetch-cursor.ts';
import type { PageFetcher, PageQuery } from './page-fetcher.ts';
import type { SlidingWindowLimiter } from './rate-limit.ts';

export interface RetryPolicy {
  /** Attempts per request, including the first. */
  maxAttempts: number;
  /** Give a request up once this much time passed since its first attempt. */
  maxElapsedMs: number;
  baseDelayMs: number;
  /** Cap on one backoff and on a server's Retry-After. */
  maxDelayMs: number;
}

export interface FetchSourceOptions {
  fetcher: PageFetcher;
  /** The request every poll makes; `results` is the page size. */
  query: Omit<PageQuery, 'seed' | 'page'>;
  /** Seeded, paged fetching. With a cursor the pages come from it (resumable); otherwise from `startPage`. */
  pages?: { seed: string; cursor?: PageCursor; startPage?: number; lastPage?: number };
  /** Between request starts; 0 = as fast as the sink takes them. */
  intervalMs: number;
  /** Stop after this many responses (failed requests do not count). */
  count?: number;
  /** Stop after this many users received; the last request asks only for what remains. */
  maxUsers?: number;
  /** One request (with its retries), then end: for cron. */
  once?: boolean;
  /** Fail (throw) after this many failed requests in a row; 0 or undefined = never give up. */
  maxFailures?: number;
  retry: RetryPolicy;
  limiter?: SlidingWindowLimiter;
  quarantine?: { append(entries: readonly QuarantineEntry[]): Promise<string> };
  stamper?: FetchStamper;
  log?: Logger;
  counters?: StageCounters;
  /** For tests. */
  random?: () => number;
}

export interface FetchSummary {
  requests: number;
  responses: number;
  usersReceived: number;
  usersWritten: number;
  quarantined: number;
  failedRequests: number;
  retries: number;
  /** The count, max-users or once goal was reached (false when stopped early). */
  completed: boolean;
  /** The reason of the last request that failed for good. */
  lastFailure?: PipelineError;
}

export class FetchSource {
  readonly summary: FetchSummary = {
    requests: 0,
    responses: 0,
    usersReceived: 0,
    usersWritten: 0,
    quarantined: 0,
    failedRequests: 0,
    retries: 0,
    completed: false,
  };
  private readonly opts: FetchSourceOptions;
  private readonly log: Logger;
  private readonly counters: StageCounters;
  private readonly stamper: FetchStamper;
  private nackError: PipelineError | undefined;
  private page: number | undefined;
  /** Attempts made by the last request. */
  private attempts = 0;

  constructor(opts: FetchSourceOptions) {
    if (!Number.isInteger(opts.query.results) || opts.query.results < 1 || opts.query.results > 5000) {
      throw new RangeError(`results must be 1..5000, got ${opts.query.results}`);
    }
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.counters = opts.counters ?? { in: 0, out: 0, errors: 0, retries: 0, bytes: 0 };
    this.stamper = opts.stamper ?? new FetchStamper();
    this.page = opts.pages ? (opts.pages.cursor?.nextPage ?? opts.pages.startPage ?? 1) : undefined;
  }

  /** The page the next request asks for (seeded runs). */
  get nextPage(): number | undefined {
    return this.page;
  }

  async *read(signal: AbortSignal): AsyncGenerator<Envelope<FetchedResponse>> {
    const { intervalMs, once } = this.opts;
    const count = once ? 1 : this.opts.count;
    let nextStart = Date.now();
    let settled: Promise<void> = Promise.resolve();
    let consecutiveFailures = 0;
    while (true) {
      if (this.goalReached(count)) {
        this.summary.completed = true;
        return;
      }
      if (signal.aborted) return;
      // One response in flight: wait until the previous one is settled (in lockstep it already is).
      if (!(await untilSettledOrStopped(settled, signal))) return;
      if (this.nackError) return;
      const wait = nextStart - Date.now();
      if (wait > 0 && !(await sleepOrStopped(wait, signal))) return;
      nextStart = Math.max(Date.now(), nextStart + intervalMs);

      const query = this.nextQuery();
      this.summary.requests += 1;
      let response: RandomUserResponse;
      try {
        response = await this.fetchWithRetry(query, signal);
      } catch (raw) {
        if (signal.aborted) return;
        const err = toPipelineError(raw);
        this.summary.failedRequests += 1;
        this.summary.lastFailure = err;
        this.counters.errors += 1;
        consecutiveFailures += 1;
        this.log.error('request failed', { code: err.code, reason: err.message, attempts: this.attempts, page: query.page });
        if (once) return;
        const max = this.opts.maxFailures ?? 0;
        if (max > 0 && consecutiveFailures >= max) {
          throw new PipelineError('UNAVAILABLE', `${consecutiveFailures} requests in a row failed; last: ${err.message}`, {
            retryable: false,
            cause: err,
            details: { code: err.code },
          });
        }
        continue;
      }
      consecutiveFailures = 0;
      const stamp = this.stamper.next();
      const received = response.results.length;
      this.summary.responses += 1;
      this.summary.usersReceived += received;
      this.counters.in += received;

      const valid = await this.quarantineInvalid(response, stamp.fetchedAtMs, query.page);
      const page = query.page;
      if (page !== undefined) this.page = page + 1;
      if (valid.length === 0) {
        // Nothing to write; the page is consumed all the same (its users are in the quarantine).
        if (page !== undefined) await this.opts.pages?.cursor?.commit(page);
        continue;
      }
      const payload: FetchedResponse = {
        response: valid.length === received ? response : { ...response, results: valid },
        fetchedAtMs: stamp.fetchedAtMs,
        seq: stamp.seq,
        users: valid.length,
        ...(page === undefined ? {} : { page }),
      };
      const cursor = this.opts.pages?.cursor;
      if (cursor && page !== undefined) payload.beforePublish = (tempPath, finalPath) => cursor.prepare(page, tempPath, finalPath);
      let markSettled!: () => void;
      settled = new Promise<void>((resolve) => {
        markSettled = resolve;
      });
      const ack = onceAck(async (error) => {
        try {
          if (error) {
            this.nackError = error;
            return;
          }
          if (cursor && page !== undefined) await cursor.commit(page);
          this.summary.usersWritten += valid.length;
          this.counters.out += valid.length;
        } finally {
          markSettled();
        }
      });
      yield envelope(payload, ack, { source: this.opts.fetcher.name, ...(page === undefined ? {} : { page }) });
    }
  }

  private goalReached(count: number | undefined): boolean {
    if (count !== undefined && this.summary.responses >= count) return true;
    const last = this.opts.pages?.lastPage;
    if (last !== undefined && this.page !== undefined && this.page > last) return true;
    const max = this.opts.maxUsers;
    return max !== undefined && this.summary.usersReceived >= max;
  }

  private nextQuery(): PageQuery {
    const base = this.opts.query;
    let results = base.results;
    if (this.opts.maxUsers !== undefined) results = Math.min(results, this.opts.maxUsers - this.summary.usersReceived);
    const q: PageQuery = { ...base, results };
    if (this.opts.pages) {
      q.seed = this.opts.pages.seed;
      q.page = this.page;
    }
    return q;
  }

  private async fetchWithRetry(query: PageQuery, signal: AbortSignal): Promise<RandomUserResponse> {
    const { fetcher, limiter } = this.opts;
    const policy = this.opts.retry;
    this.attempts = 0;
    return await retry(
      async () => {
        this.attempts += 1;
        // Every attempt counts against the service's limit: it counts what it serves, and we cannot know.
        await limiter?.acquire(query.results, signal);
        return await fetcher.fetch(query, signal);
      },
      {
        maxAttempts: policy.maxAttempts,
        maxElapsedMs: policy.maxElapsedMs,
        baseDelayMs: policy.baseDelayMs,
        maxDelayMs: policy.maxDelayMs,
        signal,
        random: this.opts.random,
        onRetry: ({ attempt, delayMs, error }) => {
          this.summary.retries += 1;
          this.counters.retries += 1;
          this.log.warn('request failed, retrying', {
            attempt,
            of: policy.maxAttempts,
            retryIn: `${delayMs}ms`,
            code: error.code,
            reason: error.message,
            ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
            ...(query.page !== undefined ? { page: query.page } : {}),
          });
        },
      },
    );
  }

  private async quarantineInvalid(response: RandomUserResponse, fetchedAtMs: number, page: number | undefined): Promise<RandomUserResponse['results']> {
    const { valid, invalid } = partitionUsers(response.results);
    if (invalid.length === 0) return valid;
    const fetchedAt = new Date(fetchedAtMs).toISOString();
    const entries: QuarantineEntry[] = invalid.map((i) => ({
      reason: i.reason,
      fetchedAt,
      index: i.index,
      ...(page === undefined ? {} : { page }),
      user: i.user,
    }));
    const file = this.opts.quarantine ? await this.opts.quarantine.append(entries) : undefined;
    this.summary.quarantined += invalid.length;
    this.counters.errors += invalid.length;
    this.log.warn('invalid users quarantined', { count: invalid.length, of: response.results.length, reason: invalid[0]?.reason, file });
    return valid;
  }
}

async function untilSettledOrStopped(settled: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([settled.then(() => true), stopped]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

async function sleepOrStopped(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}
