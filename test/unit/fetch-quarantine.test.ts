import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuarantineFile } from '../../src/sinks/quarantine.ts';

test('quarantine: NDJSON lines {reason, fetchedAt, user, ...} appended to <stage>-YYYYmmdd.ndjson, one file per UTC day', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'userpipe-q-')), 'quarantine');
  t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  let now = Date.UTC(2026, 10, 30, 23, 59, 59);
  const q = new QuarantineFile({ dir, stage: 'fetch', now: () => now });
  t.after(() => q.close());
  const at = new Date(now).toISOString();
  const p1 = await q.append([
    { reason: '/nat must be one of AU, ...', fetchedAt: at, index: 0, user: { nat: 'XX' } },
    { reason: '/dob/age must be integer', fetchedAt: at, index: 4, user: { dob: { age: 'old' } } },
  ]);
  assert.equal(p1, join(dir, 'fetch-20261130.ndjson'));
  await q.append([{ reason: 'again', fetchedAt: at, user: {} }]);
  now += 2000; // past midnight UTC
  const p2 = await q.append([{ reason: 'next day', fetchedAt: new Date(now).toISOString(), user: null }]);
  assert.equal(p2, join(dir, 'fetch-20261201.ndjson'));
  assert.equal(await q.append([]), p2, 'nothing to write: no change');
  assert.deepEqual(readdirSync(dir).sort(), ['fetch-20261130.ndjson', 'fetch-20261201.ndjson']);
  const day1 = readFileSync(p1, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(day1.map((e) => e.reason), ['/nat must be one of AU, ...', '/dob/age must be integer', 'again']);
  assert.deepEqual(day1[1], { reason: '/dob/age must be integer', fetchedAt: at, index: 4, user: { dob: { age: 'old' } } });
  assert.equal(q.written, 4);
});
