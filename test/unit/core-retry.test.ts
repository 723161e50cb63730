import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../../src/core/errors.ts';
import {
  backoffDelay,
  httpStatusError,
  parseRetryAfter,
  retry,
  type RetryInfo,
  type RetryOptions,
} from '../../src/core/retry.ts';

const unavailable = (msg = 'down', retryAfterMs?: number): PipelineError =>
  new PipelineError('UNAVAILABLE', msg, retryAfterMs === undefined ? {} : { retryAfterMs });

const isAborted = (e: unknown): boolean => e instanceof PipelineError && e.code === 'ABORTED';

/** Run retry with a failing fn and collect attempts and onRetry infos. */
async function runFailing(
  makeError: (attempt: number) => unknown,
  options: Partial<RetryOptions> & { maxAttempts: number },
): Promise<{ attempts: number; infos: RetryInfo[]; error: unknown }> {
  let attempts = 0;
  const infos: RetryInfo[] = [];
  try {
    await retry(
      async ({ attempt }) => {
        attempts += 1;
        assert.equal(attempt, attempts, 'ctx.attempt counts from 1');
        throw makeError(attempt);
      },
      { random: () => 0, onRetry: (i) => infos.push(i), ...options },
    );
  } catch (error) {
    return { attempts, infos, error };
  }
  throw new Error('retry did not reject');
}

void test('retry: returns the value of the first successful attempt', { timeout: 10_000 }, async () => {
  let n = 0;
  const v = await retry(
    async () => {
      n += 1;
      if (n < 3) throw unavailable();
      return 'ok';
    },
    { maxAttempts: 5, random: () => 0 },
  );
  assert.equal(v, 'ok');
  assert.equal(n, 3);
});

void test('retry: a retryable PipelineError is retried up to maxAttempts, then the last error is thrown', { timeout: 10_000 }, async () => {
  const errors: PipelineError[] = [];
  const r = await runFailing(
    (a) => {
      const e = unavailable(`attempt ${a}`);
      errors.push(e);
      return e;
    },
    { maxAttempts: 4 },
  );
  assert.equal(r.attempts, 4);
  assert.equal(r.error, errors[3]);
  assert.deepEqual(
    r.infos.map((i) => i.attempt),
    [1, 2, 3],
  );
  assert.equal(r.infos[0]?.error, errors[0]);
});

void test('retry: maxAttempts 1 means no retry', { timeout: 10_000 }, async () => {
  const r = await runFailing(() => unavailable(), { maxAttempts: 1 });
  assert.equal(r.attempts, 1);
  assert.equal(r.infos.length, 0);
});

void test('retry: a non-retryable PipelineError is not retried', { timeout: 10_000 }, async () => {
  const e = new PipelineError('AUTH', 'forbidden');
  const r = await runFailing(() => e, { maxAttempts: 5 });
  assert.equal(r.attempts, 1);
  assert.equal(r.error, e);
  const r2 = await runFailing(() => new PipelineError('UNAVAILABLE', 'x', { retryable: false }), { maxAttempts: 5 });
  assert.equal(r2.attempts, 1);
});

void test('retry: an unknown Error is not retried (a bug stays loud)', { timeout: 10_000 }, async () => {
  const e = new TypeError('cannot read properties of undefined');
  const r = await runFailing(() => e, { maxAttempts: 5 });
  assert.equal(r.attempts, 1);
  assert.equal(r.error, e);
});

void test('retry: a retryable syscall error is retried and reported to onRetry as NETWORK', { timeout: 10_000 }, async () => {
  const r = await runFailing(() => Object.assign(new Error('reset'), { code: 'ECONNRESET' }), { maxAttempts: 2 });
  assert.equal(r.attempts, 2);
  assert.equal(r.infos[0]?.error.code, 'NETWORK');
  assert.equal((r.error as { code?: string }).code, 'ECONNRESET', 'the raw error is rethrown at the end');
});

void test('retry: honours retryAfterMs (delay >= it), capped by maxDelayMs', { timeout: 10_000 }, async () => {
  // Abort inside onRetry so that the computed delay is observed without being slept.
  const observe = async (retryAfterMs: number, opts: Partial<RetryOptions>): Promise<number> => {
    const ac = new AbortController();
    let delay = -1;
    await assert.rejects(
      retry(
        async () => {
          throw unavailable('busy', retryAfterMs);
        },
        {
          maxAttempts: 3,
          signal: ac.signal,
          onRetry: (i) => {
            delay = i.delayMs;
            ac.abort();
          },
          ...opts,
        },
      ),
      isAborted,
    );
    return delay;
  };
  assert.equal(await observe(3000, { random: () => 0, baseDelayMs: 10, maxDelayMs: 10_000 }), 3000);
  assert.equal(await observe(3000, { random: () => 0.5, baseDelayMs: 10, maxDelayMs: 10_000 }), 3000);
  assert.equal(await observe(60_000, { random: () => 0, baseDelayMs: 10, maxDelayMs: 2000 }), 2000, 'capped');
  // A jittered backoff larger than Retry-After wins: Retry-After is a lower bound.
  assert.equal(await observe(5, { random: () => 0.5, baseDelayMs: 1000, maxDelayMs: 10_000 }), 500);
});

void test('retry: full jitter, delay in [0, ceiling) with the ceiling doubling up to maxDelayMs', { timeout: 10_000 }, async () => {
  const r = await runFailing(() => unavailable(), {
    maxAttempts: 7,
    baseDelayMs: 2,
    maxDelayMs: 20,
    random: () => 0.999999,
  });
  // ceilings 2, 4, 8, 16, 20, 20 -> floor(0.999999 * c) = c - 1
  assert.deepEqual(
    r.infos.map((i) => i.delayMs),
    [1, 3, 7, 15, 19, 19],
  );
  const zero = await runFailing(() => unavailable(), { maxAttempts: 4, baseDelayMs: 1000, random: () => 0 });
  assert.deepEqual(
    zero.infos.map((i) => i.delayMs),
    [0, 0, 0],
  );
});

void test('backoffDelay: always an integer in [0, ceiling) with Math.random', () => {
  for (let i = 0; i < 10_000; i++) {
    const attempt = 1 + (i % 8);
    const ceiling = Math.min(1000, 100 * 2 ** (attempt - 1));
    const d = backoffDelay(attempt, 100, 1000, Math.random);
    assert.ok(Number.isInteger(d) && d >= 0 && d < ceiling, `attempt ${attempt}: ${d}`);
  }
  assert.equal(backoffDelay(0, 100, 1000, () => 0.5), 50, 'attempt < 1 uses the base ceiling');
  assert.equal(backoffDelay(60, 100, 1000, () => 0.5), 500, 'huge attempt stays capped');
});

void test('retry: maxElapsedMs bounds the total time (injected clock)', { timeout: 10_000 }, async () => {
  let clock = 1_000_000;
  let attempts = 0;
  const last = unavailable('last');
  await assert.rejects(
    retry(
      async () => {
        attempts += 1;
        clock += 100; // each attempt takes 100 ms of fake time
        throw attempts === 3 ? last : unavailable();
      },
      { maxAttempts: 100, maxElapsedMs: 250, random: () => 0, now: () => clock },
    ),
    (e) => e === last,
  );
  assert.equal(attempts, 3, 'attempt 3 ends at +300 ms > 250 ms: no 4th attempt');
});

void test('retry: maxElapsedMs counts the coming delay (no wait that would cross the bound)', { timeout: 10_000 }, async () => {
  const r = await runFailing(() => unavailable(), {
    maxAttempts: 10,
    maxElapsedMs: 400,
    baseDelayMs: 1000,
    random: () => 0.5, // first delay 500 ms > 400 ms
    now: () => 0,
  });
  assert.equal(r.attempts, 1);
  assert.equal(r.infos.length, 0);
});

void test('retry: bail() stops at once with the given error, even a retryable one', { timeout: 10_000 }, async () => {
  let attempts = 0;
  const final = unavailable('give up');
  await assert.rejects(
    retry(
      async ({ attempt, bail }) => {
        attempts += 1;
        if (attempt === 2) bail(final);
        throw unavailable();
      },
      { maxAttempts: 10, random: () => 0 },
    ),
    (e) => e === final,
  );
  assert.equal(attempts, 2);
});

void test('retry: an abort during the wait rejects with ABORTED at once', { timeout: 10_000 }, async () => {
  const ac = new AbortController();
  let attempts = 0;
  const t0 = performance.now();
  const p = retry(
    async () => {
      attempts += 1;
      throw unavailable();
    },
    {
      maxAttempts: 10,
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      random: () => 0.5, // 30 s wait
      signal: ac.signal,
      onRetry: () => setTimeout(() => ac.abort('shutdown'), 5),
    },
  );
  await assert.rejects(p, isAborted);
  assert.equal(attempts, 1);
  assert.ok(performance.now() - t0 < 5000, 'did not sleep the backoff');
});

void test('retry: a failure after the signal fired is not retried and is ABORTED when unclassified', { timeout: 10_000 }, async () => {
  const ac = new AbortController();
  let attempts = 0;
  await assert.rejects(
    retry(
      async () => {
        attempts += 1;
        ac.abort();
        throw new Error('request cancelled');
      },
      { maxAttempts: 5, signal: ac.signal, random: () => 0 },
    ),
    isAborted,
  );
  assert.equal(attempts, 1);
});

void test('regression: retry with an already-fired signal rejects with an ABORTED PipelineError, not the raw reason', { timeout: 10_000 }, async () => {
  const ac = new AbortController();
  ac.abort('stop'); // Lifecycle.softStop() aborts with the string 'stop'
  let called = false;
  await assert.rejects(
    retry(
      async () => {
        called = true;
      },
      { maxAttempts: 3, signal: ac.signal },
    ),
    isAborted,
  );
  assert.equal(called, false);
});

void test('retry: maxAttempts < 1 is a RangeError', { timeout: 10_000 }, async () => {
  await assert.rejects(retry(async () => 1, { maxAttempts: 0 }), RangeError);
  await assert.rejects(retry(async () => 1, { maxAttempts: Number.NaN }), RangeError);
});

void test('parseRetryAfter: delta-seconds, integer and fractional', () => {
  assert.equal(parseRetryAfter('120'), 120_000);
  assert.equal(parseRetryAfter('0'), 0);
  assert.equal(parseRetryAfter('1.5'), 1500);
  assert.equal(parseRetryAfter(' 3 '), 3000);
  assert.equal(parseRetryAfter(['2', '7']), 2000, 'first header value');
});

void test('parseRetryAfter: HTTP dates, past -> 0, future -> delta', () => {
  const now = Date.parse('2015-10-21T07:28:00Z');
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  assert.equal(parseRetryAfter('Wednesday, 21-Oct-15 07:28:10 GMT', now), 10_000, 'obsolete RFC 850 form');
  const future = new Date(Date.now() + 60_000).toUTCString();
  const ms = parseRetryAfter(future);
  assert.ok(ms !== undefined && ms > 55_000 && ms <= 60_000, String(ms));
});

void test('parseRetryAfter: missing or garbage -> undefined', () => {
  for (const v of [undefined, '', '   ', 'soon', '10s', '1e3', 'Infinity', []]) {
    assert.equal(parseRetryAfter(v as string | string[] | undefined), undefined, JSON.stringify(v));
  }
});

void test('regression: parseRetryAfter rejects text that V8 Date.parse accepts but is no HTTP date', () => {
  // Date.parse('in 2030') is a date in 2030 (a years-long wait, capped only by maxDelayMs); '-5' is year -5.
  for (const v of ['in 2030', 'soon 2030', '-5', '1.5.2', 'abc 2']) {
    assert.equal(parseRetryAfter(v), undefined, v);
  }
});

void test('httpStatusError: status mapping', () => {
  const cases: Array<[number, string, boolean]> = [
    [400, 'REJECTED', false],
    [401, 'AUTH', false],
    [403, 'AUTH', false],
    [404, 'NOT_FOUND', false],
    [408, 'TIMEOUT', true],
    [413, 'REJECTED', false],
    [422, 'REJECTED', false],
    [429, 'RATE_LIMITED', true],
    [500, 'UNAVAILABLE', true],
    [503, 'UNAVAILABLE', true],
  ];
  for (const [status, code, retryable] of cases) {
    const e = httpStatusError(status, `HTTP ${status}`, { details: { path: '/x' } });
    assert.equal(e.code, code, String(status));
    assert.equal(e.retryable, retryable, String(status));
    assert.deepEqual(e.details, { status, path: '/x' });
    assert.equal(e.message, `HTTP ${status}`);
  }
});

void test('httpStatusError: Retry-After kept for 429 and 5xx only', () => {
  assert.equal(httpStatusError(429, 'x', { retryAfter: '7' }).retryAfterMs, 7000);
  assert.equal(httpStatusError(503, 'x', { retryAfter: '2' }).retryAfterMs, 2000);
  assert.equal(httpStatusError(429, 'x').retryAfterMs, undefined);
  assert.equal(httpStatusError(400, 'x', { retryAfter: '7' }).retryAfterMs, undefined);
  const cause = new Error('body');
  assert.equal(httpStatusError(500, 'x', { cause }).cause, cause);
});
