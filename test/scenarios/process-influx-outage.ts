/**
 * Must-show 4 of `process`, full size: InfluxDB (the stack's shared 1.8) is stopped for 60 s in the middle of
 * a 50,000-user run, while users keep arriving on the topic. The process's RSS is sampled every second.
 *
 *   1. `before` users on a fresh topic; `userpipe process` runs (continuous, not --once) until they are written;
 *   2. `test/stack/stack stop influxdb`; the rest of the users are produced during the outage;
 *   3. after `outage` seconds, `test/stack/stack start influxdb` (ALWAYS, also on failure or Ctrl-C);
 *   4. wait until InfluxDB holds every point and the group committed every offset, then SIGTERM the process.
 * Checks: exactly `users` points; exit 0; everything committed; RSS max < 200 MB; one "unavailable" and one
 * "available again" log line. Prints the figures as one JSON line.
 *
 * Other engineers use this InfluxDB: run it rarely; the outage lasts exactly `outage` seconds.
 *
 *   node test/scenarios/process-influx-outage.ts [--users 50000] [--before 20000] [--outage 60] [--variants ';--max-semi-space-size=4']
 *
 * `--variants` runs one process per entry (its node flags; '' = defaults) side by side through the same outage,
 * each with its own group and database: one outage of the shared InfluxDB measures several settings.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { startCli } from '../support/run-cli.ts';
import { countPoints, influxAdmin, ingestMessages, kafkaAdmin, kafkaLog, processArgs, produceAll, unique } from '../integration/process-helpers.ts';

const exec = promisify(execFile);
const STACK = fileURLToPath(new URL('../stack/stack', import.meta.url));
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '50000' },
    before: { type: 'string', default: '20000' },
    outage: { type: 'string', default: '60' },
    // Node flags of each process run side by side through the same outage ('' = node's defaults), ';'-separated.
    variants: { type: 'string', default: '' },
  },
});
const VARIANTS = (values.variants ?? '').split(';');
const USERS = Number(values.users);
const BEFORE = Number(values.before);
const OUTAGE_MS = Number(values.outage) * 1000;

const topic = unique('scenario-outage');
const db = unique('scenario_outage');
const group = unique('scenario-outage-g');
const influx = influxAdmin();
const admin = await kafkaAdmin();
const log = kafkaLog();
const figures: Record<string, unknown> = { users: USERS, before: BEFORE, outageSeconds: OUTAGE_MS / 1000, topic };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let influxStopped = false;
async function stack(cmd: 'stop' | 'start'): Promise<void> {
  await exec('bash', [STACK, cmd, 'influxdb'], { timeout: 180_000 });
}
async function restartInflux(): Promise<void> {
  if (!influxStopped) return;
  await stack('start');
  influxStopped = false;
}
process.once('SIGINT', () => {
  void restartInflux().finally(() => process.exit(130));
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const users = generateResponse({ seed: topic, page: 1, results: USERS }).results;
const messages = ingestMessages(users, 'user', topic, 1000);

/** One `userpipe process` under test: its own group, database and node flags; its RSS sampled every second. */
interface Run {
  name: string;
  nodeArgs: string[];
  group: string;
  db: string;
  proc?: ReturnType<typeof startCli>;
  rss: { t: number; kb: number; phase: string }[];
  figures: Record<string, unknown>;
  checks: Record<string, boolean>;
}
const runs: Run[] = VARIANTS.map((v, i) => ({
  name: v === '' ? 'node defaults' : v,
  nodeArgs: v.split(' ').filter(Boolean),
  group: `${group}-${i}`,
  db: `${db}_${i}`,
  rss: [],
  figures: {},
  checks: {},
}));
let phase = 'before';
let sampler: NodeJS.Timeout | undefined;
const started = Date.now();
try {
  for (const r of runs) await influx.query(`CREATE DATABASE "${r.db}"`);
  await log.ensureTopic(topic, { partitions: 3 });
  await produceAll(log, topic, messages.slice(0, BEFORE));

  for (const r of runs) {
    r.proc = startCli(processArgs({ topic, group: r.group, db: r.db, extra: ['--progress-interval', '5s'] }), { timeoutMs: 20 * 60_000, nodeArgs: r.nodeArgs });
  }
  sampler = setInterval(() => {
    for (const r of runs) {
      if (!r.proc) continue;
      const p = phase;
      execFile('ps', ['-o', 'rss=', '-p', String(r.proc.pid)], (err, out) => {
        const kb = Number(out.trim());
        if (!err && kb > 0) r.rss.push({ t: (Date.now() - started) / 1000, kb, phase: p });
      });
    }
  }, 1000);

  for (const r of runs) await waitFor(`${BEFORE} points (${r.name})`, async () => (await countPoints(influx, r.db)) === BEFORE, 120_000);

  phase = 'outage';
  const stopBegan = Date.now();
  influxStopped = true;
  await stack('stop');
  const stoppedAt = Date.now();
  figures.stopCommandSeconds = (stoppedAt - stopBegan) / 1000;
  await produceAll(log, topic, messages.slice(BEFORE));
  figures.producedDuringOutageSeconds = (Date.now() - stoppedAt) / 1000;
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
  const startBegan = Date.now();
  figures.influxDownSeconds = (startBegan - stoppedAt) / 1000;
  await restartInflux();
  figures.startCommandSeconds = (Date.now() - startBegan) / 1000;
  phase = 'after';

  const end = [...(await log.endOffsets(topic)).values()].map(String);
  for (const r of runs) {
    const recoveryStarted = Date.now();
    await waitFor(`${USERS} points (${r.name})`, async () => (await countPoints(influx, r.db)) === USERS, 10 * 60_000);
    r.figures.secondsFromRestartToAllPoints = (Date.now() - recoveryStarted) / 1000;
    await waitFor(`all offsets committed (${r.name})`, async () => JSON.stringify((await admin.committedOffsets(r.group, topic)).map(String)) === JSON.stringify(end), 60_000);
    r.checks.allCommitted = true;
  }
  for (const r of runs) {
    const proc = r.proc as NonNullable<Run['proc']>;
    proc.kill('SIGTERM');
    const result = await proc.done;
    r.figures.exitCode = result.code;
    r.checks.exit0 = result.code === 0;
    r.figures.pointsAtEnd = await countPoints(influx, r.db);
    r.checks.exactlyAllPoints = r.figures.pointsAtEnd === USERS;
    r.figures.unavailableLines = (result.stderr.match(/influxdb unavailable/g) ?? []).length;
    r.figures.availableAgainLines = (result.stderr.match(/influxdb available again/g) ?? []).length;
    r.checks.oneLineEachWay = r.figures.unavailableLines === 1 && r.figures.availableAgainLines === 1;
    r.figures.logLines = result.stderr.split('\n').filter((l) => /influxdb (unavailable|available again)|process done/.test(l));
    if (!r.checks.exit0 || !r.checks.exactlyAllPoints) process.stderr.write(result.stderr);
  }
} finally {
  if (sampler) clearInterval(sampler);
  await restartInflux().catch((err: unknown) => process.stderr.write(`!!! could not restart InfluxDB: ${String(err)}\n`));
  for (const r of runs) {
    r.proc?.kill('SIGKILL');
    await influx.query(`DROP DATABASE "${r.db}"`).catch(() => {});
  }
  for (const t of [topic, `${topic}.dlq`]) await admin.deleteTopic(t).catch(() => {});
  await admin.close();
  await log.close();
}
const mb = (kb: number): number => Math.round(kb / 102.4) / 10;
let ok = true;
for (const r of runs) {
  const maxOf = (p?: string): number => mb(Math.max(0, ...r.rss.filter((s) => p === undefined || s.phase === p).map((s) => s.kb)));
  r.figures.rssSamples = r.rss.length;
  r.figures.rssMaxMB = maxOf();
  r.figures.rssMaxMBByPhase = { before: maxOf('before'), outage: maxOf('outage'), after: maxOf('after') };
  r.figures.rssEvery5s = r.rss.filter((_, i) => i % 5 === 0).map((s) => `${Math.round(s.t)}s:${mb(s.kb)}`);
  r.checks.rssUnder200MB = r.rss.length > 0 && (r.figures.rssMaxMB as number) < 200;
  const rOk = Object.keys(r.checks).length === 5 && Object.values(r.checks).every(Boolean);
  ok &&= rOk;
  process.stdout.write(JSON.stringify({ variant: r.name, ok: rOk, checks: r.checks, ...r.figures }) + '\n');
}
process.stdout.write(JSON.stringify({ ok, ...figures }) + '\n');
process.exitCode = ok ? 0 : 1;
