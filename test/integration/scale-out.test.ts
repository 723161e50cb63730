/**
 * Scaling out, as users do when one machine is not enough: two `userpipe archive` and two `userpipe process`
 * processes in the same consumer groups, the second joining while records still arrive (a rebalance in the
 * middle of the stream), against the real Kafka, HDFS and InfluxDB. Each user must end up in HDFS exactly once
 * and in InfluxDB as exactly one point, both members must have taken part, and both must stop cleanly.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebHdfsClient } from '../../src/clients/webhdfs.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { archiveFiles, archiveLines } from '../support/hdfs-archive.ts';
import { startCli, type CliProcess } from '../support/run-cli.ts';
import { HDFS_URL } from '../support/stack-env.ts';
import { BROKERS, INFLUX_URL, SKIP, countPoints, influxAdmin, ingestMessages, kafkaAdmin, kafkaLog, produceAll, unique } from './process-helpers.ts';

const N = 6000;
const topic = unique('scale');
const root = `/userpipe-test/${topic}`;
const db = unique('scale_db');
const log = kafkaLog();
const influx = influxAdmin();
const hdfs = new WebHdfsClient({ urls: [HDFS_URL], user: 'root' });
const messages = ingestMessages(generateResponse({ seed: topic, page: 1, results: N }).results, 'user', topic, 500);
let work: string;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function allCommitted(group: string): Promise<boolean> {
  const admin = await kafkaAdmin();
  try {
    const [ends, committed] = await Promise.all([admin.endOffsets(topic), admin.committedOffsets(group, topic)]);
    return ends.every((end, i) => committed[i] === end);
  } finally {
    await admin.close();
  }
}

/**
 * Two members of one group: the first takes half the users alone; the second joins (a rebalance while the
 * first may still be working), and the other half arrives once both hold partitions.
 */
async function twoMembers(start: (member: string) => CliProcess, assigned: RegExp): Promise<CliProcess[]> {
  await produceAll(log, topic, messages.slice(0, N / 2));
  const a = start('a');
  await a.waitForOutput(assigned, 60_000);
  const b = start('b');
  await b.waitForOutput(assigned, 90_000);
  await produceAll(log, topic, messages.slice(N / 2));
  return [a, b];
}

async function stopAll(members: CliProcess[], signal: NodeJS.Signals = 'SIGTERM'): Promise<Array<{ code: number | null; stderr: string }>> {
  for (const m of members) m.kill(signal);
  return Promise.all(members.map((m) => m.done));
}

/** The `msg` field of JSON log lines. */
function logLines(stderr: string, msg: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe('scale-out: two members per consumer group, joining mid-stream', { skip: SKIP }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'scale-out-'));
    await log.ensureTopic(topic, { partitions: 4 });
    await influx.query(`CREATE DATABASE "${db}"`);
  });

  after(async () => {
    await hdfs.delete(root, { recursive: true }).catch(() => {});
    await influx.query(`DROP DATABASE "${db}"`).catch(() => {});
    const admin = await kafkaAdmin();
    for (const t of [topic, `${topic}.dlq`]) await admin.deleteTopic(t).catch(() => {});
    await admin.close();
    await log.close();
    await rm(work, { recursive: true, force: true });
  });

  test('two archive processes: every user in HDFS exactly once, no .tmp, both took partitions, both exit 0', async () => {
    const group = `${topic}-archive`;
    const members = await twoMembers(
      (m) =>
        startCli(
          ['archive', '--brokers', BROKERS, '--topic', topic, '--group', group, '--hdfs-url', HDFS_URL, '--path', `${root}/%Y-%m-%d/%H%M`,
            '--data-dir', join(work, `archive-${m}`), '--roll-count', '400', '--idle-timeout', '2s', '--log-format', 'json'],
          { timeoutMs: 240_000 },
        ),
      /partitions assigned/,
    );
    await waitFor('every offset committed by the archive group', () => allCommitted(group), 180_000).catch(async (err: unknown) => {
      await stopAll(members, 'SIGKILL');
      throw err;
    });
    const results = await stopAll(members);
    for (const r of results) assert.equal(r.code, 0, r.stderr.slice(-3000));
    const files = await archiveFiles(hdfs, root);
    const lines = await archiveLines(hdfs, files.filter((f) => !f.endsWith('.tmp')));
    assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'no .tmp left');
    const uuids = lines.map((l) => (JSON.parse(l) as { login: { uuid: string } }).login.uuid);
    assert.equal(new Set(uuids).size, N, 'every user archived');
    assert.equal(lines.length, N, 'each user exactly once');
    const done = results.map((r) => Number(logLines(r.stderr, 'archive done')[0]?.records ?? 0));
    assert.ok(done.every((n) => n > 0), `both members archived records: ${done.join(', ')}`);
  });

  test('two process processes: exactly one point per user, everything committed, both wrote, both exit 0', async () => {
    const group = `${topic}-process`;
    const members = await twoMembers(
      () =>
        startCli(
          ['process', '--brokers', BROKERS, '--topic', topic, '--group', group, '--influx-url', INFLUX_URL, '--influx-bucket', db, '--log-format', 'json'],
          { timeoutMs: 240_000 },
        ),
      /partitions assigned/,
    );
    try {
      await waitFor(`${N} points`, async () => (await countPoints(influx, db)) === N, 180_000);
      await waitFor('every offset committed by the process group', () => allCommitted(group), 60_000);
    } catch (err) {
      await stopAll(members, 'SIGKILL');
      throw err;
    }
    const results = await stopAll(members);
    for (const r of results) assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.equal(await countPoints(influx, db), N, 'one point per user, whatever was redelivered');
    const written = results.map((r) => Number(logLines(r.stderr, 'process done')[0]?.written ?? 0));
    assert.ok(written.every((n) => n > 0), `both members wrote: ${written.join(', ')}`);
  });
});
