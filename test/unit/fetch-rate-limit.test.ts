import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../../src/core/errors.ts';
import { sleep } from '../../src/core/sleep.ts';
import { SlidingWindowLimiter } from '../../src/sources/rate-limit.ts';

/** A limiter on a fake clock whose sleeps advance the clock and are recorded. */
function fake(limit: number, windowMs: number) {
  let now = 1_000_000;
  const waits: number[] = [];
  const limiter = new SlidingWindowLimiter({
    limit,
    windowMs,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  });
  return { limiter, waits, advance: (ms: number) => (now += ms), now: () => now };
}

test('requests under the limit go at once', async () => {
  const { limiter, waits } = fake(100, 1000);
  for (let i = 0; i < 10; i++) await limiter.acquire(10);
  assert.deepEqual(waits, []);
  assert.equal(limiter.inWindow, 100);
});

test('a request that would cross the limit waits until enough old requests left the window', async () => {
  const { limiter, waits, advance } = fake(100, 1000);
  await limiter.acquire(60); // t=0
  advance(300);
  await limiter.acquire(40); // t=300
  advance(100);
  // 100 used; 30 more need the t=0 request (60) to leave: at t=1000, 600 ms from now.
  await limiter.acquire(30);
  assert.deepEqual(waits, [600]);
  assert.equal(limiter.inWindow, 70);
});

test('the window slides: the service default of 20,000 users per 5 minutes at 5,000 per request', async () => {
  const { limiter, waits, advance } = fake(20_000, 300_000);
  for (let i = 0; i < 4; i++) {
    await limiter.acquire(5000);
    advance(1000);
  }
  await limiter.acquire(5000);
  assert.deepEqual(waits, [296_000], 'the fifth request waits for the first to be 5 minutes old');
  // Never more than the limit inside any window.
  assert.ok(limiter.inWindow <= 20_000);
});

test('waitTime reports 0 when there is room and the time to wait otherwise', async () => {
  const { limiter, advance } = fake(10, 1000);
  assert.equal(limiter.waitTime(10), 0);
  await limiter.acquire(10);
  assert.equal(limiter.waitTime(1), 1000);
  advance(999);
  assert.equal(limiter.waitTime(1), 1);
  advance(1);
  assert.equal(limiter.waitTime(10), 0);
});

test('asking for more than the limit can never succeed: an error, not an endless wait', () => {
  const { limiter } = fake(10, 1000);
  assert.throws(() => limiter.waitTime(11), RangeError);
  assert.throws(() => limiter.waitTime(0), RangeError);
});

test('a wait is cancelled by the signal (ABORTED)', async () => {
  const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 60_000, sleep });
  await limiter.acquire(1);
  const ac = new AbortController();
  const p = limiter.acquire(1, ac.signal);
  setTimeout(() => ac.abort('stop'), 20);
  await assert.rejects(p, (e) => e instanceof PipelineError && e.code === 'ABORTED');
});

test('memory stays bounded: expired entries are dropped', async () => {
  const { limiter, advance } = fake(1000, 100);
  for (let i = 0; i < 50_000; i++) {
    await limiter.acquire(1);
    advance(1);
  }
  assert.ok(limiter.inWindow <= 100);
  // Internal log length: at most one window of requests plus the compaction slack.
  const log = (limiter as unknown as { log: unknown[]; head: number }).log;
  assert.ok(log.length < 2200, `log holds ${log.length} entries`);
});
