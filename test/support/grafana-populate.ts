/**
 * Fill an InfluxDB database with synthetic users through the project's own write path
 * (generateResponse -> userToPoint -> renderPoint -> InfluxWriter), for the Grafana dashboard test.
 *
 * This is the step a real `userpipe run-all` replaces: the test calls `populateSyntheticUsers` unless
 * `USERPIPE_GRAFANA_TEST_DB` names a database a pipeline run already filled. Fetch times are `now - k s`, so the
 * users spread over the last `spanMs` and every time-range panel (and the 5-minute alert window) has data.
 */
import { InfluxWriter } from '../../src/clients/influx-writer.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { renderPoint } from '../../src/transforms/line-protocol.ts';
import { userToPoint } from '../../src/transforms/user-point.ts';

export interface PopulateOptions {
  url: string;
  db: string;
  /** Total users (default 10,000). */
  users?: number;
  /** Users per synthetic API response (default 50): one fetch time per response. */
  perResponse?: number;
  /** The newest response is fetched at `now - 1 s`, the oldest at about `now - spanMs`. Default one hour. */
  spanMs?: number;
  now?: number;
  measurement?: string;
  seed?: string;
}

export interface PopulateResult {
  written: number;
  rejected: number;
  /** Fetch time of the oldest and newest response, epoch ms. */
  oldestMs: number;
  newestMs: number;
}

/** Create `db` (idempotent) and write the users; throws if InfluxDB refused any line. */
export async function populateSyntheticUsers(opts: PopulateOptions): Promise<PopulateResult> {
  const total = opts.users ?? 10_000;
  const perResponse = opts.perResponse ?? 50;
  const spanMs = opts.spanMs ?? 3_600_000;
  const now = opts.now ?? Date.now();
  const measurement = opts.measurement ?? 'users';
  const seed = opts.seed ?? `grafana-${opts.db}`;
  const writer = new InfluxWriter({ url: opts.url, bucket: opts.db, retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 } });
  await writer.query(`CREATE DATABASE "${opts.db}"`);

  const responses = Math.ceil(total / perResponse);
  // Whole seconds apart, newest first: response r was fetched r * step after the oldest.
  const stepMs = Math.max(1_000, Math.floor(spanMs / responses / 1_000) * 1_000);
  let lines: string[] = [];
  let written = 0;
  let rejected = 0;
  let oldestMs = now;
  let newestMs = 0;
  const flush = async (): Promise<void> => {
    if (lines.length === 0) return;
    const res = await writer.write(lines);
    written += res.written;
    rejected += res.rejected.length;
    if (res.rejected.length > 0) throw new Error(`InfluxDB refused ${res.rejected.length} lines: ${res.rejected[0]?.message ?? ''}`);
    lines = [];
  };
  for (let r = 0; r < responses; r++) {
    const fetchedAtMs = now - 1_000 - r * stepMs;
    oldestMs = Math.min(oldestMs, fetchedAtMs);
    newestMs = Math.max(newestMs, fetchedAtMs);
    const count = Math.min(perResponse, total - r * perResponse);
    const response = generateResponse({ seed, page: r + 1, results: count, now });
    response.results.forEach((user, index) => {
      lines.push(renderPoint(userToPoint(user, { fetchedAtMs, seq: 0, index }, { measurement })));
    });
    if (lines.length >= 5_000) await flush();
  }
  await flush();
  await writer.close();
  return { written, rejected, oldestMs, newestMs };
}
