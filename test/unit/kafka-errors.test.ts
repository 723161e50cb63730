import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UnsupportedCompressionError,
  UserError,
} from '@platformatic/kafka';
import { PipelineError } from '../../src/core/errors.ts';
import { retry } from '../../src/core/retry.ts';
import { classifyKafkaError, errorTree, isRebalanceError, kafkaErrorNames } from '../../src/clients/kafka-errors.ts';

// The shapes below are the library's own classes, built the way its connection and API code builds them.

function sysError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect' });
}

/** A failed broker answer: Kafka error code per partition path, as the API parsers build it. */
function response(apiKey: number, errors: Record<string, number>): ResponseError {
  const entries = Object.fromEntries(Object.entries(errors).map(([path, code]) => [path, [code, null] as [number, null]]));
  return new ResponseError(apiKey, 9, entries, {});
}

test('broker down: refused connections, also after the library gave up retrying, are retryable NETWORK', () => {
  const one = new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9092') });
  const e1 = classifyKafkaError(one, 'send');
  assert.equal(e1.code, 'NETWORK');
  assert.equal(e1.retryable, true);
  assert.match(e1.message, /^kafka send: broker unreachable: .*ECONNREFUSED/);
  const many = new MultipleErrors('metadata failed 3 times.', [
    new MultipleErrors('Cannot connect to any broker.', [one]),
    new MultipleErrors('Cannot connect to any broker.', [one]),
  ]);
  const e2 = classifyKafkaError(many, 'send', { topic: 't' });
  assert.equal(e2.code, 'NETWORK');
  assert.equal(e2.retryable, true);
  assert.equal(e2.details.topic, 't');
  assert.equal(e2.cause, many);
  // One leaf message, not three copies of it.
  assert.equal(e2.message.match(/ECONNREFUSED/g)?.length, 1);
  assert.equal(classifyKafkaError(new NetworkError('Connection closed'), 'fetch').code, 'NETWORK');
  assert.equal(classifyKafkaError(sysError('EHOSTUNREACH', 'no route'), 'fetch').code, 'NETWORK');
});

test('timeouts are retryable TIMEOUT (the library tags TimeoutError with the network code)', () => {
  const t = new TimeoutError('Request timed out', { canRetry: true });
  assert.equal(t.code, 'PLT_KFK_NETWORK');
  const e = classifyKafkaError(t, 'commit');
  assert.equal(e.code, 'TIMEOUT');
  assert.equal(e.retryable, true);
  const broker = classifyKafkaError(response(0, { '/responses/0/partitions/0': 7 }), 'send');
  assert.equal(broker.code, 'TIMEOUT');
  assert.deepEqual(broker.details.kafka, ['REQUEST_TIMED_OUT']);
});

test('SASL failure is AUTH and not retryable, although the library wraps it in a retryable NetworkError', () => {
  const sasl = new NetworkError('Connection to b:9092 failed.', {
    cause: new AuthenticationError('SASL authentication failed.', { cause: new ProtocolError('SASL_AUTHENTICATION_FAILED', 'bad credentials') }),
  });
  assert.equal(sasl.canRetry, true);
  const e = classifyKafkaError(sasl, 'send');
  assert.equal(e.code, 'AUTH');
  assert.equal(e.retryable, false);
  assert.equal(classifyKafkaError(new UserError('SASL mechanism SCRAM-SHA-512 not supported.'), 'join').code, 'AUTH');
  const denied = classifyKafkaError(response(8, { '/topics/0/partitions/0': 29 }), 'commit');
  assert.equal(denied.code, 'AUTH');
  assert.deepEqual(denied.details.kafka, ['TOPIC_AUTHORIZATION_FAILED']);
});

test('a record the broker will never take is INVALID_INPUT, not retryable', () => {
  for (const code of [10, 18, 87]) {
    const e = classifyKafkaError(response(0, { '/responses/0/partitions/0': code }), 'send', { index: 3 });
    assert.equal(e.code, 'INVALID_INPUT');
    assert.equal(e.retryable, false);
    assert.equal(e.details.index, 3);
  }
});

test('leader moves and coordinator loads are retryable UNAVAILABLE; unknown server errors are not', () => {
  for (const code of [5, 6, 14, 15, 16, 19, 20]) {
    const e = classifyKafkaError(response(0, { '/responses/0/partitions/0': code }), 'send');
    assert.equal(e.code, 'UNAVAILABLE', String(code));
    assert.equal(e.retryable, true, String(code));
  }
  const unknown = classifyKafkaError(response(0, { '/responses/0/partitions/0': -1 }), 'send');
  assert.equal(unknown.retryable, false);
});

test('rebalance answers: flagged, not retryable, recognisable with isRebalanceError', () => {
  for (const id of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']) {
    const raw = new MultipleErrors('commit failed', [new ProtocolError(id)]);
    assert.equal(isRebalanceError(raw), true);
    const e = classifyKafkaError(raw, 'commit');
    assert.equal(e.retryable, false);
    assert.equal(e.details.rebalance, true);
    assert.equal(isRebalanceError(e), true);
    assert.match(e.message, /redelivered/);
  }
  assert.equal(isRebalanceError(new ProtocolError('NOT_COORDINATOR')), false);
  assert.equal(isRebalanceError(classifyKafkaError(new ProtocolError('NOT_COORDINATOR'), 'commit')), false);
});

test('unknown topic, TLS misconfiguration, codec problems, closed clients, aborts', () => {
  const missing = classifyKafkaError(new UserError('Unknown topic user_logz.'), 'send');
  assert.equal(missing.code, 'NOT_FOUND');
  assert.equal(missing.retryable, false);
  assert.equal(classifyKafkaError(response(3, { '/topics/0': 3 }), 'metadata').code, 'NOT_FOUND');
  const tls = classifyKafkaError(new NetworkError('Connection to b:9093 failed.', { cause: sysError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate') }), 'send');
  assert.equal(tls.code, 'CONFIG');
  assert.equal(tls.retryable, false);
  assert.equal(classifyKafkaError(new UnsupportedCompressionError('zstd is not supported'), 'send').code, 'CONFIG');
  const closed = classifyKafkaError(new NetworkError('Client is closed.', { canRetry: false, closed: true }), 'send');
  assert.equal(closed.code, 'ABORTED');
  assert.equal(closed.retryable, false);
  assert.equal(classifyKafkaError(new DOMException('stop', 'AbortError'), 'fetch').code, 'ABORTED');
});

test('already classified errors pass through; unknown errors are not retryable INTERNAL', () => {
  const mine = new PipelineError('RATE_LIMITED', 'x');
  assert.equal(classifyKafkaError(mine, 'send'), mine);
  const bug = classifyKafkaError(new TypeError('x is not a function'), 'send');
  assert.equal(bug.code, 'INTERNAL');
  assert.equal(bug.retryable, false);
  assert.equal(classifyKafkaError('a string', 'send').code, 'INTERNAL');
});

test('error trees: cycles and depth are bounded; names are deduplicated in order', () => {
  const a = new Error('a') as Error & { cause?: unknown };
  const b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal(errorTree(a).length, 2);
  const multi = new MultipleErrors('m', [new ProtocolError('NOT_LEADER_OR_FOLLOWER'), new ProtocolError('NOT_LEADER_OR_FOLLOWER'), new ProtocolError('LEADER_NOT_AVAILABLE')]);
  assert.deepEqual(kafkaErrorNames(multi), ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE']);
});

test('the classification drives core retry(): retryable kafka errors are retried, others are not', async () => {
  let calls = 0;
  const result = await retry(
    async () => {
      calls += 1;
      if (calls < 3) throw classifyKafkaError(new NetworkError('Connection closed'), 'send');
      return 'ok';
    },
    { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2 },
  );
  assert.equal(result, 'ok');
  assert.equal(calls, 3);
  let tooLarge = 0;
  await assert.rejects(
    retry(
      async () => {
        tooLarge += 1;
        throw classifyKafkaError(response(0, { '/responses/0/partitions/0': 10 }), 'send');
      },
      { maxAttempts: 5, baseDelayMs: 1 },
    ),
    (err: unknown) => err instanceof PipelineError && err.code === 'INVALID_INPUT',
  );
  assert.equal(tooLarge, 1);
});
