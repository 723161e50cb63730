/**
 * The ingest stage over run-all's in-process log (a real MessageLog implementation, spilling to NDJSON files),
 * plus producers that fail on purpose to pin down the sink's error handling. Kafka itself is exercised in
 * test/integration/ingest*.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import type { LogProducer, MessageLog, ProduceRecord } from '../../src/clients/message-log.ts';
import { PipelineError } from '../../src/core/errors.ts';
import { Lifecycle } from '../../src/core/lifecycle.ts';
import { createLogger } from '../../src/core/log.ts';
import { Stats } from '../../src/core/stats.ts';
import { formatSpoolName } from '../../src/sinks/spool-name.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { fromMessageLog, runIngestStage, type IngestStageOptions } from '../../src/stages/ingest.ts';
import { HEADER } from '../../src/transforms/user-message.ts';

let root: string;
let spool: string;
let spill: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'userpipe-ingest-'));
  spool = join(root, 'spool');
  spill = join(root, 'spill');
  await mkdir(spool);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 30, 6, 0, 0, 0);
const name = (i: number): string => formatSpoolName(T0 + i, 0, 'unit');

async function writeResponses(n: number, users: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await writeFile(join(spool, name(i)), JSON.stringify(generateResponse({ seed: 'stage', page: i + 1, results: users })) + '\n');
  }
}

function options(log: MessageLog, over: Partial<IngestStageOptions> = {}): IngestStageOptions {
  return {
    log: fromMessageLog(log),
    topic: 't',
    dlqTopic: 't.dlq',
    format: 'user',
    maxMessagesInFlight: 1000,
    maxBatchMessages: 50,
    maxBatchBytes: 1 << 20,
    lingerMs: 5,
    maxInFlightBatches: 2,
    retryMaxDelayMs: 20,
    spool: {
      dir: spool,
      completion: { mode: 'rename' },
      quarantineDir: join(root, 'quarantine'),
      settleTimeMs: 0,
      pollIntervalMs: 10,
      once: true,
      maxFilesInFlight: 3,
      maxFileSize: 1 << 20,
    },
    ...over,
  };
}

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'info', write: (l) => lines.push(l) }) };
}

async function spilled(topic: string): Promise<Array<{ key: string | null; headers: Record<string, string>; value: string }>> {
  try {
    const text = await readFile(join(spill, `${topic}.ndjson`), 'utf8');
    return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { key: string | null; headers: Record<string, string>; value: string });
  } catch {
    return [];
  }
}

/** A MessageLog whose producer fails on purpose, in front of the real in-process log. */
function faulty(inner: MemoryLog, fail: (topic: string, records: readonly ProduceRecord[], call: number) => PipelineError | undefined): MessageLog & { calls: number } {
  const wrapper = {
    calls: 0,
    description: 'faulty log',
    ensureTopic: inner.ensureTopic.bind(inner),
    endOffsets: inner.endOffsets.bind(inner),
    consumer: inner.consumer.bind(inner),
    close: inner.close.bind(inner),
    producer: async (): Promise<LogProducer> => {
      const p = await inner.producer();
      return {
        send: async (topic, records, signal) => {
          wrapper.calls += 1;
          const err = fail(topic, records, wrapper.calls);
          if (err) throw err;
          await p.send(topic, records, signal);
        },
        close: () => p.close(),
      };
    },
  };
  return wrapper;
}

test('stage: every user of every file reaches the log with key and headers; files marked done; counters right', async () => {
  await writeResponses(4, 25);
  const stats = new Stats();
  const lc = new Lifecycle();
  const { logger } = capture();
  const result = await runIngestStage(options(new MemoryLog({ spillDir: spill })), lc, stats, logger);
  assert.deepEqual(result, { filesDone: 4, filesQuarantined: 0 });
  const msgs = await spilled('t');
  assert.equal(msgs.length, 100);
  assert.equal(new Set(msgs.map((m) => m.key)).size, 100, 'keys are the users\' uuids, all distinct');
  const first = msgs.find((m) => m.headers[HEADER.source] === name(0) && m.headers[HEADER.index] === '0');
  assert.ok(first);
  assert.equal(first.headers[HEADER.fetchedAt], String(T0));
  assert.equal(first.key, (JSON.parse(first.value) as { login: { uuid: string } }).login.uuid);
  assert.deepEqual((await readdir(spool)).sort(), [0, 1, 2, 3].map((i) => `${name(i)}.COMPLETED`));
  const c = stats.stage('ingest');
  assert.deepEqual([c.in, c.out, c.errors], [100, 100, 0]);
});

test('stage: a bad user is dead-lettered with its reason while its file goes on; a bad file is quarantined', async () => {
  const resp = generateResponse({ seed: 'stage', page: 9, results: 3 });
  delete (resp.results[1] as Record<string, unknown>).login;
  await writeFile(join(spool, name(0)), JSON.stringify(resp));
  await writeFile(join(spool, name(1)), '\u0000\u0001\u0002');
  const stats = new Stats();
  const result = await runIngestStage(options(new MemoryLog({ spillDir: spill })), new Lifecycle(), stats, capture().logger);
  assert.deepEqual(result, { filesDone: 1, filesQuarantined: 1 });
  assert.equal((await spilled('t')).length, 2);
  const dlq = await spilled('t.dlq');
  assert.equal(dlq.length, 1);
  assert.match(dlq[0]?.headers[HEADER.error] ?? '', /no login\.uuid/);
  assert.equal(dlq[0]?.headers[HEADER.index], '1');
  const c = stats.stage('ingest');
  assert.deepEqual([c.in, c.out, c.errors], [3, 2, 2], 'errors: one dead-lettered user, one quarantined file');
});

test('stage: an unreachable log is waited for with one warning and one recovery line, and nothing is lost', async () => {
  await writeResponses(3, 10);
  const log = faulty(new MemoryLog({ spillDir: spill }), (_t, _r, call) =>
    call <= 6 ? new PipelineError('NETWORK', 'ECONNREFUSED 127.0.0.1:9092') : undefined,
  );
  const { lines, logger } = capture();
  const stats = new Stats();
  await runIngestStage(options(log), new Lifecycle(), stats, logger);
  assert.equal((await spilled('t')).length, 30);
  assert.equal(lines.filter((l) => l.includes('kafka unavailable, waiting')).length, 1, lines.join(''));
  assert.equal(lines.filter((l) => l.includes('kafka available again')).length, 1, lines.join(''));
  assert.ok(!lines.some((l) => l.includes('    at ')), 'no stack trace');
  assert.ok(stats.stage('ingest').retries >= 6);
});

test('stage: a message the log refuses quarantines only its own file', async () => {
  await writeResponses(3, 4);
  const refusedSource = name(1);
  const log = faulty(new MemoryLog({ spillDir: spill }), (_t, records) =>
    records.some((r) => r.headers?.[HEADER.source] === refusedSource && r.headers[HEADER.index] === '2')
      ? new PipelineError('INVALID_INPUT', 'kafka send: message larger than maxMessageBytes')
      : undefined,
  );
  const stats = new Stats();
  const result = await runIngestStage(options(log), new Lifecycle(), stats, capture().logger);
  assert.deepEqual(result, { filesDone: 2, filesQuarantined: 1 });
  const sidecar = JSON.parse(await readFile(join(root, 'quarantine', `${refusedSource}.error.json`), 'utf8')) as { reason: string };
  assert.match(sidecar.reason, /refused downstream: kafka send: message larger/);
  const sent = await spilled('t');
  assert.equal(sent.filter((m) => m.headers[HEADER.source] !== refusedSource).length, 8, 'the other files are complete');
});

test('stage: a fatal error (auth) fails the stage and marks nothing done', async () => {
  await writeResponses(2, 5);
  const log = faulty(new MemoryLog({ spillDir: spill }), () => new PipelineError('AUTH', 'SASL authentication failed'));
  await assert.rejects(runIngestStage(options(log), new Lifecycle(), new Stats(), capture().logger), /SASL authentication failed/);
  assert.deepEqual((await readdir(spool)).sort(), [name(0), name(1)]);
});

test('stage: a stop while the log is unreachable ends the stage promptly and leaves the files for the next run', async () => {
  await writeResponses(2, 5);
  const log = faulty(new MemoryLog({ spillDir: spill }), () => new PipelineError('NETWORK', 'ECONNREFUSED'));
  const lc = new Lifecycle();
  setTimeout(() => lc.softStop('test'), 100);
  const started = Date.now();
  await runIngestStage(options(log, { retryMaxDelayMs: 60_000 }), lc, new Stats(), capture().logger);
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual((await readdir(spool)).sort(), [name(0), name(1)]);
});

test('stage: one message in flight at a time still finishes (linger flushes partial batches)', async () => {
  await writeResponses(2, 7);
  await runIngestStage(options(new MemoryLog({ spillDir: spill }), { maxMessagesInFlight: 1, maxBatchMessages: 100 }), new Lifecycle(), new Stats(), capture().logger);
  assert.equal((await spilled('t')).length, 14);
});

test('stage: response format sends one message per response, as written', async () => {
  await writeResponses(2, 3);
  const stats = new Stats();
  await runIngestStage(options(new MemoryLog({ spillDir: spill }), { format: 'response' }), new Lifecycle(), stats, capture().logger);
  const msgs = await spilled('t');
  assert.equal(msgs.length, 2);
  assert.equal(msgs[0]?.value, (await readFile(join(spool, `${name(0)}.COMPLETED`), 'utf8')).trim());
  assert.equal(msgs[0]?.headers[HEADER.format], 'response');
  assert.deepEqual([stats.stage('ingest').in, stats.stage('ingest').out], [6, 6]);
});
