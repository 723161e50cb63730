/**
 * The process stage when writing fails: fatal answers (token rejected, bucket not found) stop it with nothing
 * committed past them; refused lines are dead-lettered with the destination's message; an outage pauses
 * reading with memory bounded and one log line each way; a stop during an outage gives up without committing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import { PipelineError } from '../../src/core/errors.ts';
import { Lifecycle } from '../../src/core/lifecycle.ts';
import { silentLogger } from '../../src/core/log.ts';
import { sleep } from '../../src/core/sleep.ts';
import { Stats } from '../../src/core/stats.ts';
import { runProcessStage } from '../../src/stages/process.ts';
import { HEADER } from '../../src/transforms/user-message.ts';
import {
  ScriptedWriter,
  captureLogger,
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

const uuidOf = (line: string): string => /uuid="([^"]+)"/.exec(line)?.[1] ?? '';

for (const [code, status] of [
  ['AUTH', 401],
  ['NOT_FOUND', 404],
] as const) {
  test(`process failures: ${code} stops the stage with that error, nothing committed; a rerun writes everything`, async () => {
    await produce(log, messagesOf(users(250), 'user'));
    const writer = new ScriptedWriter(async () => {
      throw new PipelineError(code, `HTTP ${status}: the cause`, { details: { status } });
    });
    const { logger, lines } = captureLogger();
    await assert.rejects(runProcessStage(stageOptions(log, writer), new Lifecycle(), new Stats(), logger), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, code);
      return true;
    });
    assert.ok(writer.calls <= 2, `stopped after the failing writes in flight (${writer.calls})`);
    assert.equal((await committed(log)).get(0), 0n, 'no offset committed');
    assert.equal(lines.filter((l) => /ERROR/.test(l)).length, 0, 'the stage logs no error per record; the command reports the one error');

    const good = new ScriptedWriter();
    await runProcessStage(stageOptions(log, good), new Lifecycle(), new Stats(), silentLogger);
    assert.equal(good.lines.length, 250, 'all redelivered');
    assert.deepEqual(await committed(log), new Map([[0, 250n]]));
  });
}

test('process failures: a fatal error in a later batch commits exactly the batches before it', async () => {
  await produce(log, messagesOf(users(500), 'user'));
  const writer = new ScriptedWriter(async (_lines, call) => {
    if (call === 3) throw new PipelineError('AUTH', 'token revoked');
    return undefined;
  });
  await assert.rejects(runProcessStage(stageOptions(log, writer, { maxInFlight: 1 }), new Lifecycle(), new Stats(), silentLogger), /token revoked/);
  assert.equal((await committed(log)).get(0), 200n, 'two batches of 100 written, the third failed');
});

test('process failures: lines the destination refuses go to the DLQ with its message; the rest are written and committed', async () => {
  const us = users(50);
  const refusedUuids = new Set([us[3]?.login?.uuid, us[40]?.login?.uuid]);
  await produce(log, [...messagesOf(us.slice(0, 30), 'user'), ...messagesOf(us.slice(30), 'response', 1)]);
  const refusedLines: string[] = [];
  const writer = new ScriptedWriter(async (lines) => {
    const rejected = lines
      .filter((l) => refusedUuids.has(uuidOf(l)))
      .map((line) => ({ line, message: 'partial write: field type conflict: input field "age" is type float, already exists as type integer dropped=1', status: 400 }));
    refusedLines.push(...rejected.map((r) => r.line));
    return { written: lines.length - rejected.length, rejected, requests: 1 + rejected.length };
  });
  const stats = new Stats();
  const result = await runProcessStage(stageOptions(log, writer), new Lifecycle(), stats, silentLogger);
  assert.equal(writer.lines.length, 48);
  assert.equal(refusedLines.length, 2);
  const dead = await deadLetters(spill);
  assert.equal(dead.length, 2);
  assert.deepEqual(new Set(dead.map((d) => d.key)), refusedUuids);
  for (const d of dead) {
    assert.match(d.headers[HEADER.error] ?? '', /^InfluxDB refused the point \(HTTP 400\): partial write: field type conflict/);
    assert.equal(d.headers[HEADER.stage], 'process');
    assert.equal(d.headers[HEADER.format], 'user');
    assert.equal(d.headers['userpipe-dlq-value'], 'line-protocol');
    assert.ok(refusedLines.includes(d.value), 'the value is the line that was refused');
    assert.equal(uuidOf(d.value), d.key);
  }
  // The origin, to find the original in the source topic: message offset and position in its response.
  const fromResponse = dead.find((d) => d.key === us[40]?.login?.uuid);
  assert.equal(fromResponse?.headers[HEADER.index], '10');
  assert.equal(fromResponse?.headers['userpipe-from-offset'], '30');
  const alone = dead.find((d) => d.key === us[3]?.login?.uuid);
  assert.equal(alone?.headers['userpipe-from-offset'], '3');
  assert.deepEqual(await committed(log), new Map([[0, 31n]]));
  assert.equal(stats.stage('process').errors, 2);
  assert.equal(result.deadLettered, 2);
  assert.equal(result.written, 48);
});

test('process failures: while the destination is down reading pauses (bounded in flight), one line when it starts and one when it ends', async () => {
  await produce(log, messagesOf(users(2000), 'user'));
  let down = true;
  const writer = new ScriptedWriter(async () => {
    // what InfluxWriter does: retry inside write(), calling the hook before each wait
    for (let attempt = 1; down; attempt++) {
      writer.onRetry({ attempt, delayMs: 5, error: new PipelineError('UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:8086') });
      await sleep(5);
    }
    return undefined;
  });
  const stats = new Stats();
  const { logger, lines } = captureLogger();
  const run = runProcessStage(stageOptions(log, writer, { batchSize: 50, maxInFlight: 2 }), new Lifecycle(), stats, logger);
  await tick(300);
  const c = stats.stage('process');
  // the two batches in flight (+ the one user the batcher may hold): no third batch is filled while both wait
  assert.ok(c.in <= 50 * 2 + 1, `users taken in while down: ${c.in}`);
  assert.equal(c.out, 0);
  assert.ok(c.retries > 10);
  assert.equal(writer.maxRunning, 2, 'at most --max-in-flight writes');
  assert.deepEqual((await committed(log)).get(0), 0n, 'nothing committed while down');
  const inWhileDown = c.in;
  await tick(100);
  assert.equal(stats.stage('process').in, inWhileDown, 'reading stays paused');
  down = false;
  await run;
  assert.equal(writer.lines.length, 2000);
  assert.deepEqual(await committed(log), new Map([[0, 2000n]]));
  assert.equal(lines.filter((l) => /influxdb unavailable/.test(l)).length, 1, lines.join(''));
  assert.equal(lines.filter((l) => /influxdb available again/.test(l)).length, 1, lines.join(''));
});

test('process failures: a stop while the destination is down gives up waiting; nothing unwritten is committed', async () => {
  await produce(log, messagesOf(users(300), 'user'));
  const writer = new ScriptedWriter(async (_lines, call, signal) => {
    if (call === 1) return undefined; // the first batch is written
    for (let attempt = 1; ; attempt++) {
      writer.onRetry({ attempt, delayMs: 5, error: new PipelineError('UNAVAILABLE', 'HTTP 503') });
      await sleep(5, signal); // throws ABORTED when the stage gives up
    }
  });
  const lifecycle = new Lifecycle();
  const { logger, lines } = captureLogger();
  const run = runProcessStage(stageOptions(log, writer, { once: false, maxInFlight: 1 }), lifecycle, new Stats(), logger);
  await tick(200);
  lifecycle.softStop();
  const result = await run;
  assert.equal(result.written, 100);
  assert.ok(result.abandoned >= 100, `abandoned ${result.abandoned}`);
  assert.deepEqual(await committed(log), new Map([[0, 100n]]));
  assert.ok(lines.some((l) => /redelivered on the next start/.test(l)));
});

test('process failures: a dead letter the log cannot take stops the stage; that message is not committed', async () => {
  // no spill dir: the memory log refuses messages of a topic nobody reads
  const strict = new MemoryLog({ groups: { t: ['process'] }, capacity: 1000 });
  const us = users(5);
  await produce(strict, [...messagesOf(us.slice(0, 2), 'user'), { value: 'garbage' }, ...messagesOf(us.slice(2), 'user', 1)]);
  const writer = new ScriptedWriter();
  await assert.rejects(runProcessStage(stageOptions(strict, writer), new Lifecycle(), new Stats(), silentLogger));
  const pos = (await committed(strict)).get(0) ?? 0n;
  assert.ok(pos <= 2n, `committed ${pos}: never past the message that could not be dead-lettered`);
  await strict.close();
});

test('process failures: regression: the stage does not hang when the DLQ fails with more dead letters queued than it holds', async () => {
  // Before the fix the generator waited forever to queue dead letter 257 for a DLQ sink that had stopped.
  const strict = new MemoryLog({ groups: { t: ['process'] }, capacity: 10_000 });
  await produce(strict, Array.from({ length: 1000 }, (_, i) => ({ value: `garbage ${i}` })));
  const run = runProcessStage(stageOptions(strict, new ScriptedWriter()), new Lifecycle(), new Stats(), silentLogger);
  const outcome = await Promise.race([run.then(() => 'resolved', () => 'rejected'), tick(10_000).then(() => 'hung')]);
  assert.equal(outcome, 'rejected');
  assert.equal((await committed(strict)).get(0), 0n);
  await strict.close();
});

test('process failures: a hard abort abandons writes in flight; what was acked stays committed', async () => {
  await produce(log, messagesOf(users(300), 'user'));
  const writer = new ScriptedWriter(async (_lines, call, signal) => {
    if (call === 1) return undefined;
    await sleep(60_000, signal);
    return undefined;
  });
  const lifecycle = new Lifecycle();
  const run = runProcessStage(stageOptions(log, writer, { maxInFlight: 1 }), lifecycle, new Stats(), silentLogger);
  await tick(150);
  lifecycle.hardAbort();
  await run.then(
    (r) => assert.ok(r.abandoned > 0),
    (err: unknown) => assert.equal((err as PipelineError).code, 'ABORTED'),
  );
  assert.deepEqual(await committed(log), new Map([[0, 100n]]));
});
