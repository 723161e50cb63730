/**
 * The process stage over run-all's in-process log (a real MessageLog, dead letters spilled to NDJSON) with a
 * scripted PointWriter or the line-protocol file sink: ack/commit accounting, both message formats, the DLQ
 * and the dedupe window. Failures (fatal errors, outages, refusals) are in process-failures.test.ts; the real
 * Kafka and InfluxDB in test/integration/process*.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import { Lifecycle } from '../../src/core/lifecycle.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Stats } from '../../src/core/stats.ts';
import { LpFileWriter } from '../../src/sinks/lp-files.ts';
import { runProcessStage } from '../../src/stages/process.ts';
import { HEADER } from '../../src/transforms/user-message.ts';
import {
  ScriptedWriter,
  committed,
  deadLetters,
  messagesOf,
  produce,
  stageOptions,
  tick,
  users,
} from '../support/process-fixtures.ts';

let spill: string;
let log: MemoryLog;

beforeEach(async () => {
  spill = await mkdtemp(join(tmpdir(), 'userpipe-process-'));
  log = new MemoryLog({ groups: { t: ['process'] }, capacity: 100_000, spillDir: spill });
});
afterEach(async () => {
  await log.close();
  await rm(spill, { recursive: true, force: true });
});

const timestampOf = (line: string): string => line.slice(line.lastIndexOf(' ') + 1);
const uuidOf = (line: string): string => /uuid="([^"]+)"/.exec(line)?.[1] ?? '';

test('process stage: per-user messages -> one point per user, unique timestamps, offsets committed to the end', async () => {
  const us = users(300);
  await produce(log, messagesOf(us, 'user'));
  const writer = new ScriptedWriter();
  const stats = new Stats();
  const result = await runProcessStage(stageOptions(log, writer), new Lifecycle(), stats, silentLogger);
  assert.equal(writer.lines.length, 300);
  assert.deepEqual(new Set(writer.lines.map(uuidOf)), new Set(us.map((u) => u.login?.uuid)));
  assert.equal(new Set(writer.lines.map(timestampOf)).size, 300, 'timestamps unique per user');
  assert.ok(writer.calls >= 3, 'batches of at most 100 lines');
  assert.deepEqual(await committed(log), new Map([[0, 300n]]));
  const c = stats.stage('process');
  assert.deepEqual([c.in, c.out, c.errors], [300, 300, 0]);
  assert.deepEqual(result, { users: 300, invalid: 0, duplicates: 0, written: 300, deadLettered: 0, abandoned: 0 });
  assert.deepEqual(await deadLetters(spill), []);
});

test('process stage: response messages are exploded; each offset committed once all its users are written', async () => {
  const us = users(150);
  await produce(log, [...messagesOf(us.slice(0, 50), 'response', 0), ...messagesOf(us.slice(50, 120), 'response', 1), ...messagesOf(us.slice(120), 'response', 2)]);
  const writer = new ScriptedWriter();
  await runProcessStage(stageOptions(log, writer, { batchSize: 40 }), new Lifecycle(), new Stats(), silentLogger);
  assert.equal(writer.lines.length, 150);
  assert.equal(new Set(writer.lines.map(timestampOf)).size, 150);
  assert.deepEqual(await committed(log), new Map([[0, 3n]]));
});

test('process stage: the same messages processed twice give byte-identical lines (redelivery overwrites)', async () => {
  const msgs = [...messagesOf(users(30), 'user'), ...messagesOf(users(20, 'other'), 'response', 1)];
  await produce(log, msgs);
  const first = new ScriptedWriter();
  await runProcessStage(stageOptions(log, first), new Lifecycle(), new Stats(), silentLogger);
  const again = new MemoryLog({ groups: { t: ['process'] }, capacity: 1000, spillDir: spill });
  await produce(again, msgs);
  const second = new ScriptedWriter();
  await runProcessStage(stageOptions(again, second), new Lifecycle(), new Stats(), silentLogger);
  assert.equal(first.lines.length, 50);
  assert.deepEqual(second.lines, first.lines);
});

test('process stage: invalid users and unusable messages go to the DLQ with the reason; their offsets are committed', async () => {
  const us = users(6);
  const bad = structuredClone(us[1]!);
  (bad as { nat: string }).nat = 'XX';
  const noUuid = structuredClone(us[2]!);
  delete noUuid.login;
  const msgs = messagesOf([us[0]!, us[3]!], 'user');
  const withBad = messagesOf([bad, noUuid], 'response', 1);
  await produce(log, [
    ...msgs,
    { value: 'not json at all', headers: { [HEADER.format]: 'user' } },
    ...withBad,
    { value: JSON.stringify({ results: [us[4], 7] }) },
  ]);
  const writer = new ScriptedWriter();
  const stats = new Stats();
  const result = await runProcessStage(stageOptions(log, writer), new Lifecycle(), stats, silentLogger);
  assert.deepEqual(new Set(writer.lines.map(uuidOf)), new Set([us[0], us[3], us[4]].map((u) => u?.login?.uuid)));
  const dead = await deadLetters(spill);
  assert.equal(dead.length, 4);
  for (const d of dead) {
    assert.equal(d.headers[HEADER.stage], 'process');
    assert.equal(d.headers['userpipe-from-topic'], 't');
  }
  const reasons = dead.map((d) => d.headers[HEADER.error]);
  assert.match(reasons[0] ?? '', /not JSON/);
  assert.equal(dead[0]?.value, 'not json at all', 'an unusable message is kept as it was');
  assert.match(reasons[1] ?? '', /invalid user: \/nat must be one of/);
  assert.equal(dead[1]?.key, bad.login?.uuid);
  assert.deepEqual(JSON.parse(dead[1]?.value ?? ''), bad, 'the user alone, out of its response');
  assert.equal(dead[1]?.headers[HEADER.index], '0');
  assert.match(reasons[2] ?? '', /no login\.uuid/);
  assert.match(reasons[3] ?? '', /invalid user: \/ must be object/);
  assert.equal(dead[3]?.headers[HEADER.index], '1');
  assert.deepEqual(await committed(log), new Map([[0, 5n]]), 'every message settled: written or dead-lettered');
  assert.equal(stats.stage('process').errors, 4);
  assert.equal(result.invalid, 4);
  assert.equal(result.users, 7);
});

test('process stage: a uuid seen again within the window is skipped (and committed); window 0 writes it again', async () => {
  const us = users(10);
  // the same users fetched twice (another spool file): different origins, same uuids
  const msgs = [...messagesOf(us, 'user', 0), ...messagesOf(us.slice(0, 4), 'user', 1)];
  await produce(log, msgs);
  const writer = new ScriptedWriter();
  const result = await runProcessStage(stageOptions(log, writer), new Lifecycle(), new Stats(), silentLogger);
  assert.equal(writer.lines.length, 10);
  assert.equal(result.duplicates, 4);
  assert.deepEqual(await committed(log), new Map([[0, 14n]]));

  const off = new MemoryLog({ groups: { t: ['process'] }, capacity: 1000, spillDir: spill });
  await produce(off, msgs);
  const all = new ScriptedWriter();
  const r2 = await runProcessStage(stageOptions(off, all, { dedupeWindow: 0 }), new Lifecycle(), new Stats(), silentLogger);
  assert.equal(all.lines.length, 14);
  assert.equal(r2.duplicates, 0);
});

test('process stage: a duplicate in another partition is committed only after its original is written', async () => {
  const parts = new MemoryLog({ groups: { t: ['process'] }, capacity: 1000, partitions: 2, spillDir: spill });
  const [a, b] = users(2);
  // Unkeyed response messages go round robin: p0 gets A (and later B), p1 gets A again.
  await produce(parts, [
    ...messagesOf([a!], 'response', 0),
    ...messagesOf([a!], 'response', 1),
  ]);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const writer = new ScriptedWriter(async (lines) => {
    if (lines.some((l) => uuidOf(l) === a?.login?.uuid)) await held;
    return undefined;
  });
  const run = runProcessStage(stageOptions(parts, writer, { batchSize: 1 }), new Lifecycle(), new Stats(), silentLogger);
  await tick(100);
  const during = await committed(parts);
  assert.equal(during.get(1) ?? 0n, 0n, 'p1 holds only the duplicate: not committed while A is unwritten');
  release();
  const result = await run;
  assert.equal(result.duplicates, 1);
  assert.deepEqual(await committed(parts), new Map([[0, 1n], [1, 1n]]));
  assert.equal(writer.lines.length, 1);
  void b;
  await parts.close();
});

test('process stage: --lp-dir sink gets the same lines, one per user, fsynced before the commit', async () => {
  const us = users(120);
  await produce(log, messagesOf(us, 'user'));
  const dir = join(spill, 'lp');
  const recorder = new ScriptedWriter();
  const lp = new LpFileWriter({ dir, prefix: 'users' });
  await runProcessStage(stageOptions(log, lp), new Lifecycle(), new Stats(), silentLogger);
  const files = await readdir(dir);
  assert.ok(files.length >= 1 && files.every((f) => /^users-\d{8}-\d{2}(\.\d+)?\.lp$/.test(f)), files.join(','));
  const lines = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('').split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 120);
  assert.deepEqual(await committed(log), new Map([[0, 120n]]));
  // same lines as any other writer would get
  const again = new MemoryLog({ groups: { t: ['process'] }, capacity: 1000, spillDir: spill });
  await produce(again, messagesOf(us, 'user'));
  await runProcessStage(stageOptions(again, recorder), new Lifecycle(), new Stats(), silentLogger);
  assert.deepEqual(lines, recorder.lines);
});

test('process stage: --once on an empty topic returns at once, nothing written', async () => {
  const writer = new ScriptedWriter();
  const result = await runProcessStage(stageOptions(log, writer), new Lifecycle(), new Stats(), silentLogger);
  assert.equal(writer.calls, 0);
  assert.equal(result.users, 0);
});

test('process stage: without --once it runs until stopped, then writes what is batched and commits it', async () => {
  const writer = new ScriptedWriter();
  const lifecycle = new Lifecycle();
  const run = runProcessStage(stageOptions(log, writer, { once: false, flushIntervalMs: 10_000, batchSize: 1000 }), lifecycle, new Stats(), silentLogger);
  await produce(log, messagesOf(users(25), 'user'));
  await tick(100);
  assert.equal(writer.calls, 0, 'batch not full, flush interval not reached');
  lifecycle.softStop();
  const result = await run;
  assert.equal(result.written, 25, 'the partial batch is written at the stop');
  assert.deepEqual(await committed(log), new Map([[0, 25n]]));
});

test('process stage: flatten() returns the very same text (it only changes how V8 stores it)', async () => {
  const { flatten } = await import('../../src/stages/process-points.ts');
  let rope = 'users';
  for (let i = 0; i < 60; i++) rope += `,k${i}=v ${i}\\ "x"`;
  const copy = rope.split('').join('');
  assert.equal(flatten(rope), copy);
  assert.equal(flatten(''), '');
  assert.equal(flatten('12'), '12', 'a numeric-looking line stays a string');
});
