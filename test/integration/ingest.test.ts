/**
 * `userpipe ingest` as a real process against the real Kafka of the test stack (Must-show 1, 3, 4 of the
 * ingest issue, plus the response format, a missing topic and watch mode). Unique topics per run, deleted at
 * the end. The crash test and the broker-down test live in their own files.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { formatSpoolName } from '../../src/sinks/spool-name.ts';
import { runCli, startCli } from '../support/run-cli.ts';
import { SKIP } from './kafka-helpers.ts';
import { HEADER, createTopic, deleteTopics, ingestArgs, readTopic, unique, writeSpool } from './ingest-helpers.ts';

const topics: string[] = [];
const dirs: string[] = [];

async function tempRoot(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'userpipe-it-ingest-'));
  dirs.push(d);
  return d;
}

function newTopic(prefix: string): string {
  const t = unique(prefix);
  topics.push(t, `${t}.dlq`);
  return t;
}

describe('ingest against the real Kafka', { skip: SKIP }, () => {
  after(async () => {
    await deleteTopics(...topics);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('Must-show 1: 10 files x 100 users -> exactly 1,000 messages keyed by login.uuid with headers; all files .COMPLETED; exit 0', async () => {
    const root = await tempRoot();
    const topic = newTopic('it-ingest-1');
    const fx = await writeSpool(join(root, 'spool'), 10, 100);
    const r = await runCli(ingestArgs(root, topic, '--once', '--create-topic'), { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const msgs = await readTopic(topic);
    assert.equal(msgs.length, 1000);
    const keys = new Set(msgs.map((m) => m.key?.toString()));
    assert.deepEqual(keys, fx.uuids, 'one message per user, keyed by its login.uuid');
    for (const m of msgs) {
      const key = m.key?.toString() ?? '';
      assert.equal(m.value?.toString(), fx.values.get(key), 'value is the user\'s compact JSON');
      const source = m.headers.get(HEADER.source) ?? '';
      const ids = fx.files.get(source);
      assert.ok(ids, `source header names a spool file: ${source}`);
      assert.equal(ids[Number(m.headers.get(HEADER.index))], key, 'index is the user\'s position in its response');
      assert.equal(m.headers.get(HEADER.format), 'user');
      assert.match(m.headers.get(HEADER.fetchedAt) ?? '', /^\d{13}$/);
      assert.match(m.headers.get(HEADER.seq) ?? '', /^\d{1,2}$/);
    }
    const names = (await readdir(join(root, 'spool'))).sort();
    assert.deepEqual(names, [...fx.files.keys()].sort().map((n) => `${n}.COMPLETED`));
    assert.equal((await readTopic(`${topic}.dlq`)).length, 0, 'the dead-letter topic exists and is empty');
    assert.match(r.stderr, /ingest finished files=10 quarantined=0 users=1000 sent=1000 errors=0/);
  });

  test('Must-show 3: one good file and one of each bad kind: good data in Kafka, bad files quarantined with reasons, bad user in the DLQ; exit 0', async () => {
    const root = await tempRoot();
    const spool = join(root, 'spool');
    const topic = newTopic('it-ingest-3');
    const fx = await writeSpool(spool, 1, 20);
    const t = Date.UTC(2026, 10, 30, 13, 0, 0, 0);
    const bad = (i: number): string => formatSpoolName(t + i, 0, 'bad');
    const withBadUser = generateResponse({ seed: unique('bad-user'), page: 1, results: 5 });
    const noLogin = withBadUser.results[3] as Record<string, unknown>;
    delete noLogin.login;
    const full = JSON.stringify(generateResponse({ seed: 'trunc', page: 1, results: 3 }));
    const cases: Array<[string, string | Buffer, RegExp | undefined]> = [
      [bad(1), 'this is not JSON at all\n', /^not valid JSON/],
      [bad(2), '', /^empty file/],
      [bad(3), full.slice(0, full.length - 25), /^not valid JSON/],
      [bad(4), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff]), /^not UTF-8/],
      [bad(5), '{"error":"Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."}', /^wrong shape/],
      [bad(6), JSON.stringify(withBadUser) + '\n', undefined],
    ];
    for (const [name, body] of cases) await writeFile(join(spool, name), body);

    const r = await runCli(ingestArgs(root, topic, '--once', '--create-topic'), { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);

    const msgs = await readTopic(topic);
    const goodUuids = new Set([...fx.uuids, ...withBadUser.results.filter((u) => u.login).map((u) => u.login?.uuid as string)]);
    assert.equal(msgs.length, 24, 'the good file and the 4 good users of the file with a bad user');
    assert.deepEqual(new Set(msgs.map((m) => m.key?.toString())), goodUuids);

    const quarantine = join(root, 'quarantine');
    for (const [name, body, reason] of cases) {
      if (!reason) continue;
      const sidecar = JSON.parse(await readFile(join(quarantine, `${name}.error.json`), 'utf8')) as { reason: string; position?: { byte: number } };
      assert.match(sidecar.reason, reason, name);
      assert.equal(typeof sidecar.position?.byte, 'number', `${name}: the sidecar says where`);
      assert.deepEqual(await readFile(join(quarantine, name)), Buffer.from(body), `${name} is kept byte for byte`);
    }
    const dlq = await readTopic(`${topic}.dlq`);
    assert.equal(dlq.length, 1);
    assert.match(dlq[0]?.headers.get(HEADER.error) ?? '', /no login\.uuid/);
    assert.equal(dlq[0]?.headers.get(HEADER.source), bad(6));
    assert.equal(dlq[0]?.headers.get(HEADER.index), '3');
    assert.deepEqual(JSON.parse(dlq[0]?.value?.toString() ?? ''), noLogin);

    const left = (await readdir(spool)).sort();
    assert.deepEqual(left, [...fx.files.keys(), bad(6)].map((n) => `${n}.COMPLETED`).sort(), 'only done files remain in the spool dir');
    assert.match(r.stderr, /quarantined=5/);
    assert.equal((r.stderr.match(/spool file quarantined/g) ?? []).length, 5);
  });

  test('Must-show 4: with each of gzip, snappy, lz4, zstd the messages read back identical', async () => {
    const read: Record<string, string[]> = {};
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      const root = await tempRoot();
      const topic = newTopic(`it-ingest-4-${codec}`);
      // The same seed for every codec: the same files, byte for byte.
      await writeSpool(join(root, 'spool'), 3, 200, 'compression-seed');
      const r = await runCli(ingestArgs(root, topic, '--once', '--create-topic', '--partitions', '1', '--compression', codec), { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`compression=${codec}`));
      const msgs = await readTopic(topic);
      read[codec] = msgs.map((m) => JSON.stringify([m.key?.toString(), m.value?.toString(), [...m.headers.entries()]]));
      assert.equal(read[codec]?.length, 600, codec);
    }
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) assert.deepEqual(read[codec], read.none, `${codec} reads back identical`);
  });

  test('--message-format response: one message per response, the file\'s line as the value, no key', async () => {
    const root = await tempRoot();
    const topic = newTopic('it-ingest-resp');
    const fx = await writeSpool(join(root, 'spool'), 3, 10);
    const r = await runCli(ingestArgs(root, topic, '--once', '--create-topic', '--message-format', 'response'), { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const msgs = await readTopic(topic);
    assert.equal(msgs.length, 3);
    for (const m of msgs) {
      const source = m.headers.get(HEADER.source) ?? '';
      const line = (await readFile(join(root, 'spool', `${source}.COMPLETED`), 'utf8')).trim();
      assert.equal(m.value?.toString(), line);
      assert.equal(m.key, null);
      assert.equal(m.headers.get(HEADER.format), 'response');
      assert.equal(fx.files.has(source), true);
    }
  });

  test('a topic that does not exist (no --create-topic) fails fast with exit 1, and nothing is marked done', async () => {
    const root = await tempRoot();
    const topic = unique('it-ingest-missing');
    await writeSpool(join(root, 'spool'), 1, 5);
    const r = await runCli(ingestArgs(root, topic, '--once'), { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /unknown topic/);
    assert.ok(!(await readdir(join(root, 'spool'))).some((n) => n.endsWith('.COMPLETED')));
  });

  test('watch mode: files arriving later are sent; SIGTERM drains and exits 130', async () => {
    const root = await tempRoot();
    const spool = join(root, 'spool');
    const topic = newTopic('it-ingest-watch');
    await createTopic(topic);
    await createTopic(`${topic}.dlq`);
    const first = await writeSpool(spool, 2, 10, 'watch-a');
    const p = startCli(ingestArgs(root, topic, '--poll-interval', '50ms'), { timeoutMs: 120_000 });
    try {
      await p.waitForOutput(/ingest started/);
      const waitDone = async (n: number): Promise<void> => {
        const deadline = Date.now() + 30_000;
        while ((await readdir(spool)).filter((f) => f.endsWith('.COMPLETED')).length < n) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} done files\n${p.stderr()}`);
          await new Promise((res) => setTimeout(res, 50));
        }
      };
      await waitDone(2);
      const more = generateResponse({ seed: 'watch-b', page: 1, results: 7 });
      const later = formatSpoolName(Date.UTC(2026, 10, 30, 14, 0, 0, 0), 0, 'later');
      // Written like fetch does: a hidden temporary file, then a rename (the hidden name is never taken).
      await writeFile(join(spool, `.${later}.tmp`), JSON.stringify(more));
      await new Promise((res) => setTimeout(res, 200));
      assert.ok((await readdir(spool)).includes(`.${later}.tmp`), 'the hidden file is left alone');
      const { rename } = await import('node:fs/promises');
      await rename(join(spool, `.${later}.tmp`), join(spool, later));
      await waitDone(3);
      p.kill('SIGTERM');
      const r = await p.done;
      assert.equal(r.code, 130, r.stderr);
      const msgs = await readTopic(topic);
      assert.equal(msgs.length, 27);
      assert.equal(new Set(msgs.map((m) => m.key?.toString())).size, first.uuids.size + 7);
    } finally {
      p.kill('SIGKILL');
    }
  });
});
