/**
 * Issue 7, must-show 3: `kill -9` of run-all several times during a run against the real stack, restarting
 * each time; at the end HDFS holds each user exactly once and InfluxDB exactly one point per user.
 *
 * The run is a seeded synthetic fetch of pages 1..N (`--seed --last-page`), so every restart continues at the
 * next unwritten page and the total is fixed whatever the kills hit. Prints its figures as one JSON line.
 *
 *   node test/scenarios/run-all-crash.ts [--users 30000] [--kills 3] [--results 1000]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KafkaAdmin } from '../../src/clients/kafka.ts';
import { InfluxWriter } from '../../src/clients/influx-writer.ts';
import { WebHdfsClient } from '../../src/clients/webhdfs.ts';
import { archiveFiles, archiveLines } from '../support/hdfs-archive.ts';
import { startCli } from '../support/run-cli.ts';
import { BROKERS, HDFS_URL, INFLUX_URL, uniqueName } from '../support/stack-env.ts';

export interface CrashFigures {
  users: number;
  kills: number;
  killedAfterSeconds: number[];
  hdfsLines: number;
  hdfsDistinctUsers: number;
  influxPoints: number;
  influxDistinctUuids: number;
  kafkaMessages: number;
  kafkaDuplicates: number;
  tmpLeft: number;
  finalExit: number | null;
  seconds: number;
  /** The last lines of the final run's log when it did not exit 0. */
  finalLog?: string;
}

export async function runAllCrashScenario(o: { users: number; kills: number; results: number; random?: () => number }): Promise<CrashFigures> {
  const random = o.random ?? Math.random;
  const started = Date.now();
  const name = uniqueName('crash');
  const db = name.replace(/[^A-Za-z0-9_]/g, '_');
  const root = `/userpipe-test/${name}`;
  const influx = new InfluxWriter({ url: INFLUX_URL, bucket: db });
  const hdfs = new WebHdfsClient({ urls: [HDFS_URL], user: 'root' });
  const admin = await KafkaAdmin.create({ brokers: [BROKERS], clientId: 'crash-scenario' });
  const cwd = await mkdtemp(join(tmpdir(), 'run-all-crash-'));
  await mkdir(cwd, { recursive: true });
  await influx.query(`CREATE DATABASE "${db}"`);
  const pages = Math.ceil(o.users / o.results);
  const args = [
    'run-all', '--source', 'synthetic', '--seed', name, '--page', '1', '--last-page', String(pages), '--results', String(o.results),
    '--interval', '100ms', '--brokers', BROKERS, '--topic', name, '--partitions', '2', '--hdfs-url', HDFS_URL,
    '--archive-path', `${root}/%Y-%m-%d/%H%M`, '--roll-count', '700', '--influx-url', INFLUX_URL, '--influx-bucket', db,
    '--archive-group', `${name}-a`, '--process-group', `${name}-p`, '--progress-interval', '1s',
  ];
  const killedAfterSeconds: number[] = [];
  try {
    for (let k = 0; k < o.kills; k++) {
      const p = startCli([...args, '--log-level', 'debug'], { cwd, timeoutMs: 300_000 });
      // Let it get somewhere (at least one progress line), then kill it at a random moment.
      await p.waitForOutput(/progress/, 120_000).catch(() => {});
      const wait = 500 + Math.floor(random() * 2500);
      await new Promise((r) => setTimeout(r, wait));
      killedAfterSeconds.push(Math.round((Date.now() - started) / 100) / 10);
      p.kill('SIGKILL');
      const killed = await p.done;
      if (process.env.CRASH_LOG_DIR) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(join(process.env.CRASH_LOG_DIR, `run-${k}.log`), killed.stderr);
      }
    }
    const last = await startCli([...args, '--log-level', 'debug'], { cwd, timeoutMs: 600_000 }).done;
    if (process.env.CRASH_LOG_DIR) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(process.env.CRASH_LOG_DIR, 'run-final.log'), last.stderr);
    }
    const files = await archiveFiles(hdfs, root);
    const tmpLeft = files.filter((f) => f.endsWith('.tmp')).length;
    const lines = await archiveLines(hdfs, files.filter((f) => !f.endsWith('.tmp')));
    const uuids = lines.map((l) => (JSON.parse(l) as { login: { uuid: string } }).login.uuid);
    const count = await influx.query(`SELECT COUNT("uuid") FROM "users"`, db);
    const distinct = await influx.query(`SELECT COUNT(DISTINCT("uuid")) FROM "users"`, db);
    const ends = await admin.endOffsets(name);
    const kafkaMessages = ends.reduce((a, b) => a + Number(b), 0);
    return {
      users: pages * o.results,
      kills: o.kills,
      killedAfterSeconds,
      hdfsLines: lines.length,
      hdfsDistinctUsers: new Set(uuids).size,
      influxPoints: Number(count.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0),
      influxDistinctUuids: Number(distinct.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0),
      kafkaMessages,
      kafkaDuplicates: kafkaMessages - pages * o.results,
      tmpLeft,
      finalExit: last.code,
      seconds: Math.round((Date.now() - started) / 1000),
      ...(last.code === 0 ? {} : { finalLog: last.stderr.split('\n').filter((l) => !l.includes(' progress ')).slice(-25).join('\n') }),
    };
  } finally {
    if (process.env.CRASH_KEEP) {
      console.error(`kept: ${root} topic ${name} db ${db}`);
    } else {
      await influx.query(`DROP DATABASE "${db}"`).catch(() => {});
      await hdfs.delete(root, { recursive: true }).catch(() => {});
      for (const t of [name, `${name}.dlq`]) await admin.deleteTopic(t).catch(() => {});
      await rm(cwd, { recursive: true, force: true });
    }
    await admin.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { users: { type: 'string', default: '30000' }, kills: { type: 'string', default: '3' }, results: { type: 'string', default: '1000' } } });
  const f = await runAllCrashScenario({ users: Number(values.users), kills: Number(values.kills), results: Number(values.results) });
  console.log(JSON.stringify(f));
  const ok = f.finalExit === 0 && f.tmpLeft === 0 && f.hdfsLines === f.users && f.hdfsDistinctUsers === f.users && f.influxPoints === f.users && f.influxDistinctUuids === f.users;
  console.log(ok ? 'PASS' : 'FAIL');
  process.exitCode = ok ? 0 : 1;
}
