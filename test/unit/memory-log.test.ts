import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import type { LogRecord } from '../../src/clients/message-log.ts';

test('memory log with a dir: records and commits survive a restart; each group resumes at its commit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'memlog-dur-'));
  try {
    const first = new MemoryLog({ dir, groups: { t: ['a', 'b'] }, segmentBytes: 200 });
    const producer = await first.producer();
    await producer.send('t', Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { h: String(i) } })));
    const a = await first.consumer({ group: 'a', topic: 't', start: 'committed' });
    const ia = a[Symbol.asyncIterator]();
    for (let i = 0; i < 6; i++) await ia.next();
    await a.commit([{ topic: 't', partition: 0, offset: 6n }]);
    const b = await first.consumer({ group: 'b', topic: 't', start: 'committed' });
    const ib = b[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await ib.next();
    await b.commit([{ topic: 't', partition: 0, offset: 3n }]);
    // "crash": a new instance over the same directory
    const second = new MemoryLog({ dir, groups: { t: ['a', 'b'] }, segmentBytes: 200 });
    assert.equal((await second.endOffsets('t')).get(0), 10n);
    const a2 = await second.consumer({ group: 'a', topic: 't', start: 'committed' });
    const r = (await a2[Symbol.asyncIterator]().next()).value as LogRecord;
    assert.equal(r.offset, 6n);
    assert.equal(r.value?.toString(), 'v6');
    assert.equal(r.key?.toString(), 'k6');
    assert.deepEqual(r.headers, { h: '6' });
    const b2 = await second.consumer({ group: 'b', topic: 't', start: 'committed' });
    const rb = (await b2[Symbol.asyncIterator]().next()).value as LogRecord;
    assert.equal(rb.offset, 3n);
    // once both groups committed everything, old segment files are deleted
    await a2.commit([{ topic: 't', partition: 0, offset: 10n }]);
    await b2.commit([{ topic: 't', partition: 0, offset: 10n }]);
    const { readdir } = await import('node:fs/promises');
    const segs = (await readdir(join(dir, 't'))).filter((n) => n.endsWith('.ndjson'));
    assert.equal(segs.length, 1, `only the active segment is kept: ${segs.join(',')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory log: a full partition makes send wait (bounded), and commits free room', async () => {
  const log = new MemoryLog({ groups: { t: ['g'] }, capacity: 3 });
  const producer = await log.producer();
  const c = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  const it = c[Symbol.asyncIterator]();
  const sends = Array.from({ length: 5 }, (_, i) => producer.send('t', [{ value: `v${i}` }]));
  await new Promise((r) => setTimeout(r, 20));
  const end = await log.endOffsets('t');
  assert.equal(end.get(0), 3n, 'only capacity records are appended while nothing is committed');
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = (await it.next()).value as LogRecord;
    seen.push(r.value?.toString() ?? '');
    await c.commit([{ topic: 't', partition: 0, offset: r.offset + 1n }]);
  }
  await Promise.all(sends);
  assert.deepEqual(seen, ['v0', 'v1', 'v2', 'v3', 'v4']);
  assert.equal(c.lag(), 0);
  await c.close();
});

test('memory log: a restarted consumer resumes at the committed offset', async () => {
  const log = new MemoryLog({ groups: { t: ['g'] } });
  const producer = await log.producer();
  const c1 = await log.consumer({ group: 'g', topic: 't', start: 'committed' });
  const p = producer.send('t', [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
  const it1 = c1[Symbol.asyncIterator]();
  await it1.next();
  await c1.commit([{ topic: 't', partition: 0, offset: 1n }]);
  await it1.next(); // read but not committed: must be redelivered
  await c1.close();
  const c2 = await log.consumer({ group: 'g', topic: 't', start: 'committed' });
  const it2 = c2[Symbol.asyncIterator]();
  const r = (await it2.next()).value as LogRecord;
  assert.equal(r.value?.toString(), 'b');
  await it2.next();
  await c2.commit([{ topic: 't', partition: 0, offset: 3n }]);
  await p;
  await c2.close();
});

test('memory log: topics nobody reads (dead-letter) are spilled durably to NDJSON', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'memlog-'));
  try {
    const log = new MemoryLog({ spillDir: dir });
    const producer = await log.producer();
    await producer.send('t.dlq', [{ key: 'k', value: '{"x":1}', headers: { 'userpipe-error': 'bad' } }]);
    const lines = (await readFile(join(dir, 't.dlq.ndjson'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0] as string), { key: 'k', headers: { 'userpipe-error': 'bad' }, value: '{"x":1}' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory log: keys map to stable partitions', async () => {
  const log = new MemoryLog({ groups: { t: ['g'] }, partitions: 4 });
  const producer = await log.producer();
  const c = await log.consumer({ group: 'g', topic: 't', start: 'earliest' });
  const sent = producer.send('t', [{ key: 'same', value: '1' }, { key: 'same', value: '2' }]);
  const it = c[Symbol.asyncIterator]();
  const r1 = (await it.next()).value as LogRecord;
  const r2 = (await it.next()).value as LogRecord;
  assert.equal(r1.partition, r2.partition);
  assert.equal(r2.offset, r1.offset + 1n);
  await c.commit([{ topic: 't', partition: r1.partition, offset: 2n }]);
  await sent;
  await c.close();
});
