/**
 * Issue 5, must-show 3 (shortened; the 30-second version is test/scenarios/archive-hdfs-outage.ts): the
 * DataNode, then the NameNode, stopped during an archive run. Archive waits and retries (one log line when the
 * outage starts, one when it ends), then ends with every record exactly once and no .tmp left.
 * Stops and restarts services of the shared stack: always restarted, even when the test fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { KafkaLog } from '../../src/clients/kafka-log.ts';
import { WebHdfsClient } from '../../src/clients/webhdfs.ts';
import { REPO_ROOT, startCli } from '../support/run-cli.ts';
import { BROKERS, HDFS_URL, uniqueName } from '../support/stack-env.ts';

const run = promisify(execFile);
const stack = (...args: string[]) => run('bash', [join(REPO_ROOT, 'test/stack/stack'), ...args], { timeout: 300_000 });
const OUTAGE_MS = Number(process.env.USERPIPE_OUTAGE_MS ?? 8_000);
const N = 2000;
const topic = uniqueName('archive-outage');
const root = `/userpipe-test/${topic}`;
const hdfs = new WebHdfsClient({ urls: [HDFS_URL], user: 'root' });
const kafka = new KafkaLog({ connection: { brokers: [BROKERS], clientId: 'archive-outage-test' } });
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'archive-outage-'));
  await kafka.ensureTopic(topic, { partitions: 1 });
  const producer = await kafka.producer();
  const base = Date.UTC(2026, 10, 30, 5, 0, 0);
  const records = Array.from({ length: N }, (_, i) => ({
    key: `uuid-${i}`,
    value: JSON.stringify({ login: { uuid: `uuid-${i}` }, i }),
    headers: { 'userpipe-fetched-at': String(base + i * 100) },
  }));
  for (let i = 0; i < N; i += 500) await producer.send(topic, records.slice(i, i + 500));
  await producer.close();
});

after(async () => {
  await stack('start', 'namenode', 'datanode').catch(() => {});
  await hdfs.delete(root, { recursive: true }).catch(() => {});
  await kafka.close();
  await rm(work, { recursive: true, force: true });
});

async function lines(dir: string): Promise<{ files: string[]; lines: string[] }> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await hdfs.listStatus(d)) ?? []) {
      if (e.type === 'DIRECTORY') {
        if (e.pathSuffix !== '_userpipe') await walk(`${d}/${e.pathSuffix}`);
      } else files.push(`${d}/${e.pathSuffix}`);
    }
  };
  await walk(dir);
  const out: string[] = [];
  for (const f of files) out.push(...(await hdfs.open(f)).toString().split('\n').filter(Boolean));
  return { files, lines: out };
}

for (const service of ['datanode', 'namenode'] as const) {
  test(`archive waits through a stopped ${service} and ends with exactly ${N} lines`, async () => {
    const dir = `${root}/${service}`;
    const p = startCli(
      ['archive', '--once', '--brokers', BROKERS, '--topic', topic, '--group', `${topic}-${service}`, '--hdfs-url', HDFS_URL,
        '--path', `${dir}/%Y-%m-%d/%H%M`, '--roll-count', '40', '--data-dir', join(work, service), '--log-level', 'debug'],
      { timeoutMs: 240_000 },
    );
    try {
      await p.waitForOutput(/file closed/, 60_000);
      await stack('stop', service);
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
    } finally {
      await stack('start', service);
    }
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !l.includes('DEBUG')).slice(-15).join('\n'));
    assert.equal((r.stderr.match(/archive storage unavailable, waiting/g) ?? []).length, 1, 'one line when the outage starts');
    assert.match(r.stderr, /archive storage available again/);
    const { files, lines: all } = await lines(dir);
    assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, 'no .tmp left');
    assert.equal(all.length, N);
    assert.equal(new Set(all).size, N);
  });
}
