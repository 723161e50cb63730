import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import type { LogRecord } from '../../src/clients/message-log.ts';

test('memory log: send resolves only after every group committed the records', async () => {
  const log = new MemoryLog({ groups: { t: ['a', 'b'] } });
  const producer = await log.producer();
  const a = await log.consumer({ group: 'a', topic: 't', start: 'committed' });
  const b = await log.consumer({ group: 'b', topic: 't', start: 'committed' });
  let durable = false;
  const sent = producer.send('t', [{ key: 'k1', value: 'v1' }, { key: 'k2', value: 'v2' }]).then(() => {
    durable = true;
  });
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  const ra1 = (await ia.next()).value as LogRecord;
  const ra2 = (await ia.next()).value as LogRecord;
  assert.equal(ra1.value?.toString(), 'v1');
  assert.equal(ra2.offset, 1n);
  await a.commit([{ topic: 't', partition: 0, offset: 2n }]);
  await new Promise((r) => setImmediate(r));
  assert.equal(durable, false, 'group b has not committed yet');
  await ib.next();
  await ib.next();
  await b.commit([{ topic: 't', partition: 0, offset: 2n }]);
  await sent;
  assert.equal(durable, true);
  await a.close();
  await b.close();
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
