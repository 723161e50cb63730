/**
 * Must-show 5: with the broker stopped, ingest waits and logs once; after the broker restarts it finishes with
 * nothing lost. Stops and restarts ONLY Kafka, through the stack script, and always restarts it (finally).
 * Other tests share this Kafka: this file is kept apart and short.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, startCli } from '../support/run-cli.ts';
import { SKIP } from '../integration/kafka-helpers.ts';
import { createTopic, deleteTopics, ingestArgs, readTopic, unique, writeSpool } from '../integration/ingest-helpers.ts';

const run = promisify(execFile);
const STACK = join(REPO_ROOT, 'test/stack/stack');

async function stack(...args: string[]): Promise<void> {
  await run('bash', [STACK, ...args], { cwd: REPO_ROOT, timeout: 180_000 });
}

async function waitDone(spool: string, n: number, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readdir(spool)).filter((f) => f.endsWith('.COMPLETED')).length < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} done files\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('Must-show 5: broker stopped -> ingest waits, logs once; broker back -> everything sent, nothing lost', { skip: SKIP, timeout: 300_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'userpipe-it-down-'));
  const spool = join(root, 'spool');
  const topic = unique('it-ingest-down');
  await createTopic(topic);
  await createTopic(`${topic}.dlq`);
  const before = await writeSpool(spool, 2, 100, unique('down-a'));
  const p = startCli(ingestArgs(root, topic, '--poll-interval', '100ms'), { timeoutMs: 240_000 });
  let kafkaStopped = false;
  try {
    await waitDone(spool, 2, 30_000, () => p.stderr());
    await stack('stop', 'kafka');
    kafkaStopped = true;
    // Files arriving while Kafka is down: they must wait, not be marked done, not be lost.
    const more = await writeSpool(spool, 3, 100, unique('down-b'), Date.UTC(2026, 10, 30, 13, 0, 0, 0));
    await p.waitForOutput(/kafka unavailable, waiting/, 60_000);
    await new Promise((r) => setTimeout(r, 4000)); // several attempts fail meanwhile
    assert.equal((await readdir(spool)).filter((f) => f.endsWith('.COMPLETED')).length, 2, 'nothing marked done while Kafka is down');
    await stack('start', 'kafka');
    kafkaStopped = false;
    await waitDone(spool, 5, 120_000, () => p.stderr());
    p.kill('SIGTERM');
    const r = await p.done;
    assert.equal(r.code, 130, r.stderr);
    for (const line of r.stderr.split('\n').filter((l) => /kafka (unavailable|available)/.test(l))) t.diagnostic(line);
    assert.equal((r.stderr.match(/kafka unavailable, waiting/g) ?? []).length, 1, r.stderr);
    assert.equal((r.stderr.match(/kafka available again/g) ?? []).length, 1, r.stderr);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack traces');
    const keys = new Set((await readTopic(topic)).map((m) => m.key?.toString()));
    for (const u of [...before.uuids, ...more.uuids]) assert.ok(keys.has(u), `user ${u} is in the topic`);
  } finally {
    p.kill('SIGKILL');
    if (kafkaStopped) await stack('start', 'kafka');
    await deleteTopics(topic, `${topic}.dlq`).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
});
