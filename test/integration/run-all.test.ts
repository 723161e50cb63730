/**
 * `userpipe run-all`, end to end: embedded (no Kafka, HDFS or InfluxDB named) and against the real stack;
 * a SIGINT mid-run drains and exits 0; the metrics endpoint moves while it runs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KafkaAdmin } from '../../src/clients/kafka.ts';
import { InfluxWriter } from '../../src/clients/influx-writer.ts';
import { WebHdfsClient } from '../../src/clients/webhdfs.ts';
import { archiveFiles, archiveLines } from '../support/hdfs-archive.ts';
import { runCli, startCli } from '../support/run-cli.ts';
import { BROKERS, HDFS_URL, INFLUX_URL, uniqueName } from '../support/stack-env.ts';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'run-all-it-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function localArchive(dir: string): Promise<{ files: string[]; uuids: string[] }> {
  const files = (await walk(join(dir, 'archive'))).filter((f) => !f.includes('/_userpipe/'));
  const uuids: string[] = [];
  for (const f of files.filter((x) => !x.endsWith('.tmp'))) {
    for (const line of (await readFile(f, 'utf8')).split('\n').filter(Boolean)) {
      uuids.push((JSON.parse(line) as { login: { uuid: string } }).login.uuid);
    }
  }
  return { files, uuids };
}

async function lpPoints(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const f of await walk(join(dir, 'influx'))) lines.push(...(await readFile(f, 'utf8')).split('\n').filter(Boolean));
  return lines;
}

test('run-all with nothing installed: ends by itself, 10,000 archive lines and 10,000 points', async () => {
  const cwd = join(work, 'embedded');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(cwd, { recursive: true });
  const r = await runCli(['run-all', '--source', 'synthetic', '--results', '1000', '--interval', '0', '--max-users', '10000'], {
    cwd,
    timeoutMs: 180_000,
  });
  assert.equal(r.code, 0, r.stderr);
  for (const part of ['fetch:', 'ingest:', 'archive:', 'process:']) assert.match(r.stderr, new RegExp(`INFO  ${part} `), `start line of ${part}`);
  assert.match(r.stderr, /in-process log/);
  const data = join(cwd, 'userpipe-data');
  const { files, uuids } = await localArchive(data);
  assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, 'no .tmp left');
  assert.equal(uuids.length, 10_000);
  assert.equal(new Set(uuids).size, 10_000);
  const points = await lpPoints(data);
  assert.equal(points.length, 10_000);
  assert.match(r.stderr, /stage\s+in\s+out/, 'summary table at exit');
});

test('run-all against the real Kafka, HDFS and InfluxDB: 10,000 lines in HDFS, 10,000 points in InfluxDB', async () => {
  const name = uniqueName('runall');
  const db = name.replace(/[^A-Za-z0-9_]/g, '_');
  const influx = new InfluxWriter({ url: INFLUX_URL, bucket: db });
  await influx.query(`CREATE DATABASE "${db}"`);
  const hdfs = new WebHdfsClient({ urls: [HDFS_URL], user: 'root' });
  const root = `/userpipe-test/${name}`;
  const admin = await KafkaAdmin.create({ brokers: [BROKERS], clientId: 'run-all-test' });
  const cwd = join(work, name);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(cwd, { recursive: true });
  try {
    const r = await runCli(
      ['run-all', '--source', 'synthetic', '--results', '1000', '--interval', '0', '--max-users', '10000',
        '--brokers', BROKERS, '--topic', name, '--hdfs-url', HDFS_URL, '--archive-path', `${root}/%Y-%m-%d/%H%M`,
        '--influx-url', INFLUX_URL, '--influx-bucket', db, '--archive-group', `${name}-a`, '--process-group', `${name}-p`],
      { cwd, timeoutMs: 240_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ingest: .*Kafka/);
    assert.match(r.stderr, /archive: .*HDFS/);
    assert.match(r.stderr, /process: .*InfluxDB/);
    const files = await archiveFiles(hdfs, root);
    assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0);
    const uuids = (await archiveLines(hdfs, files)).map((l) => (JSON.parse(l) as { login: { uuid: string } }).login.uuid);
    assert.equal(uuids.length, 10_000);
    assert.equal(new Set(uuids).size, 10_000);
    const q = await influx.query(`SELECT COUNT("uuid") FROM "users"`, db);
    assert.equal(q.results?.[0]?.series?.[0]?.values?.[0]?.[1], 10_000);
  } finally {
    await influx.query(`DROP DATABASE "${db}"`).catch(() => {});
    await hdfs.delete(root, { recursive: true }).catch(() => {});
    for (const t of [name, `${name}.dlq`]) await admin.deleteTopic(t).catch(() => {});
    await admin.close();
  }
});

test('run-all: SIGINT mid-run exits 0 within the drain timeout, no .tmp left, everything read is committed; metrics move', async () => {
  const cwd = join(work, 'sigint');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(cwd, { recursive: true });
  const p = startCli(
    ['run-all', '--source', 'synthetic', '--results', '200', '--interval', '50ms', '--metrics-port', '0', '--drain-timeout', '30s', '--progress-interval', '1s'],
    { cwd, timeoutMs: 120_000 },
  );
  await p.waitForOutput(/metrics url=http:\/\/127\.0\.0\.1:(\d+)\/metrics/, 30_000);
  const url = /metrics url=(\S+)/.exec(p.stderr())?.[1] as string;
  const scrape = async (): Promise<number> => {
    const text = await (await fetch(url)).text();
    return Number(/userpipe_records_out_total\{stage="process"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  let first = 0;
  for (let i = 0; i < 100 && first === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    first = await scrape();
  }
  await new Promise((r) => setTimeout(r, 1500));
  const second = await scrape();
  assert.ok(second > first && first > 0, `process counter moved: ${first} -> ${second}`);
  const stoppedAt = Date.now();
  p.kill('SIGINT');
  const r = await p.done;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - stoppedAt < 30_000, 'within the drain timeout');
  const data = join(cwd, 'userpipe-data');
  const { files, uuids } = await localArchive(data);
  assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, 'no .tmp left');
  const offsets = JSON.parse(await readFile(join(data, 'log', 'user_logs', 'offsets.json'), 'utf8')) as Record<string, Record<string, string>>;
  const end = uuids.length;
  assert.equal(Number(offsets['userpipe-archive']?.['0']), end, 'archive committed all it archived');
  assert.equal(Number(offsets['userpipe-process']?.['0']), end, 'process committed as much as archive');
  assert.equal((await lpPoints(data)).length, end, 'every archived user is also a point');
});
