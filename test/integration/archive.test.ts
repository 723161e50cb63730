import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KafkaLog } from '../../src/clients/kafka-log.ts';
import { WebHdfsClient } from '../../src/clients/webhdfs.ts';
import { LocalArchiveFs } from '../../src/sinks/archive-fs.ts';
import { runCli, startCli } from '../support/run-cli.ts';
import { BROKERS, HDFS_URL, uniqueName } from '../support/stack-env.ts';

const N = 2000;
const BASE = Date.UTC(2026, 10, 30, 4, 55, 0);
const topic = uniqueName('archive');
const root = `/userpipe-test/${topic}`;
const hdfs = new WebHdfsClient({ urls: [HDFS_URL], user: 'root' });
const kafka = new KafkaLog({ connection: { brokers: [BROKERS], clientId: 'archive-test' } });
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'archive-it-'));
  await kafka.ensureTopic(topic, { partitions: 2 });
  const producer = await kafka.producer();
  const records = Array.from({ length: N }, (_, i) => ({
    key: `uuid-${i}`,
    value: JSON.stringify({ login: { uuid: `uuid-${i}` }, i }),
    // 1.2 s apart: 2,000 records span 40 minutes, so several 10-minute buckets.
    headers: { 'userpipe-format': 'user', 'userpipe-fetched-at': String(BASE + i * 1200), 'userpipe-index': '0' },
  }));
  for (let i = 0; i < records.length; i += 500) await producer.send(topic, records.slice(i, i + 500));
  await producer.close();
});

after(async () => {
  await hdfs.delete(root, { recursive: true }).catch(() => {});
  await kafka.close();
  await rm(work, { recursive: true, force: true });
});

async function hdfsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await hdfs.listStatus(dir)) ?? [];
  for (const e of entries) {
    const p = `${dir}/${e.pathSuffix}`;
    if (e.type === 'DIRECTORY') out.push(...(await hdfsFiles(p)));
    else out.push(p);
  }
  return out;
}

async function hdfsLines(dir: string): Promise<{ files: string[]; lines: string[] }> {
  const files = (await hdfsFiles(dir)).filter((f) => !f.includes('/_userpipe/'));
  const lines: string[] = [];
  for (const f of files) lines.push(...(await hdfs.open(f)).toString().split('\n').filter(Boolean));
  return { files, lines };
}

function bucketOf(i: number): string {
  const t = new Date(BASE + i * 1200);
  const mm = String(Math.floor(t.getUTCMinutes() / 10) * 10).padStart(2, '0');
  return `${t.toISOString().slice(0, 10)}/${String(t.getUTCHours()).padStart(2, '0')}${mm}`;
}

function checkExactlyOnce(files: string[], lines: string[], dirOf: (f: string) => string): void {
  assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, 'no .tmp left');
  assert.equal(lines.length, N, `exactly ${N} lines`);
  const seen = new Set(lines.map((l) => (JSON.parse(l) as { i: number }).i));
  assert.equal(seen.size, N, 'each message once');
  for (const f of files) {
    const m = /(\d{4}-\d{2}-\d{2}\/\d{4})\/[^/]+$/.exec(f);
    assert.ok(m, `file in a bucket: ${f}`);
    void dirOf;
  }
}

test('archive --once to HDFS (first NameNode unreachable): 2,000 lines, each once, in the right buckets', async () => {
  const path = `${root}/once/%Y-%m-%d/%H%M`;
  const r = await runCli(
    ['archive', '--once', '--brokers', BROKERS, '--topic', topic, '--group', `${topic}-g1`, '--hdfs-url', `http://127.0.0.1:1,${HDFS_URL}`,
      '--path', path, '--data-dir', join(work, 'd1'), '--roll-count', '300'],
    { timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const { files, lines } = await hdfsLines(`${root}/once`);
  checkExactlyOnce(files, lines, (f) => f);
  for (const f of files) {
    const bucket = /(\d{4}-\d{2}-\d{2}\/\d{4})\//.exec(f)?.[1];
    const text = (await hdfs.open(f)).toString();
    for (const line of text.split('\n').filter(Boolean)) assert.equal(bucketOf((JSON.parse(line) as { i: number }).i), bucket, f);
  }
});

test('archive --archive-dir: the same layout on local disk', async () => {
  const dir = join(work, 'local');
  const r = await runCli(
    ['archive', '--once', '--brokers', BROKERS, '--topic', topic, '--group', `${topic}-g2`, '--archive-dir', dir,
      '--path', '/final_project/%Y-%m-%d/%H%M', '--data-dir', join(work, 'd2'), '--roll-count', '300'],
    { timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const fs = new LocalArchiveFs(dir);
  const files = (await fs.listFiles('/final_project')).filter((f) => !f.includes('/_userpipe/'));
  const lines: string[] = [];
  for (const f of files) lines.push(...((await fs.read(f))?.toString() ?? '').split('\n').filter(Boolean));
  checkExactlyOnce(files, lines, (f) => f);
  const hdfsNames = (await hdfsFiles(`${root}/once`)).filter((f) => !f.includes('/_userpipe/')).map((f) => f.slice(`${root}/once`.length)).sort();
  assert.deepEqual(files.map((f) => f.slice('/final_project'.length)).sort(), hdfsNames, 'same files as on HDFS');
});

test('archive killed with SIGKILL while files are open, then restarted: exactly 2,000 lines, no .tmp', async () => {
  const path = `${root}/crash/%Y-%m-%d/%H%M`;
  const args = ['archive', '--brokers', BROKERS, '--topic', topic, '--group', `${topic}-g3`, '--hdfs-url', HDFS_URL,
    '--path', path, '--data-dir', join(work, 'd3'), '--roll-count', '250', '--log-level', 'debug'];
  const p = startCli(args, { timeoutMs: 120_000 });
  await p.waitForOutput(/file closed/, 90_000);
  p.kill('SIGKILL');
  await p.done;
  const mid = await hdfsLines(`${root}/crash`);
  assert.ok(mid.lines.length < N, 'killed before the end');
  const r = await runCli([...args.filter((a) => a !== 'debug' && a !== '--log-level'), '--once'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const { files, lines } = await hdfsLines(`${root}/crash`);
  checkExactlyOnce(files, lines, (f) => f);
});
