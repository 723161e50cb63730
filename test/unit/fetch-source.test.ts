import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineError } from '../../src/core/errors.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/log.ts';
import { sleep, throwIfAborted } from '../../src/core/sleep.ts';
import type { StageCounters } from '../../src/core/stats.ts';
import type { QuarantineEntry } from '../../src/sinks/quarantine.ts';
import { PageCursor } from '../../src/sources/fetch-cursor.ts';
import { FetchSource, type FetchSourceOptions } from '../../src/sources/fetch-source.ts';
import type { FetchedResponse } from '../../src/sources/fetched-response.ts';
import type { PageFetcher, PageQuery } from '../../src/sources/page-fetcher.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import type { RandomUserResponse } from '../../src/transforms/randomuser-types.ts';

type Step = 'ok' | PipelineError | ((q: PageQuery) => RandomUserResponse);

/** A fetcher that plays `steps` in order (then answers ok), recording every query. */
function fakeFetcher(steps: Step[] = [], delayMs = 0) {
  const queries: PageQuery[] = [];
  const startedAt: number[] = [];
  let i = 0;
  const fetcher: PageFetcher = {
    name: 'fake',
    async fetch(q, signal) {
      queries.push(q);
      startedAt.push(Date.now());
      if (delayMs > 0) await sleep(delayMs, signal);
      throwIfAborted(signal);
      const step = steps[i++] ?? 'ok';
      if (step instanceof PipelineError) throw step;
      if (typeof step === 'function') return step(q);
      return generateResponse({ seed: q.seed ?? 'fake', page: q.page ?? queries.length, results: q.results });
    },
    close() {},
  };
  return { fetcher, queries, startedAt };
}

function capture() {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  return { log, lines, count: (re: RegExp) => lines.filter((l) => re.test(l)).length };
}

const counters = (): StageCounters => ({ in: 0, out: 0, errors: 0, retries: 0, bytes: 0 });
const fastRetry = { maxAttempts: 3, maxElapsedMs: 10_000, baseDelayMs: 1, maxDelayMs: 5 };
const unavailable = (m = 'HTTP 503') => new PipelineError('UNAVAILABLE', m);

function source(over: Partial<FetchSourceOptions> & Pick<FetchSourceOptions, 'fetcher'>): FetchSource {
  return new FetchSource({ query: { results: 5 }, intervalMs: 0, retry: fastRetry, ...over });
}

/** Drain a source like a lockstep sink that acks each envelope at once. */
async function drain(src: FetchSource, signal = new AbortController().signal): Promise<FetchedResponse[]> {
  const out: FetchedResponse[] = [];
  for await (const env of src.read(signal)) {
    out.push(env.payload);
    await env.ack();
  }
  return out;
}

test('--count: exactly n responses; acks count users as written', async () => {
  const { fetcher } = fakeFetcher();
  const c = counters();
  const src = source({ fetcher, count: 4, counters: c });
  const got = await drain(src);
  assert.equal(got.length, 4);
  assert.ok(got.every((r) => r.users === 5 && r.response.results.length === 5));
  assert.deepEqual([c.in, c.out, c.errors, c.retries], [20, 20, 0, 0]);
  assert.equal(src.summary.completed, true);
});

test('every response gets a unique, increasing fetch stamp', async () => {
  const { fetcher } = fakeFetcher();
  const got = await drain(source({ fetcher, count: 300 }));
  const keys = got.map((r) => r.fetchedAtMs * 100 + r.seq);
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual([...keys].sort((a, b) => a - b), keys);
});

test('--max-users: the last request asks only for what remains', async () => {
  const { fetcher, queries } = fakeFetcher();
  const got = await drain(source({ fetcher, query: { results: 50 }, maxUsers: 120 }));
  assert.deepEqual(queries.map((q) => q.results), [50, 50, 20]);
  assert.equal(got.reduce((n, r) => n + r.users, 0), 120);
});

test('retries: each retry logs exactly one line; the request then succeeds', async () => {
  const { fetcher, queries } = fakeFetcher([unavailable('HTTP 500'), new PipelineError('BAD_RESPONSE', 'truncated JSON'), 'ok']);
  const { log, lines, count } = capture();
  const c = counters();
  const got = await drain(source({ fetcher, count: 1, log, counters: c }));
  assert.equal(got.length, 1);
  assert.equal(queries.length, 3);
  assert.equal(count(/request failed, retrying/), 2, lines.join(''));
  assert.match(lines.find((l) => /retrying/.test(l)) ?? '', /attempt=1 of=3 retryIn=\d+ms code=UNAVAILABLE reason="HTTP 500"/);
  assert.equal(count(/ERROR/), 0);
  assert.equal(c.retries, 2);
});

test('a request failing every attempt is logged once with its reason, and polling goes on', async () => {
  const { fetcher, queries } = fakeFetcher([unavailable(), unavailable(), unavailable('HTTP 502')]);
  const { log, lines, count } = capture();
  const c = counters();
  const src = source({ fetcher, count: 2, log, counters: c });
  const got = await drain(src);
  assert.equal(got.length, 2, 'failed requests do not count towards --count');
  assert.equal(queries.length, 5);
  assert.equal(count(/ERROR .*request failed/), 1, lines.join(''));
  assert.match(lines.find((l) => /ERROR/.test(l)) ?? '', /request failed code=UNAVAILABLE reason="HTTP 502" attempts=3/);
  assert.equal(count(/retrying/), 2, 'the last attempt is not a retry');
  assert.equal(src.summary.failedRequests, 1);
  assert.equal(c.errors, 1);
});

test('a non-retryable failure is not retried', async () => {
  const { fetcher, queries } = fakeFetcher([new PipelineError('NOT_FOUND', 'HTTP 404')]);
  const { log, count } = capture();
  await drain(source({ fetcher, count: 1, log }));
  assert.equal(queries.length, 2);
  assert.equal(count(/retrying/), 0);
  assert.equal(count(/request failed code=NOT_FOUND/), 1);
});

test('--once: a failed request ends the source with failedRequests = 1', async () => {
  const { fetcher, queries } = fakeFetcher([unavailable(), unavailable(), unavailable()]);
  const src = source({ fetcher, once: true });
  assert.deepEqual(await drain(src), []);
  assert.equal(queries.length, 3);
  assert.equal(src.summary.failedRequests, 1);
  assert.equal(src.summary.completed, false);
});

test('--max-failures: gives up after n failed requests in a row', async () => {
  const { fetcher } = fakeFetcher(Array.from({ length: 100 }, () => unavailable()));
  const src = source({ fetcher, maxFailures: 2, retry: { ...fastRetry, maxAttempts: 1 } });
  await assert.rejects(drain(src), (e) => e instanceof PipelineError && /2 requests in a row failed/.test(e.message));
});

test('invalid users go to the quarantine with their reason; the valid ones go on', async () => {
  const bad = (q: PageQuery): RandomUserResponse => {
    const r = generateResponse({ seed: 'q', page: 1, results: q.results });
    (r.results[1] as Record<string, unknown>).location = { postcode: { nested: true } };
    (r.results[3] as Record<string, unknown>).nat = 'XX';
    return r;
  };
  const { fetcher } = fakeFetcher([bad]);
  const quarantined: QuarantineEntry[] = [];
  const quarantine = { append: async (e: readonly QuarantineEntry[]) => (quarantined.push(...e), '/q/fetch.ndjson') };
  const c = counters();
  const { log, count } = capture();
  const got = await drain(source({ fetcher, count: 1, quarantine, counters: c, log }));
  assert.equal(got[0]?.users, 3);
  assert.equal(got[0]?.response.results.length, 3);
  assert.deepEqual(quarantined.map((q) => q.index), [1, 3]);
  assert.match(quarantined[0]?.reason ?? '', /\/location\/postcode must be number or string/);
  assert.match(quarantined[1]?.reason ?? '', /\/nat must be one of/);
  assert.equal(quarantined[0]?.fetchedAt, new Date(got[0]?.fetchedAtMs ?? 0).toISOString());
  assert.deepEqual([c.in, c.out, c.errors], [5, 3, 2]);
  assert.equal(count(/invalid users quarantined count=2 of=5/), 1);
});

test('at most one response in flight: the next request waits for the previous ack', async () => {
  const { fetcher, queries } = fakeFetcher();
  const it = source({ fetcher, count: 3 }).read(new AbortController().signal);
  const first = (await it.next()).value as Envelope<FetchedResponse>;
  const second = it.next();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(queries.length, 1, 'no request while the first response is un-acked');
  await first.ack();
  const env2 = (await second).value as Envelope<FetchedResponse>;
  assert.equal(queries.length, 2);
  await env2.ack();
  await it.return(undefined);
});

test('a nack stops the source (the response was not written)', async () => {
  const { fetcher, queries } = fakeFetcher();
  const src = source({ fetcher, count: 10 });
  let n = 0;
  for await (const env of src.read(new AbortController().signal)) {
    n += 1;
    await env.ack(n === 2 ? new PipelineError('UNAVAILABLE', 'disk full', { retryable: false }) : undefined);
  }
  assert.equal(n, 2);
  assert.equal(queries.length, 2);
  assert.equal(src.summary.usersWritten, 5);
});

test('the stop signal ends the source promptly, during the pacing wait or a request', async () => {
  const { fetcher } = fakeFetcher([], 0);
  const stop = new AbortController();
  const src = source({ fetcher, intervalMs: 60_000 });
  const started = Date.now();
  setTimeout(() => stop.abort('SIGINT'), 50);
  const got = await drain(src, stop.signal);
  assert.equal(got.length, 1, 'the first request starts at once; the second waits for the interval');
  assert.ok(Date.now() - started < 1000);
  assert.equal(src.summary.completed, false);

  const slow = fakeFetcher([], 5000);
  const stop2 = new AbortController();
  setTimeout(() => stop2.abort('SIGINT'), 50);
  const t0 = Date.now();
  const slowSource = source({ fetcher: slow.fetcher });
  const none = await drain(slowSource, stop2.signal);
  assert.deepEqual(none, []);
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(slowSource.summary.failedRequests, 0, 'a request cancelled by the stop is not a failure');
});

test('--interval is between request starts, not from the end of one to the start of the next', async () => {
  const { fetcher, startedAt } = fakeFetcher([], 40);
  await drain(source({ fetcher, count: 4, intervalMs: 100 }));
  // On a fixed schedule from the first start (a late timer does not shift the later ones): i * 100 ms.
  const offsets = startedAt.map((t) => t - (startedAt[0] as number));
  offsets.forEach((o, i) => assert.ok(o >= i * 100 - 5 && o < i * 100 + 35, `starts at ${offsets.join(', ')} ms`));
});

test('seeded pages: from the cursor, recorded through beforePublish or the ack, in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'userpipe-src-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cursor = await PageCursor.open({ dataDir: dir, seed: 'sd', params: {}, startPage: 4, log: createLogger({ level: 'silent' }) });
  t.after(() => cursor.release());
  const { fetcher, queries } = fakeFetcher();
  const src = source({ fetcher, count: 3, pages: { seed: 'sd', cursor } });
  let n = 0;
  for await (const env of src.read(new AbortController().signal)) {
    n += 1;
    assert.equal(env.payload.page, 3 + n);
    assert.equal(typeof env.payload.beforePublish, 'function');
    // The first goes through beforePublish (a file sink), the others only through the ack (stdout).
    if (n === 1) await env.payload.beforePublish?.(join(dir, '.t'), join(dir, 't'));
    await env.ack();
    assert.equal(cursor.nextPage, 4 + n);
  }
  assert.deepEqual(queries.map((q) => [q.seed, q.page]), [['sd', 4], ['sd', 5], ['sd', 6]]);
  assert.equal(JSON.parse(readFileSync(cursor.path, 'utf8')).nextPage, 7);
});
