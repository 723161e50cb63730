/**
 * Must-show 2 (short version): `kill -9` of ingest in the middle of a 20-file run, then a restart. Every user of
 * every file is in the topic at least once, every file is marked done; duplicates are possible (the file in
 * flight at the kill is sent again) and reported. The 50-file version is test/scenarios/ingest-crash.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crashScenario } from '../scenarios/ingest-crash-run.ts';
import { SKIP } from './kafka-helpers.ts';
import { deleteTopics, unique } from './ingest-helpers.ts';

test('Must-show 2: kill -9 in the middle of a 20-file run, restart: every user at least once, every file done', { skip: SKIP }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'userpipe-it-crash-'));
  const topic = unique('it-ingest-crash');
  try {
    // One file in flight and small sends slow the run down enough to be killed in the middle.
    const f = await crashScenario(root, topic, 20, 500, 4, ['--max-files-in-flight', '1', '--batch-messages', '50', '--linger', '0']);
    t.diagnostic(`files=${f.files} users=${f.users} doneAtKill=${f.doneAtKill} messages=${f.messages} duplicates=${f.duplicates} missing=${f.missingUsers}`);
    assert.ok(f.doneAtKill >= 4 && f.doneAtKill < 20, `killed in the middle (${f.doneAtKill} of 20 done)`);
    assert.equal(f.secondRunExit, 0, f.secondRunStderr);
    assert.equal(f.missingUsers, 0, 'no user lost');
    assert.equal(f.distinctUsers, 10_000);
    assert.equal(f.filesDoneAtEnd, 20);
    // With one file in flight, at most that file's users are sent twice.
    assert.ok(f.duplicates <= 500, `duplicates ${f.duplicates}`);
  } finally {
    await deleteTopics(topic, `${topic}.dlq`);
    await rm(root, { recursive: true, force: true });
  }
});
