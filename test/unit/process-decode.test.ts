import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecord } from '../../src/clients/message-log.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { deadLetterMessage, deadLetterUser } from '../../src/transforms/process-dead-letter.ts';
import { HEADER, userTimestampNs } from '../../src/transforms/user-message.ts';
import { decodeUserMessage } from '../../src/transforms/user-messages-decode.ts';
import { buildMessages } from '../../src/transforms/user-messages.ts';

function rec(value: string | Buffer | null, headers: Record<string, string> = {}, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    topic: 't',
    partition: 0,
    offset: 0n,
    key: null,
    value: value === null ? null : Buffer.from(value),
    headers,
    timestampMs: 1_764_000_000_000,
    ...extra,
  };
}

const response = generateResponse({ seed: 'decode', page: 1, results: 5 });

test('process decode: per-user message with ingest headers -> one user at its header origin', () => {
  const user = response.results[2];
  const d = decodeUserMessage(
    rec(JSON.stringify(user), { [HEADER.format]: 'user', [HEADER.fetchedAt]: '1764000000123', [HEADER.seq]: '7', [HEADER.index]: '2', [HEADER.source]: 'f.json' }),
  );
  assert.ok(d.ok);
  assert.equal(d.format, 'user');
  assert.equal(d.originFrom, 'headers');
  assert.equal(d.users.length, 1);
  assert.deepEqual(d.users[0]?.user, user);
  assert.deepEqual(d.users[0]?.origin, { fetchedAtMs: 1764000000123, seq: 7, index: 2, source: 'f.json' });
});

test('process decode: response message with headers -> every user, index = position, seq from the header', () => {
  const d = decodeUserMessage(rec(JSON.stringify(response), { [HEADER.format]: 'response', [HEADER.fetchedAt]: '1764000000123', [HEADER.seq]: '3' }));
  assert.ok(d.ok);
  assert.equal(d.format, 'response');
  assert.equal(d.users.length, 5);
  assert.deepEqual(
    d.users.map((u) => [u.origin.seq, u.origin.index]),
    [0, 1, 2, 3, 4].map((i) => [3, i]),
  );
  assert.deepEqual(
    d.users.map((u) => u.user),
    response.results,
  );
});

test('process decode: what ingest writes decodes to the origins ingest meant, in both formats', () => {
  const records = [{ kind: 'response' as const, response, raw: JSON.stringify(response), line: 1 }];
  const origin = { source: '20261130T045500123Z-04.json', fetchedAtMs: 1_764_478_500_123, seq: 4 };
  for (const format of ['user', 'response'] as const) {
    const messages = buildMessages('response', records, origin, { format, topic: 't', dlqTopic: 't.dlq' });
    const stamps: bigint[] = [];
    for (const m of messages) {
      const d = decodeUserMessage(rec(m.value, m.headers));
      assert.ok(d.ok, format);
      assert.equal(d.originFrom, 'headers');
      for (const u of d.users) stamps.push(userTimestampNs(u.origin));
    }
    const expected = response.results.map((_, i) => 1_764_478_500_123n * 1_000_000n + 4n * 10_000n + BigInt(i));
    assert.deepEqual(stamps, expected, `${format}: fetch ms, seq, position`);
  }
});

test('process decode: no headers -> format sniffed, origin from the record timestamp and offset', () => {
  const user = decodeUserMessage(rec(JSON.stringify(response.results[0]), {}, { offset: 12_345n, partition: 3 }));
  assert.ok(user.ok);
  assert.equal(user.format, 'user');
  assert.equal(user.originFrom, 'log');
  // (12,345 mod 10,000) x 100 + 3 = 234,503 -> seq 23, index 4,503
  assert.deepEqual(user.users[0]?.origin, { fetchedAtMs: 1_764_000_000_000, seq: 23, index: 4503 });

  const resp = decodeUserMessage(rec(JSON.stringify(response), {}, { offset: 205n }));
  assert.ok(resp.ok);
  assert.equal(resp.format, 'response');
  assert.deepEqual(
    resp.users.map((u) => [u.origin.seq, u.origin.index]),
    [0, 1, 2, 3, 4].map((i) => [5, i]),
  );
});

test('process decode: log-derived timestamps are identical on redelivery and unique across offsets and partitions', () => {
  const value = JSON.stringify(response.results[0]);
  const seen = new Set<bigint>();
  for (let partition = 0; partition < 4; partition++) {
    for (let offset = 0n; offset < 2_000n; offset++) {
      const r = rec(value, {}, { offset, partition });
      const a = decodeUserMessage(r);
      const b = decodeUserMessage(r);
      assert.ok(a.ok && b.ok);
      const ts = userTimestampNs(a.users[0]!.origin);
      assert.equal(ts, userTimestampNs(b.users[0]!.origin));
      assert.ok(!seen.has(ts), `collision at p${partition} o${offset}`);
      seen.add(ts);
    }
  }
});

test('process decode: per-user message without an index header falls back to the log origin (no shared timestamps)', () => {
  const d = decodeUserMessage(rec(JSON.stringify(response.results[0]), { [HEADER.format]: 'user', [HEADER.fetchedAt]: '1764000000123' }, { offset: 1n }));
  assert.ok(d.ok);
  assert.equal(d.originFrom, 'log');
  assert.equal(d.users[0]?.origin.fetchedAtMs, 1_764_000_000_000);
});

test('process decode: a response of more than 10,000 users spills positions into the next sequence steps', () => {
  const big = { results: Array.from({ length: 10_002 }, (_, i) => ({ i })) };
  const d = decodeUserMessage(rec(JSON.stringify(big), { [HEADER.fetchedAt]: '5', [HEADER.seq]: '1' }));
  assert.ok(d.ok);
  assert.deepEqual(d.users[9_999]?.origin, { fetchedAtMs: 5, seq: 1, index: 9_999 });
  assert.deepEqual(d.users[10_001]?.origin, { fetchedAtMs: 5, seq: 2, index: 1 });
});

test('process decode: unusable messages are refused with a reason, never thrown', () => {
  const cases: [LogRecord, RegExp][] = [
    [rec(null), /empty message/],
    [rec(''), /empty message/],
    [rec(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/],
    [rec('{"login": '), /not JSON/],
    [rec('[1,2]'), /an array/],
    [rec('"text"'), /a string/],
    [rec('null'), /null/],
    [rec('42'), /a number/],
    [rec('{}', { [HEADER.format]: 'avro' }), /unknown userpipe-format/],
    [rec('{"results": 3}', { [HEADER.format]: 'response' }), /no "results" array/],
  ];
  for (const [r, reason] of cases) {
    const d = decodeUserMessage(r);
    assert.equal(d.ok, false, String(r.value));
    if (!d.ok) assert.match(d.reason, reason);
  }
});

test('process decode: an empty response is a message with no users (settled at once by the stage)', () => {
  const d = decodeUserMessage(rec('{"results": []}'));
  assert.ok(d.ok);
  assert.equal(d.users.length, 0);
});

test('process dead letters: whole message kept byte for byte; a user carries its origin so a replay keeps its timestamp', () => {
  const bad = rec(Buffer.from([1, 2, 3]), { a: 'b' }, { key: Buffer.from('k'), offset: 9n, partition: 2 });
  const m = deadLetterMessage(bad, 'not JSON', 't.dlq');
  assert.equal(m.topic, 't.dlq');
  assert.deepEqual(m.value, Buffer.from([1, 2, 3]));
  assert.deepEqual(m.key, Buffer.from('k'));
  assert.equal(m.headers.a, 'b');
  assert.equal(m.headers[HEADER.error], 'not JSON');
  assert.equal(m.headers[HEADER.stage], 'process');
  assert.equal(m.headers['userpipe-from-partition'], '2');
  assert.equal(m.headers['userpipe-from-offset'], '9');

  const r = rec(JSON.stringify(response), { [HEADER.format]: 'response', [HEADER.fetchedAt]: '1764000000123', [HEADER.seq]: '3' });
  const d = decodeUserMessage(r);
  assert.ok(d.ok);
  const u = d.users[4]!;
  const dl = deadLetterUser(r, u.user, u.origin, 'x'.repeat(5000), 't.dlq', false);
  assert.equal(dl.key, response.results[4]?.login?.uuid);
  assert.equal(dl.headers[HEADER.format], 'user');
  assert.equal(dl.headers[HEADER.index], '4');
  assert.ok((dl.headers[HEADER.error] ?? '').length < 2100, 'reason bounded');
  const replay = decodeUserMessage(rec(dl.value, dl.headers));
  assert.ok(replay.ok);
  assert.deepEqual(replay.users[0]?.user, u.user);
  assert.equal(userTimestampNs(replay.users[0]!.origin), userTimestampNs(u.origin), 'replayed from the DLQ: same point');

  const single = rec('{"login":{"uuid":"u"},  "x": 1}', { [HEADER.format]: 'user', [HEADER.fetchedAt]: '1', [HEADER.index]: '0' });
  const ds = decodeUserMessage(single);
  assert.ok(ds.ok);
  const dl2 = deadLetterUser(single, ds.users[0]!.user, ds.users[0]!.origin, 'r', 't.dlq', true);
  assert.equal(dl2.value.toString(), '{"login":{"uuid":"u"},  "x": 1}', 'per-user message kept as it was');
});
