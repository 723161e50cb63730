import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { batch } from '../../src/core/batch.ts';
import { Channel } from '../../src/core/channel.ts';
import { AckTracker, envelope, nack, noopAck, onceAck, splitAck, type Ack, type Envelope } from '../../src/core/envelope.ts';
import { PipelineError } from '../../src/core/errors.ts';
import { Lifecycle, runAll } from '../../src/core/lifecycle.ts';
import { sleep } from '../../src/core/sleep.ts';

/** An Ack that records every settle (and does not guard against a second one: the code under test must). */
function spyAck(): { ack: Ack; calls: Array<PipelineError | undefined> } {
  const calls: Array<PipelineError | undefined> = [];
  return {
    calls,
    ack: async (error) => {
      calls.push(error);
    },
  };
}

const isTwice = (e: unknown): boolean => e instanceof PipelineError && e.code === 'INTERNAL' && /twice/.test(e.message);

void test('envelope: carries payload, meta and ack', () => {
  const e = envelope({ id: 1 }, noopAck, { offset: 5 });
  assert.deepEqual(e.payload, { id: 1 });
  assert.deepEqual(e.meta, { offset: 5 });
  assert.equal(e.ack, noopAck);
  assert.deepEqual(envelope(1, noopAck).meta, {});
});

void test('onceAck: settles once, passes the error, throws on a second settle', { timeout: 10_000 }, async () => {
  const seen: Array<PipelineError | undefined> = [];
  const ack = onceAck((e) => {
    seen.push(e);
  });
  const err = new PipelineError('REJECTED', 'bad');
  await ack(err);
  await assert.rejects(ack(), isTwice);
  await assert.rejects(ack(err), isTwice);
  assert.deepEqual(seen, [err]);
});

void test('onceAck: a settle that fails still counts as settled', { timeout: 10_000 }, async () => {
  let calls = 0;
  const ack = onceAck(async () => {
    calls += 1;
    throw new Error('commit failed');
  });
  await assert.rejects(ack(), /commit failed/);
  await assert.rejects(ack(), isTwice);
  assert.equal(calls, 1);
});

void test('splitAck: the parent settles once, after the last child, successfully when all succeeded', { timeout: 10_000 }, async () => {
  const parent = spyAck();
  const children = splitAck(parent.ack, 3);
  assert.equal(children.length, 3);
  await children[2]?.();
  await children[0]?.();
  assert.deepEqual(parent.calls, [], 'not before all children settled');
  await children[1]?.();
  assert.deepEqual(parent.calls, [undefined]);
});

void test('splitAck: the parent gets the first error', { timeout: 10_000 }, async () => {
  const parent = spyAck();
  const [a, b, c, d] = splitAck(parent.ack, 4);
  const e1 = new PipelineError('REJECTED', 'first');
  const e2 = new PipelineError('UNAVAILABLE', 'second');
  await a?.();
  await b?.(e1);
  await c?.(e2);
  assert.deepEqual(parent.calls, []);
  await d?.();
  assert.equal(parent.calls.length, 1);
  assert.equal(parent.calls[0], e1);
});

void test('splitAck: a child settled twice throws and does not settle the parent early', { timeout: 10_000 }, async () => {
  const parent = spyAck();
  const [a, b] = splitAck(parent.ack, 2);
  await a?.();
  await assert.rejects(a?.() ?? Promise.resolve(), isTwice);
  assert.deepEqual(parent.calls, [], 'a double settle of one child must not count as the other');
  await b?.();
  assert.deepEqual(parent.calls, [undefined]);
});

void test('regression: splitAck with n = 0 used to settle the parent itself and swallow its error; now it refuses', () => {
  const parent = spyAck();
  assert.throws(() => splitAck(parent.ack, 0), RangeError);
  assert.deepEqual(parent.calls, [], 'the caller settles a parent without children (and sees its error)');
});

void test('nack: settles with a classified error', { timeout: 10_000 }, async () => {
  const a = spyAck();
  await nack(a.ack, Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
  await nack(a.ack, new Error('bug'));
  assert.equal(a.calls[0]?.code, 'NETWORK');
  assert.equal(a.calls[1]?.code, 'INTERNAL');
});

void test('AckTracker: counts outstanding, acked, nacked and forwards the settle', { timeout: 10_000 }, async () => {
  const tracker = new AckTracker();
  const inner = spyAck();
  const acks = Array.from({ length: 5 }, () => tracker.track(inner.ack));
  assert.equal(tracker.outstanding, 5);
  const err = new PipelineError('REJECTED', 'x');
  await acks[0]?.();
  await acks[1]?.(err);
  await acks[4]?.();
  assert.equal(tracker.outstanding, 2);
  assert.equal(tracker.acked, 2);
  assert.equal(tracker.nacked, 1);
  assert.deepEqual(inner.calls, [undefined, err, undefined]);
  await assert.rejects(acks[0]?.() ?? Promise.resolve(), isTwice);
  assert.equal(tracker.outstanding, 2, 'a double settle is not counted');
  assert.equal(tracker.acked, 2);
});

/** A deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

void test('invariant: no ack left outstanding after a run with a soft stop mid-way', { timeout: 10_000 }, async () => {
  let totalWriteFailures = 0;
  let totalAbortedSends = 0;
  for (const seed of [11, 12, 13]) {
    const rnd = prng(seed);
    const tracker = new AckTracker();
    const lc = new Lifecycle({ drainTimeoutMs: 10_000 });
    const ch = new Channel<Envelope<number>>(4);
    const upstream = new Map<number, 'ok' | 'err'>(); // what the source was told, per record
    const durable: number[] = [];
    let produced = 0;

    const source = async (life: Lifecycle): Promise<void> => {
      try {
        for (let i = 0; !life.stop.aborted; i++) {
          const ack = onceAck((error) => {
            assert.equal(upstream.has(i), false, `record ${i} settled upstream twice`);
            upstream.set(i, error ? 'err' : 'ok');
          });
          const env = envelope(i, tracker.track(ack), { offset: i });
          produced += 1;
          try {
            await ch.send(env, life.stop); // a stop while blocked on a full channel rejects the send
          } catch (err) {
            totalAbortedSends += 1;
            await nack(env.ack, err);
            break;
          }
          if (rnd() < 0.3) await tick();
        }
      } finally {
        ch.close(); // soft stop of the edge: the sink drains what was queued
      }
    };

    const sink = async (life: Lifecycle): Promise<void> => {
      for await (const b of batch(ch, { maxCount: 7, maxWaitMs: 3 })) {
        await sleep(rnd() < 0.5 ? 1 : 0); // the simulated durable write
        if (rnd() < 0.15) {
          totalWriteFailures += 1;
          const e = new PipelineError('UNAVAILABLE', 'write failed');
          for (const env of b) await env.ack(e);
          continue;
        }
        durable.push(...b.map((env) => env.payload));
        for (const env of b) await env.ack();
        if (durable.length >= 40) life.softStop('mid-way');
      }
    };

    await runAll([source, sink], lc);
    lc.dispose();

    assert.equal(lc.stop.aborted, true, `seed ${seed}: the soft stop happened`);
    assert.equal(lc.abort.aborted, false, `seed ${seed}: the drain finished without escalation`);
    assert.ok(produced > 40, `seed ${seed}: stopped mid-way after ${produced}`);
    assert.equal(tracker.outstanding, 0, `seed ${seed}: acks left outstanding`);
    assert.equal(tracker.acked + tracker.nacked, produced, `seed ${seed}`);
    assert.equal(tracker.acked, durable.length, `seed ${seed}: acked = durably written`);
    assert.equal(upstream.size, produced, `seed ${seed}: every record settled upstream once`);
    assert.equal(new Set(durable).size, durable.length, `seed ${seed}: no record written twice`);
  }
  // Both nack paths were exercised: a failed write, and a send cut short by the stop.
  assert.ok(totalWriteFailures > 0, 'no write failed');
  assert.ok(totalAbortedSends > 0, 'no send was aborted by the stop');
});
