import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { PipelineError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { LogRecord } from '../../src/clients/message-log.ts';
import { LogSource } from '../../src/sources/log-source.ts';

async function setup(n: number) {
  const log = new MemoryLog({ groups: { t: ['g'] }, capacity: 1000 });
  const producer = await log.producer();
  const durable = producer.send('t', Array.from({ length: n }, (_, i) => ({ value: `v${i}` })));
  durable.catch(() => {});
  return { log, durable };
}

/** Reads in the background: 4 records arrive, the fifth only once the first is acked; then stops and finishes. */
async function expectBoundOfFour(source: LogSource, why: string): Promise<void> {
  const stop = new AbortController();
  const held: Envelope<LogRecord>[] = [];
  const reading = (async () => {
    for await (const env of source.read(stop.signal)) held.push(env);
  })();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(held.length, 4, why);
  await held[0]?.ack();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(held.length, 5);
  stop.abort();
  await reading;
  for (const e of held.slice(1)) await e.ack();
  await source.finish();
}

test('log source: commits only the contiguous prefix of acked records, whatever the ack order', async () => {
  const { log } = await setup(5);
  const consumer = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  const source = new LogSource({ consumer, maxInFlight: 10, commitIntervalMs: 60_000, log: silentLogger, stopAt: await log.endOffsets('t') });
  const stop = new AbortController();
  const envs: Envelope<LogRecord>[] = [];
  for await (const env of source.read(stop.signal)) envs.push(env);
  assert.equal(envs.length, 5, '--once ends at the end offsets seen at start');
  await envs[0]?.ack();
  await envs[1]?.ack();
  await envs[3]?.ack();
  await source.commit();
  assert.equal(source.committedOffsets().get(0), 2n, 'offset 2 is not acked: commit stops before it');
  await envs[2]?.ack();
  await envs[4]?.ack();
  await source.finish();
  assert.equal(source.committedOffsets().get(0), 5n);
});

test('log source: in-flight records are bounded per partition', async () => {
  const { log } = await setup(20);
  const consumer = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  const source = new LogSource({ consumer, maxInFlight: 4, commitIntervalMs: 60_000, log: silentLogger });
  await expectBoundOfFour(source, 'the fifth record waits until one of the first four is acked');
  assert.equal(source.committedOffsets().get(0), 5n);
});

test('log source: a nack stops reading and fails finish() after committing what was acked', async () => {
  const { log } = await setup(3);
  const consumer = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  const source = new LogSource({ consumer, maxInFlight: 10, commitIntervalMs: 60_000, log: silentLogger });
  const stop = new AbortController();
  let n = 0;
  for await (const env of source.read(stop.signal)) {
    n += 1;
    if (n === 1) await env.ack();
    else await env.ack(new PipelineError('AUTH', 'token rejected'));
  }
  assert.equal(n, 2, 'reading stops after the nack');
  await assert.rejects(source.finish(), /token rejected/);
  assert.equal(source.committedOffsets().get(0), 1n);
});

test('regression: after one failed commit, later commits still run', async () => {
  const { log } = await setup(3);
  const consumer = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  let fail = true;
  const flaky = Object.assign(Object.create(consumer) as typeof consumer, {
    [Symbol.asyncIterator]: () => consumer[Symbol.asyncIterator](),
    commit: async (offsets: Parameters<typeof consumer.commit>[0]) => {
      if (fail) throw new PipelineError('NETWORK', 'broker down');
      return consumer.commit(offsets);
    },
  });
  const source = new LogSource({ consumer: flaky, maxInFlight: 10, commitIntervalMs: 60_000, log: silentLogger, stopAt: await log.endOffsets('t') });
  for await (const env of source.read(new AbortController().signal)) await env.ack();
  await assert.rejects(source.commit(), /broker down/);
  fail = false;
  await source.commit();
  assert.equal(source.committedOffsets().get(0), 3n);
  await source.finish();
});

test('log source: maxInFlightTotal bounds the records held over all partitions', async () => {
  const log = new MemoryLog({ groups: { t: ['g'] }, capacity: 1000, partitions: 3 });
  const producer = await log.producer();
  await producer.send('t', Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
  const consumer = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  const source = new LogSource({ consumer, maxInFlight: 100, maxInFlightTotal: 4, commitIntervalMs: 60_000, log: silentLogger });
  await expectBoundOfFour(source, 'the fifth record waits although its partition has room');
});

test('log source: a revoked partition gets its acked progress committed at once, and never a commit afterwards', async () => {
  const { log } = await setup(6);
  const inner = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  const commits: bigint[] = [];
  // The real consumer, with its commits recorded.
  const consumer = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'commit') {
        return async (offsets: Array<{ topic: string; partition: number; offset: bigint }>) => {
          for (const o of offsets) commits.push(o.offset);
          return target.commit(offsets);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const source = new LogSource({ consumer, maxInFlight: 10, commitIntervalMs: 60_000, log: silentLogger, stopAt: await log.endOffsets('t') });
  const envs: Envelope<LogRecord>[] = [];
  for await (const env of source.read(new AbortController().signal)) envs.push(env);
  await envs[0]?.ack();
  await envs[1]?.ack();
  assert.equal(source.inFlight, 4);
  await source.revoked([{ topic: 't', partition: 0 }]);
  assert.deepEqual(commits, [2n], 'what was acked is committed before the partition moves');
  assert.equal(source.inFlight, 4, 'its records still in flight are still counted (memory bound)');
  for (const e of envs.slice(2)) await e.ack();
  assert.equal(source.inFlight, 0);
  await source.commit();
  await source.finish();
  assert.deepEqual(commits, [2n], 'no commit for a partition this member no longer owns, whatever is acked later');
});
