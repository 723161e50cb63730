import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, PipelineError } from '../../src/core/errors.ts';
import { KafkaConsumer, type KafkaConsumerOptions } from '../../src/clients/kafka-consumer.ts';

// No broker here: option validation, and the bounded failure of start() against a port nothing listens on.

const base: KafkaConsumerOptions = { brokers: ['127.0.0.1:1'], clientId: 'unit', groupId: 'g', topics: ['t'] };

test('consumer options are validated before anything connects', async () => {
  await assert.rejects(KafkaConsumer.create({ ...base, groupId: '' }), ConfigError);
  await assert.rejects(KafkaConsumer.create({ ...base, topics: [] }), /at least one topic/);
  await assert.rejects(KafkaConsumer.create({ ...base, maxBufferedMessages: 0 }), /maxBufferedMessages/);
  await assert.rejects(KafkaConsumer.create({ ...base, fetchMaxBytes: 1.5 }), /fetchMaxBytes/);
  await assert.rejects(KafkaConsumer.create({ ...base, start: 'middle' as never }), /start must be/);
  await assert.rejects(KafkaConsumer.create({ ...base, sessionTimeoutMs: 5_000, revokeTimeoutMs: 6_000 }), /revoke timeout/);
  const ok = await KafkaConsumer.create(base);
  assert.deepEqual(ok.assignment(), []);
  assert.equal(ok.buffered, 0);
  await ok.close();
});

test('start() against an unreachable broker fails with a retryable NETWORK error within retryMaxMs', async () => {
  const consumer = await KafkaConsumer.create({ ...base, retryMaxMs: 1_500, retries: 0, connectTimeoutMs: 500 });
  const started = Date.now();
  try {
    await assert.rejects(consumer.start(), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, 'NETWORK');
      assert.equal(err.retryable, true);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1_500 + 1_000, `bounded: ${elapsed} ms`);
  } finally {
    await consumer.close();
  }
});

test('close() during start() stops the retries at once', async () => {
  const consumer = await KafkaConsumer.create({ ...base, retryMaxMs: 60_000, retries: 0, connectTimeoutMs: 500 });
  const starting = consumer.start();
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  await consumer.close();
  await assert.rejects(starting, (err: unknown) => err instanceof PipelineError && err.code === 'ABORTED');
  assert.ok(Date.now() - t0 < 5_000);
  // Iterating a closed consumer ends at once.
  for await (const _ of consumer.messages()) assert.fail('no message expected');
});
