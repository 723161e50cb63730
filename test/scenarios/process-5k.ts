/**
 * Must-show 1 and 2 of `process`, full size, through the real chain against the real stack:
 *   userpipe fetch --source synthetic (5 x 1,000 users, all 21 nationalities) -> spool dir -> userpipe ingest --once -> Kafka topic
 *   -> userpipe process --once -> InfluxDB 1.8 database
 * then the same topic again (a new group; then the first group with --start earliest). Prints the figures as
 * one JSON line; exits 1 if a check fails. Topic, groups, database and files are removed at the end.
 *
 *   node test/scenarios/process-5k.ts [--users 5000] [--format user|response] [--per-response n]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NATIONALITIES } from '../../src/transforms/randomuser-types.ts';
import { runCli, type CliResult } from '../support/run-cli.ts';
import { BROKERS, countPoints, influxAdmin, kafkaAdmin, processArgs, rows, unique } from '../integration/process-helpers.ts';

const { values } = parseArgs({
  options: { users: { type: 'string', default: '5000' }, format: { type: 'string', default: 'user' }, 'per-response': { type: 'string' } },
});
const users = Number(values.users);
// A whole response is one Kafka message in the response format: keep it under the broker's 1 MB default.
const perResponse = Math.min(Number(values['per-response'] ?? (values.format === 'response' ? 250 : 1000)), users);
const topic = unique('scenario-process');
const db = unique('scenario_process');
const root = await mkdtemp(join(tmpdir(), 'userpipe-process-5k-'));
const influx = influxAdmin();
const admin = await kafkaAdmin();
const checks: Record<string, boolean> = {};
const figures: Record<string, unknown> = { users, format: values.format, topic, db };

function must(r: CliResult, what: string): void {
  if (r.code !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`${what} exited ${r.code}`);
  }
}

try {
  await influx.query(`CREATE DATABASE "${db}"`);
  const spool = join(root, 'spool');
  must(
    await runCli(['fetch', '--source', 'synthetic', '--seed', topic, '--results', String(perResponse), '--max-users', String(users), '--nat', NATIONALITIES.join(','), '--spool-dir', spool, '--data-dir', root], { timeoutMs: 120_000 }),
    'fetch',
  );
  must(
    await runCli(['ingest', '--once', '--create-topic', '--partitions', '3', '--brokers', BROKERS, '--topic', topic, '--spool-dir', spool, '--data-dir', root, '--message-format', values.format ?? 'user'], {
      timeoutMs: 120_000,
    }),
    'ingest',
  );
  figures.topicEndOffsets = (await admin.endOffsets(topic)).map(String);

  const g1 = unique('scenario-process-g1');
  const t0 = Date.now();
  must(await runCli(processArgs({ topic, group: g1, db, extra: ['--once'] }), { timeoutMs: 300_000 }), 'process');
  figures.firstRunSeconds = (Date.now() - t0) / 1000;
  figures.pointsAfterFirstRun = await countPoints(influx, db);
  checks.exactlyN = figures.pointsAfterFirstRun === users;

  const all = rows(await influx.query(`SELECT "uuid", "postcode", "latitude", "longitude", "nat" FROM "users"`, db));
  const special = all.filter((r) => r.nat === 'CA' || r.nat === 'GB' || r.nat === 'NO');
  figures.caGbNoUsers = special.length;
  figures.postcodeSamples = Object.fromEntries(['CA', 'GB', 'NO'].map((n) => [n, special.filter((r) => r.nat === n).slice(0, 3).map((r) => r.postcode)]));
  const byNat = (n: string) => special.filter((r) => r.nat === n);
  checks.caGbNoPresent = byNat('CA').length > 0 && byNat('GB').length > 0 && byNat('NO').length > 0;
  checks.caGbNoPostcodesStrings = special.length > 0 && special.every((r) => typeof r.postcode === 'string' && r.postcode !== '');
  checks.caPostcodesLookCanadian = special.filter((r) => r.nat === 'CA').every((r) => /^[A-Z]\d[A-Z] \d[A-Z]\d$/.test(String(r.postcode)));
  checks.noPostcodesKeepLeadingZeros = special.filter((r) => r.nat === 'NO').every((r) => /^\d{4}$/.test(String(r.postcode)));
  const types = Object.fromEntries(rows(await influx.query('SHOW FIELD KEYS FROM "users"', db)).map((r) => [r.fieldKey, r.fieldType]));
  figures.fieldTypes = { postcode: types.postcode, latitude: types.latitude, longitude: types.longitude, age: types.age };
  checks.fieldTypes = types.postcode === 'string' && types.latitude === 'float' && types.longitude === 'float' && types.age === 'integer';
  const committed = await admin.committedOffsets(g1, topic);
  figures.committedAfterFirstRun = committed.map(String);
  checks.allCommitted = JSON.stringify(committed.map(String)) === JSON.stringify(figures.topicEndOffsets);

  must(await runCli(processArgs({ topic, group: unique('scenario-process-g2'), db, extra: ['--once'] }), { timeoutMs: 300_000 }), 'process (new group)');
  figures.pointsAfterNewGroup = await countPoints(influx, db);
  const replay = await runCli(processArgs({ topic, group: g1, db, extra: ['--once', '--start', 'earliest'] }), { timeoutMs: 300_000 });
  must(replay, 'process (--start earliest)');
  figures.replayWritten = Number(/"written":(\d+)/.exec(replay.stderr)?.[1] ?? -1);
  figures.pointsAfterEarliest = await countPoints(influx, db);
  checks.stillExactlyN = figures.pointsAfterNewGroup === users && figures.pointsAfterEarliest === users && figures.replayWritten === users;
} finally {
  await influx.query(`DROP DATABASE "${db}"`).catch(() => {});
  for (const t of [topic, `${topic}.dlq`]) await admin.deleteTopic(t).catch(() => {});
  await admin.close();
  await rm(root, { recursive: true, force: true });
}
const ok = Object.values(checks).every(Boolean);
process.stdout.write(JSON.stringify({ ok, checks, ...figures }) + '\n');
process.exitCode = ok ? 0 : 1;
