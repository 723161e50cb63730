import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { Checkpointer } from '../../src/core/checkpoint.ts';
import { PipelineError } from '../../src/core/errors.ts';

async function settledSoon(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await tick();
  return done;
}

const isAborted = (e: unknown): boolean => e instanceof PipelineError && e.code === 'ABORTED';

void test('Checkpointer: capacity must be >= 1', () => {
  assert.throws(() => new Checkpointer(0), RangeError);
  assert.throws(() => new Checkpointer(Number.NaN), RangeError);
});

void test('Checkpointer: highest advances only over a contiguous prefix of resolved positions', () => {
  const cp = new Checkpointer<number>(10);
  const r = [100, 101, 102, 103, 104].map((p) => cp.trackNow(p));
  assert.equal(cp.highest, undefined);
  assert.equal(cp.pending, 5);
  assert.equal(r[2]?.(), undefined, '102 resolved but 100 and 101 are in flight');
  assert.equal(cp.highest, undefined);
  assert.equal(r[0]?.(), 100);
  assert.equal(r[4]?.(), 100, '104 resolved but 101 and 103 are in flight');
  assert.equal(cp.pending, 4);
  assert.equal(r[1]?.(), 102, 'jumps over the already resolved 102');
  assert.equal(cp.pending, 2);
  assert.equal(r[3]?.(), 104);
  assert.equal(cp.highest, 104);
  assert.equal(cp.pending, 0);
});

void test('Checkpointer: random resolution order never passes an unresolved position', () => {
  const cp = new Checkpointer<number>(1000);
  const n = 500;
  const resolvers = Array.from({ length: n }, (_, i) => cp.trackNow(i));
  const order = Array.from({ length: n }, (_, i) => i);
  let seed = 42;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const resolved = new Set<number>();
  for (const i of order) {
    const h = resolvers[i]?.();
    resolved.add(i);
    let expected = -1;
    while (resolved.has(expected + 1)) expected += 1;
    assert.equal(h, expected === -1 ? undefined : expected);
  }
  assert.equal(cp.highest, n - 1);
});

void test('Checkpointer: resolving twice throws', () => {
  const cp = new Checkpointer<string>(2);
  const r = cp.trackNow('a');
  r();
  assert.throws(() => r(), /twice/);
  assert.equal(cp.highest, 'a');
});

void test('Checkpointer: track() waits at capacity and resumes when the oldest resolves', { timeout: 10_000 }, async () => {
  const cp = new Checkpointer<number>(2);
  const r0 = await cp.track(0);
  const r1 = await cp.track(1);
  const third = cp.track(2);
  assert.equal(await settledSoon(third), false, 'full');
  r1();
  assert.equal(await settledSoon(third), false, 'resolving a later one frees no room: the window is still 0..1');
  r0();
  assert.equal(await settledSoon(third), true);
  const r2 = await third;
  assert.equal(cp.pending, 1);
  assert.equal(r2(), 2);
});

void test('Checkpointer: many waiting trackers never exceed capacity', { timeout: 10_000 }, async () => {
  const cp = new Checkpointer<number>(3);
  let maxPending = 0;
  let next = 0;
  const workers = Array.from({ length: 5 }, async () => {
    for (let k = 0; k < 40; k++) {
      const resolve = await cp.track(next++);
      maxPending = Math.max(maxPending, cp.pending);
      await tick();
      resolve();
    }
  });
  await Promise.all(workers);
  assert.ok(maxPending <= 3, `pending reached ${maxPending}`);
  assert.equal(cp.pending, 0);
  assert.equal(cp.highest, 199);
});

void test('regression: a waiting Checkpointer.track() is cancelled with an ABORTED PipelineError, not the raw reason', { timeout: 10_000 }, async () => {
  const cp = new Checkpointer<number>(1);
  await cp.track(0);
  const ac = new AbortController();
  const waiting = cp.track(1, ac.signal);
  assert.equal(await settledSoon(waiting), false);
  ac.abort('stop'); // Lifecycle aborts with a string reason
  await assert.rejects(waiting, isAborted);
  assert.equal(cp.pending, 1, 'nothing tracked');
  await assert.rejects(cp.track(2, ac.signal), isAborted, 'already fired');
});

void test('Checkpointer: storage stays bounded over many positions', { timeout: 10_000 }, async () => {
  const cp = new Checkpointer<number>(16);
  let maxLen = 0;
  for (let i = 0; i < 20_000; i++) {
    const r = await cp.track(i);
    r();
    maxLen = Math.max(maxLen, (cp as unknown as { entries: unknown[] }).entries.length);
  }
  assert.equal(cp.highest, 19_999);
  assert.ok(maxLen <= 1024 + 16 + 1, `entries reached ${maxLen}`);
});
