import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IS_CONTROL, Reader, createRecordsBatch, readRecordsBatches, type RecordsBatch } from '@platformatic/kafka';
import { decodePartition } from '../../src/clients/kafka-records.ts';

/**
 * Record batches are encoded and decoded with the library's own wire codec (no broker involved), then given
 * a base offset the way a broker assigns one.
 */
function batch(firstOffset: bigint, n: number, opts: { compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'; start?: number } = {}): RecordsBatch {
  const start = opts.start ?? 0;
  const messages = Array.from({ length: n }, (_, i) => ({
    topic: 't',
    key: Buffer.from(`k${start + i}`),
    value: Buffer.from(JSON.stringify({ i: start + i, s: 'x'.repeat(50) })),
    headers: new Map([
      [Buffer.from('userpipe-seq'), Buffer.from(String(start + i))],
      [Buffer.from('empty'), Buffer.alloc(0)],
    ]),
    timestamp: 1_700_000_000_000n + BigInt(start + i),
  }));
  const writer = createRecordsBatch(messages, { compression: opts.compression ?? 'none' });
  const [decoded] = readRecordsBatches(Reader.from(writer.buffer));
  return { ...(decoded as RecordsBatch), firstOffset };
}

test('every codec round-trips through the library codec on this Node version', () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const d = decodePartition('t', 0, [batch(100n, 5, { compression })], 100n);
    assert.equal(d.messages.length, 5, compression);
    assert.deepEqual(
      d.messages.map((m) => JSON.parse(String(m.value)).i),
      [0, 1, 2, 3, 4],
      compression,
    );
  }
});

test('decode: offsets from the base offset, keys, headers as strings, CreateTime timestamps, next position', () => {
  const d = decodePartition('user_logs', 3, [batch(40n, 3), batch(43n, 2, { start: 3 })], 40n);
  assert.deepEqual(d.messages.map((m) => m.offset), [40n, 41n, 42n, 43n, 44n]);
  const m = d.messages[4];
  assert.ok(m);
  assert.equal(m.topic, 'user_logs');
  assert.equal(m.partition, 3);
  assert.equal(String(m.key), 'k4');
  assert.equal(m.headers.get('userpipe-seq'), '4');
  assert.equal(m.headers.get('empty'), '');
  assert.equal(m.timestamp, 1_700_000_000_004n);
  assert.equal(d.position, 45n);
  assert.equal(d.reachedEnd, false);
});

test('decode: records and batches before the position are skipped (compressed batches come back whole)', () => {
  const d = decodePartition('t', 0, [batch(0n, 5, { compression: 'lz4' }), batch(5n, 5, { start: 5 })], 7n);
  assert.deepEqual(d.messages.map((m) => m.offset), [7n, 8n, 9n]);
  assert.equal(d.position, 10n);
  const none = decodePartition('t', 0, [batch(0n, 5)], 5n);
  assert.equal(none.messages.length, 0);
  assert.equal(none.position, 5n);
  assert.equal(decodePartition('t', 0, null, 12n).position, 12n);
});

test('decode with an end offset (--once): nothing at or after it, position stops at it', () => {
  const d = decodePartition('t', 0, [batch(0n, 5), batch(5n, 5, { start: 5 })], 2n, 6n);
  assert.deepEqual(d.messages.map((m) => m.offset), [2n, 3n, 4n, 5n]);
  assert.equal(d.position, 6n);
  assert.equal(d.reachedEnd, true);
  const exact = decodePartition('t', 0, [batch(0n, 5)], 0n, 5n);
  assert.equal(exact.messages.length, 5);
  assert.equal(exact.reachedEnd, true);
  const already = decodePartition('t', 0, [batch(0n, 5)], 5n, 5n);
  assert.deepEqual([already.messages.length, already.position, already.reachedEnd], [0, 5n, true]);
});

test('control batches (transaction markers) yield nothing but move the position', () => {
  const marker: RecordsBatch = { ...batch(10n, 1), attributes: IS_CONTROL };
  const d = decodePartition('t', 0, [batch(0n, 10), marker, batch(11n, 2, { start: 11 })], 0n);
  assert.equal(d.messages.length, 12);
  assert.ok(!d.messages.some((m) => m.offset === 10n));
  assert.equal(d.position, 13n);
  const onlyMarker = decodePartition('t', 0, [marker], 10n, 11n);
  assert.deepEqual([onlyMarker.messages.length, onlyMarker.position, onlyMarker.reachedEnd], [0, 11n, true]);
});

test('LogAppendTime batches use the broker time; compacted gaps are stepped over', () => {
  const b = batch(0n, 3);
  const appended: RecordsBatch = { ...b, attributes: b.attributes | (1 << 3), maxTimestamp: 1_800_000_000_000n };
  assert.ok(decodePartition('t', 0, [appended], 0n).messages.every((m) => m.timestamp === 1_800_000_000_000n));
  // A compacted batch: 3 records left, but the batch spans offsets 0..9.
  const compacted: RecordsBatch = { ...b, lastOffsetDelta: 9 };
  const d = decodePartition('t', 0, [compacted], 0n);
  assert.equal(d.messages.length, 3);
  assert.equal(d.position, 10n);
  assert.equal(decodePartition('t', 0, [compacted], 0n, 5n).position, 5n);
});
