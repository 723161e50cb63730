import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, Producer } from '@platformatic/kafka';
import { ConfigError } from '../../src/core/errors.ts';
import {
  acksValue,
  loadTls,
  parseAcks,
  parseBroker,
  parseCompression,
  producerRetries,
  resolveBaseOptions,
  resolveGroupTiming,
  resolveIdempotent,
  toBaseOptions,
  validateConnection,
  type KafkaConnectionOptions,
} from '../../src/clients/kafka-options.ts';

const conn: KafkaConnectionOptions = { brokers: ['127.0.0.1:9092'], clientId: 'userpipe-test' };

test('brokers: host:port, IPv6 in brackets; anything else is a ConfigError', () => {
  assert.deepEqual(parseBroker('kafka-1.example:9093'), { host: 'kafka-1.example', port: 9093 });
  assert.deepEqual(parseBroker('[::1]:9092'), { host: '::1', port: 9092 });
  for (const bad of ['localhost', 'localhost:', ':9092', 'h:0', 'h:70000', 'a b:9092', '']) {
    assert.throws(() => parseBroker(bad), ConfigError, bad);
  }
  assert.throws(() => validateConnection({ ...conn, brokers: [] }), /at least one broker/);
  assert.throws(() => validateConnection({ ...conn, clientId: 'has space' }), /clientId/);
});

test('base options: defaults, no topic auto-creation, library-side validation on', () => {
  const base = toBaseOptions(conn, undefined);
  assert.deepEqual(base.bootstrapBrokers, ['127.0.0.1:9092']);
  assert.equal(base.clientId, 'userpipe-test');
  assert.equal(base.connectTimeout, 10_000);
  assert.equal(base.requestTimeout, 30_000);
  assert.equal(base.retries, 2);
  assert.equal(base.retryDelay, 250);
  assert.equal(base.autocreateTopics, false);
  assert.equal(base.strict, true);
  assert.equal(base.tls, undefined);
  assert.equal(base.sasl, undefined);
  const tuned = toBaseOptions({ ...conn, connectTimeoutMs: 1_500, requestTimeoutMs: 4_000, retries: 0, retryDelayMs: 0 }, {});
  assert.equal(tuned.connectTimeout, 1_500);
  assert.equal(tuned.requestTimeout, 4_000);
  assert.equal(tuned.retries, 0);
  assert.equal(tuned.retryDelay, 0);
  assert.deepEqual(tuned.tls, {});
  assert.throws(() => toBaseOptions({ ...conn, retries: 1.5 }, undefined), /retries/);
  assert.throws(() => toBaseOptions({ ...conn, connectTimeoutMs: 0 }, undefined), /connectTimeoutMs/);
});

test('SASL: mechanism checked, password handed over as a provider and absent from the options object', () => {
  const secret = 'pa55-w0rd-never-logged';
  const base = toBaseOptions({ ...conn, sasl: { mechanism: 'SCRAM-SHA-512', username: 'etl', password: secret } }, undefined);
  assert.equal(base.sasl?.mechanism, 'SCRAM-SHA-512');
  assert.equal(base.sasl?.username, 'etl');
  assert.equal(typeof base.sasl?.password, 'function');
  assert.equal((base.sasl?.password as () => string)(), secret);
  assert.ok(!JSON.stringify(base).includes(secret));
  assert.throws(
    () => validateConnection({ ...conn, sasl: { mechanism: 'GSSAPI' as never, username: 'u', password: 'p' } }),
    (err: unknown) => err instanceof ConfigError && /SASL mechanism/.test(err.message) && err.details.field === 'sasl.mechanism',
  );
  assert.throws(() => validateConnection({ ...conn, sasl: { mechanism: 'PLAIN', username: 'u', password: '' } }), /password is empty/);
  // The error for a bad password field never carries the password itself.
  try {
    validateConnection({ ...conn, sasl: { mechanism: 'PLAIN', username: '', password: secret } });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(!JSON.stringify({ m: (err as Error).message, d: (err as ConfigError).details }).includes(secret));
  }
});

test('TLS: true = default trust store; PEM files are read; unreadable file or cert without key = ConfigError', async () => {
  assert.equal(await loadTls(undefined), undefined);
  assert.equal(await loadTls(false), undefined);
  assert.deepEqual(await loadTls(true), {});
  const dir = await mkdtemp(join(tmpdir(), 'userpipe-kafka-tls-'));
  try {
    await writeFile(join(dir, 'ca.pem'), 'CA-PEM');
    await writeFile(join(dir, 'cert.pem'), 'CERT-PEM');
    await writeFile(join(dir, 'key.pem'), 'KEY-PEM');
    const tls = await loadTls({ caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), servername: 'kafka.internal' });
    assert.equal(String(tls?.ca), 'CA-PEM');
    assert.equal(String(tls?.cert), 'CERT-PEM');
    assert.equal(String(tls?.key), 'KEY-PEM');
    assert.equal(tls?.servername, 'kafka.internal');
    const base = await resolveBaseOptions({ ...conn, tls: { caFile: join(dir, 'ca.pem') } });
    assert.equal(String(base.tls?.ca), 'CA-PEM');
    await assert.rejects(loadTls({ caFile: join(dir, 'missing.pem') }), (err: unknown) => err instanceof ConfigError && err.details.field === 'tls.caFile');
    assert.throws(() => validateConnection({ ...conn, tls: { certFile: join(dir, 'cert.pem') } }), /certificate and key go together/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('acks, compression and idempotence rules', () => {
  assert.equal(acksValue('all'), -1);
  assert.equal(acksValue(1), 1);
  assert.equal(acksValue(0), 0);
  assert.equal(parseAcks('all'), 'all');
  assert.equal(parseAcks('-1'), 'all');
  assert.equal(parseAcks(' ALL '), 'all');
  assert.equal(parseAcks('1'), 1);
  assert.equal(parseAcks(0), 0);
  assert.throws(() => parseAcks('2'), ConfigError);
  for (const c of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) assert.equal(parseCompression(c.toUpperCase()), c);
  assert.throws(() => parseCompression('brotli'), ConfigError);
  assert.equal(resolveIdempotent('all', undefined), true);
  assert.equal(resolveIdempotent(1, undefined), false);
  assert.equal(resolveIdempotent('all', false), false);
  assert.throws(() => resolveIdempotent(1, true), /idempotent producer needs acks=all/);
  // The library would turn retries <= 1 into "forever" for idempotent producers.
  assert.equal(producerRetries(0, true), 2);
  assert.equal(producerRetries(5, true), 5);
  assert.equal(producerRetries(0, false), 0);
});

test('group timing: defaults and the relations Kafka and the revoke hook need', () => {
  assert.deepEqual(resolveGroupTiming({}), { sessionTimeoutMs: 45_000, rebalanceTimeoutMs: 60_000, heartbeatIntervalMs: 3_000, revokeTimeoutMs: 30_000 });
  const short = resolveGroupTiming({ sessionTimeoutMs: 9_000, heartbeatIntervalMs: 1_000 });
  assert.equal(short.revokeTimeoutMs, 6_000);
  assert.equal(short.rebalanceTimeoutMs, 60_000);
  assert.equal(resolveGroupTiming({ sessionTimeoutMs: 90_000 }).rebalanceTimeoutMs, 90_000);
  assert.throws(() => resolveGroupTiming({ sessionTimeoutMs: 3_000, heartbeatIntervalMs: 3_000 }), /heartbeat interval/);
  assert.throws(() => resolveGroupTiming({ sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 20_000 }), /rebalance timeout/);
  assert.throws(() => resolveGroupTiming({ sessionTimeoutMs: 30_000, revokeTimeoutMs: 30_000 }), /revoke timeout/);
  assert.throws(() => resolveGroupTiming({ sessionTimeoutMs: -1 }), /positive/);
});

test('the library accepts the mapped options (its strict validation runs at construction, no network)', async () => {
  const base = toBaseOptions({ ...conn, sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } }, {});
  const producer = new Producer({ ...base, idempotent: true, acks: -1, compression: 'zstd' });
  const timing = resolveGroupTiming({});
  const consumer = new Consumer({
    ...base,
    groupId: 'g',
    autocommit: false,
    sessionTimeout: timing.sessionTimeoutMs,
    rebalanceTimeout: timing.rebalanceTimeoutMs,
    heartbeatInterval: timing.heartbeatIntervalMs,
    protocolsMetadata: () => Promise.resolve(Buffer.alloc(0)),
  });
  // And it does validate: a wrong value is refused (so the test above is not vacuous).
  assert.throws(() => new Producer({ ...base, compression: 'brotli' as never }));
  await producer.close();
  await consumer.close();
});
