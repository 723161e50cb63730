import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { PipelineError } from '../../src/core/errors.ts';
import { abortable, chunkBySize, estimateMessageBytes, KafkaProducer } from '../../src/clients/kafka-producer.ts';
import { withTimeout } from '../../src/clients/kafka-util.ts';
import { Notifier } from '../../src/core/notifier.ts';

test('chunkBySize keeps order, respects the bound, lets an oversized item travel alone', () => {
  const sizes = [400, 400, 300, 1500, 100, 100, 900];
  const chunks = chunkBySize(sizes.map((s, i) => ({ i, s })), (x) => x.s, 1000);
  assert.deepEqual(chunks.map((c) => c.map((x) => x.i)), [[0, 1], [2], [3], [4, 5], [6]]);
  assert.deepEqual(chunks.flat().map((x) => x.i), [0, 1, 2, 3, 4, 5, 6]);
  for (const c of chunks) if (c.length > 1) assert.ok(c.reduce((n, x) => n + x.s, 0) <= 1000);
  assert.deepEqual(chunkBySize([], () => 1, 10), []);
});

test('estimateMessageBytes counts key, value and headers in bytes (UTF-8)', () => {
  const base = estimateMessageBytes({ value: '' });
  assert.equal(estimateMessageBytes({ value: 'é' }) - base, 2);
  assert.equal(estimateMessageBytes({ value: Buffer.alloc(10), key: 'abc' }) - base, 13);
  const withHeaders = estimateMessageBytes({ value: '', headers: { a: 'bb' } });
  assert.equal(estimateMessageBytes({ value: '', headers: new Map([['a', 'bb']]) }), withHeaders);
  assert.ok(withHeaders - base >= 3);
});

test('an oversized message is refused before anything is sent, naming its index', async () => {
  // Port 1 on localhost: nothing listens. Nothing is attempted anyway, the check comes first.
  const producer = await KafkaProducer.create({ brokers: ['127.0.0.1:1'], clientId: 'unit', topic: 't', maxMessageBytes: 1000 });
  try {
    await assert.rejects(
      producer.send([{ value: 'small' }, { value: Buffer.alloc(5000) }]),
      (err: unknown) => err instanceof PipelineError && err.code === 'INVALID_INPUT' && !err.retryable && err.details.index === 1,
    );
  } finally {
    await producer.close();
  }
});

test('broker down (connection refused): a retryable NETWORK error after a bounded number of attempts', async () => {
  const producer = await KafkaProducer.create({
    brokers: ['127.0.0.1:1'],
    clientId: 'unit',
    topic: 't',
    retries: 2,
    retryDelayMs: 50,
    connectTimeoutMs: 1000,
  });
  const started = Date.now();
  try {
    await assert.rejects(producer.send([{ key: 'k', value: 'v', headers: { h: '1' } }]), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, 'NETWORK');
      assert.equal(err.retryable, true);
      assert.equal(err.details.op, 'send');
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
    // 3 attempts, 2 pauses of 50 ms: far below the connect timeout budget.
    assert.ok(Date.now() - started < 3 * 1000 + 2 * 50 + 2000);
  } finally {
    await producer.close();
  }
  await assert.rejects(producer.send([{ value: 'x' }]), (err: unknown) => err instanceof PipelineError && err.code === 'ABORTED');
});

test('a broker that accepts TCP but never answers: the connect timeout bounds the send', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const producer = await KafkaProducer.create({
    brokers: [`127.0.0.1:${port}`],
    clientId: 'unit',
    topic: 't',
    retries: 1,
    retryDelayMs: 10,
    connectTimeoutMs: 300,
    requestTimeoutMs: 300,
    idempotent: false,
  });
  const started = Date.now();
  try {
    await assert.rejects(producer.send([{ value: 'v' }]), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.retryable, true, `${err.code} ${err.message}`);
      assert.ok(['TIMEOUT', 'NETWORK'].includes(err.code), err.code);
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  } finally {
    await producer.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('send honours an already-fired signal; abortable() rejects on abort and passes values through', async () => {
  const producer = await KafkaProducer.create({ brokers: ['127.0.0.1:1'], clientId: 'unit', topic: 't' });
  try {
    await assert.rejects(producer.send([{ value: 'x' }], AbortSignal.abort()), (err: unknown) => err instanceof PipelineError && err.code === 'ABORTED');
  } finally {
    await producer.close();
  }
  assert.equal(await abortable(Promise.resolve(7), new AbortController().signal), 7);
  const ac = new AbortController();
  const pending = abortable(new Promise<number>(() => {}), ac.signal);
  ac.abort();
  await assert.rejects(pending, (err: unknown) => err instanceof PipelineError && err.code === 'ABORTED');
});

test('Notifier wakes all waiters and honours abort; withTimeout rejects with TIMEOUT', async () => {
  const n = new Notifier();
  let woke = 0;
  const waits = [n.wait().then(() => (woke += 1)), n.wait().then(() => (woke += 1))];
  n.notify();
  await Promise.all(waits);
  assert.equal(woke, 2);
  const ac = new AbortController();
  const w = n.wait(ac.signal);
  ac.abort();
  await w;
  await assert.rejects(withTimeout(new Promise(() => {}), 10), (err: unknown) => err instanceof PipelineError && err.code === 'TIMEOUT');
  assert.equal(await withTimeout(Promise.resolve('v'), 1000), 'v');
});
