/**
 * Wiring of the fetch stage from a checked FetchConfig: the page fetcher (HTTP or synthetic), the rate limit, the
 * page cursor of a seeded run, the quarantine, and the FetchSource over them. Knows nothing about the CLI, so
 * `run-all` opens the same stage and connects its source to whatever sink it wants.
 *
 *     const stage = await openFetchStage(config, { log, counters });
 *     try { await sink.write(stage.source.read(stopSignal), abortSignal); } finally { await stage.close(); }
 */
import type { Logger } from '../core/log.ts';
import type { StageCounters } from '../core/stats.ts';
import type { Nationality } from '../transforms/randomuser-types.ts';
import { QuarantineFile } from '../sinks/quarantine.ts';
import { PageCursor } from './fetch-cursor.ts';
import { FetchSource, type RetryPolicy } from './fetch-source.ts';
import type { PageFetcher } from './page-fetcher.ts';
import { SlidingWindowLimiter } from './rate-limit.ts';
import { RandomUserClient, type HttpTimeouts } from './randomuser.ts';
import { SyntheticFetcher } from './synthetic.ts';

export interface FetchConfig {
  source: 'randomuser' | 'synthetic';
  apiUrl: string;
  query: { results: number; nat: Nationality[]; gender?: 'male' | 'female'; inc: string[]; exc: string[] };
  seed?: string;
  /** First page of a seeded run without a cursor. */
  page: number;
  /** Last page of a seeded run (resumable bounded runs). */
  lastPage?: number;
  intervalMs: number;
  count?: number;
  maxUsers?: number;
  once: boolean;
  /** Failed requests in a row before giving up; 0 = never. */
  maxFailures: number;
  /** `users` 0 = no limit. Applies to the randomuser source only. */
  rateLimit: { users: number; windowMs: number };
  retry: RetryPolicy;
  timeouts: HttpTimeouts;
  dataDir: string;
  spoolDir: string;
  quarantineDir: string;
  stdout: boolean;
}

export interface FetchStageDeps {
  log: Logger;
  counters?: StageCounters;
  /** Replace the page fetcher (tests, benchmarks). */
  fetcher?: PageFetcher;
  /** fsync cursor and quarantine writes (default true). */
  fsync?: boolean;
}

export interface FetchStage {
  source: FetchSource;
  cursor: PageCursor | undefined;
  /** Release the cursor lock, connections and the quarantine file. Idempotent. */
  close(): Promise<void>;
}

/** Open everything the fetch stage needs. ConfigError (exit 2) when the cursor is locked or was made with other options. */
export async function openFetchStage(config: FetchConfig, deps: FetchStageDeps): Promise<FetchStage> {
  const log = deps.log;
  const fetcher: PageFetcher =
    deps.fetcher ??
    (config.source === 'synthetic'
      ? new SyntheticFetcher()
      : new RandomUserClient({ apiUrl: config.apiUrl, timeouts: config.timeouts, userAgent: 'userpipe-fetch' }));
  let cursor: PageCursor | undefined;
  try {
    if (config.seed !== undefined) {
      cursor = await PageCursor.open({
        dataDir: config.dataDir,
        seed: config.seed,
        // Not the API URL: a mirror or a move to https serves the same pages.
        params: { source: config.source, ...config.query },
        startPage: config.page,
        log,
        fsync: deps.fsync,
      });
    }
  } catch (err) {
    await fetcher.close();
    throw err;
  }
  const quarantine = new QuarantineFile({ dir: config.quarantineDir, stage: 'fetch', fsync: deps.fsync });
  const limiter =
    config.source === 'randomuser' && config.rateLimit.users > 0
      ? new SlidingWindowLimiter({ limit: config.rateLimit.users, windowMs: config.rateLimit.windowMs })
      : undefined;
  const source = new FetchSource({
    fetcher,
    query: config.query,
    ...(config.seed === undefined ? {} : { pages: { seed: config.seed, cursor, startPage: config.page, ...(config.lastPage ? { lastPage: config.lastPage } : {}) } }),
    intervalMs: config.intervalMs,
    count: config.count,
    maxUsers: config.maxUsers,
    once: config.once,
    maxFailures: config.maxFailures,
    retry: config.retry,
    limiter,
    quarantine,
    log,
    counters: deps.counters,
  });
  let closed = false;
  return {
    source,
    cursor,
    async close() {
      if (closed) return;
      closed = true;
      await fetcher.close();
      await quarantine.close();
      await cursor?.release();
    },
  };
}
