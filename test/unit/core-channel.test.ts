import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { Channel } from '../../src/core/channel.ts';
import { PipelineError } from '../../src/core/errors.ts';

/** Whether a promise settled within a few event-loop turns (no wall-clock involved). */
async function settledSoon(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await tick();
  return done;
}

const storageLength = (ch: Channel<unknown>): number => (ch as unknown as { items: unknown[] }).items.length;
const isAborted = (e: unknown): boolean => e instanceof PipelineError && e.code === 'ABORTED';

async function collect<T>(ch: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of ch) out.push(x);
  return out;
}

void test('Channel: capacity must be an integer >= 1', () => {
  for (const c of [0, -1, 1.5, Number.NaN, Infinity]) assert.throws(() => new Channel(c), RangeError, String(c));
  assert.equal(new Channel(3).capacity, 3);
});

void test('Channel: FIFO order, close drains then ends iteration', { timeout: 10_000 }, async () => {
  const ch = new Channel<number>(5);
  for (let i = 0; i < 5; i++) await ch.send(i);
  assert.equal(ch.size, 5);
  ch.close();
  assert.equal(ch.isClosed, true);
  assert.deepEqual(await collect(ch), [0, 1, 2, 3, 4]);
  assert.equal(ch.size, 0);
});

void test('Channel: a waiting consumer is woken by send and by close', { timeout: 10_000 }, async () => {
  const ch = new Channel<string>(2);
  const got = collect(ch);
  await tick();
  await ch.send('a');
  await tick();
  await ch.send('b');
  assert.equal(await settledSoon(got), false, 'iteration still open');
  ch.close();
  assert.deepEqual(await got, ['a', 'b']);
});

void test('Channel: send waits while full and resumes when the consumer takes one', { timeout: 10_000 }, async () => {
  const ch = new Channel<number>(2);
  await ch.send(1);
  await ch.send(2);
  const third = ch.send(3);
  assert.equal(await settledSoon(third), false, 'third send blocks on a full channel');
  assert.equal(ch.size, 2);
  const it = ch[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 1, done: false });
  assert.equal(await settledSoon(third), true);
  assert.equal(ch.size, 2);
  ch.close();
  assert.deepEqual(await it.next(), { value: 2, done: false });
  assert.deepEqual(await it.next(), { value: 3, done: false });
  assert.equal((await it.next()).done, true);
});

void test('Channel: 10 items into capacity 2 with a slow consumer: never more than 2 queued', { timeout: 10_000 }, async () => {
  const ch = new Channel<number>(2);
  let maxSize = 0;
  let sent = 0;
  const producer = (async () => {
    for (let i = 0; i < 10; i++) {
      await ch.send(i);
      sent += 1;
      maxSize = Math.max(maxSize, ch.size);
    }
    ch.close();
  })();
  const got: number[] = [];
  let maxAhead = 0;
  for await (const x of ch) {
    maxSize = Math.max(maxSize, ch.size);
    got.push(x);
    // The producer can be at most capacity items ahead of what the consumer took.
    maxAhead = Math.max(maxAhead, sent - got.length);
    for (let i = 0; i < 3; i++) await tick(); // slow consumer
  }
  await producer;
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(maxSize <= 2, `max queued ${maxSize}`);
  assert.equal(maxSize, 2, 'the producer did fill the channel');
  assert.ok(maxAhead <= 2, `producer ran ${maxAhead} ahead`);
});

void test('Channel: send after close rejects and does not enqueue', { timeout: 10_000 }, async () => {
  const ch = new Channel<number>(4);
  await ch.send(1);
  ch.close();
  ch.close(); // idempotent
  await assert.rejects(ch.send(2), /closed/);
  assert.equal(ch.size, 1);
  assert.deepEqual(await collect(ch), [1]);
});

void test('Channel: close rejects blocked senders; what was queued is still delivered', { timeout: 10_000 }, async () => {
  const ch = new Channel<number>(1);
  await ch.send(1);
  const blocked = [ch.send(2), ch.send(3)];
  assert.equal(await settledSoon(Promise.any(blocked)), false);
  ch.close();
  for (const p of blocked) await assert.rejects(p, /closed/);
  assert.deepEqual(await collect(ch), [1]);
});

void test('Channel: a send aborted by its signal rejects ABORTED, does not enqueue, leaves no listener', { timeout: 10_000 }, async () => {
  const ch = new Channel<string>(1);
  await ch.send('first');
  const ac = new AbortController();
  const aborted = ch.send('never', ac.signal);
  const other = ch.send('second'); // waits behind it, without a signal
  assert.equal(await settledSoon(aborted), false);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  ac.abort('shutdown');
  await assert.rejects(aborted, (e: unknown) => isAborted(e) && (e as PipelineError).cause === 'shutdown');
  assert.equal(ch.size, 1);
  // The aborted waiter must not swallow the wake-up meant for the next sender.
  const it = ch[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 'first', done: false });
  assert.equal(await settledSoon(other), true, 'the other blocked sender got the free slot');
  ch.close();
  assert.deepEqual(await it.next(), { value: 'second', done: false });
  assert.equal((await it.next()).done, true);
});

void test('Channel: a send with an already-fired signal on a full channel rejects at once', { timeout: 10_000 }, async () => {
  const ch = new Channel<number>(1);
  await ch.send(1);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(ch.send(2, ac.signal), isAborted);
  assert.equal(ch.size, 1);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});

void test('Channel: a signal that never fires leaves no listener behind after the send completes', { timeout: 10_000 }, async () => {
  const ch = new Channel<number>(1);
  const ac = new AbortController();
  await ch.send(1);
  const p = ch.send(2, ac.signal);
  const it = ch[Symbol.asyncIterator]();
  await it.next();
  await p;
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});

void test('Channel: many producers, every item exactly once, per-producer order kept, bound respected', { timeout: 10_000 }, async () => {
  const ch = new Channel<{ p: number; i: number }>(4);
  const producers = 8;
  const perProducer = 500;
  let maxSize = 0;
  const running = Array.from({ length: producers }, async (_, p) => {
    for (let i = 0; i < perProducer; i++) {
      await ch.send({ p, i });
      maxSize = Math.max(maxSize, ch.size);
      if (i % 7 === p % 7) await tick();
    }
  });
  const done = Promise.all(running).then(() => ch.close());
  const next = new Array<number>(producers).fill(0);
  let total = 0;
  for await (const { p, i } of ch) {
    assert.equal(i, next[p], `producer ${p} out of order`);
    next[p] = i + 1;
    total += 1;
    if (total % 3 === 0) await tick();
  }
  await done;
  assert.equal(total, producers * perProducer);
  assert.ok(maxSize <= 4, `max queued ${maxSize}`);
});

void test('Channel: 1e5 items pass through with internal storage bounded', { timeout: 10_000 }, async () => {
  const capacity = 8;
  const n = 100_000;
  const ch = new Channel<number>(capacity);
  let maxStorage = 0;
  const producer = (async () => {
    for (let i = 0; i < n; i++) {
      await ch.send(i);
      maxStorage = Math.max(maxStorage, storageLength(ch));
    }
    ch.close();
  })();
  let expected = 0;
  for await (const x of ch) {
    if (x !== expected) assert.fail(`expected ${expected}, got ${x}`);
    expected += 1;
    maxStorage = Math.max(maxStorage, storageLength(ch));
  }
  await producer;
  assert.equal(expected, n);
  // The backing array is compacted once more than 1024 slots were consumed: it never grows with volume.
  assert.ok(maxStorage <= 1024 + 2 * capacity + 1, `backing array reached ${maxStorage}`);
});
