/**
 * ingest (spool files -> Kafka, acks=all, the same codec) against Kafka's own ProducerPerformance sending
 * the same users (its `--payload-file`: one user JSON per line, records drawn at random from it) with
 * acks=all and the same compression.type, to a topic with the same partition count. ProducerPerformance
 * keeps Kafka's producer defaults otherwise (batch.size 16 KiB, linger.ms 5, idempotence on); its records
 * carry no key and no headers, userpipe's carry the user's uuid as key and five small headers.
 */
import { join } from 'node:path';
import { CEILING_REPEATS, repeatCeiling, type BenchContext, type Measured } from '../lib/context.ts';
import { REPO_ROOT, disturbances, ensureOk, runChild, runUserpipe, window, type ChildResult } from '../lib/child.ts';
import { copySpool, writePayloadFile } from '../lib/spool-data.ts';
import { ensureSpool } from './fetch.ts';

/** Lines in ProducerPerformance's payload file: it holds them all in its heap. */
const PAYLOAD_MAX_LINES = 50_000;

export async function runIngest(ctx: BenchContext, spoolDir: string, topic: string, nodeFlags: string[] = []): Promise<{ r: ChildResult; args: string[] }> {
  const args = [
    'ingest',
    '--once',
    '--brokers',
    ctx.o.brokers,
    '--topic',
    topic,
    '--spool-dir',
    spoolDir,
    '--data-dir',
    `${spoolDir}-ingest-state`,
    '--settle-time',
    '0',
    '--acks',
    'all',
    '--compression',
    ctx.o.codec,
  ];
  const r = await runUserpipe({ label: 'userpipe ingest', args, timeoutMs: 30 * 60_000, nodeFlags });
  ensureOk(r);
  return { r, args };
}

export async function createBenchTopic(ctx: BenchContext, topic: string): Promise<void> {
  await ctx.stack.createTopic(topic, ctx.o.partitions);
  await ctx.stack.createTopic(`${topic}.dlq`, 1);
  ctx.onCleanup(`topic ${topic}`, async () => {
    await ctx.stack.deleteTopic(topic);
    await ctx.stack.deleteTopic(`${topic}.dlq`);
  });
}

export interface PerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  line: string;
  run: ChildResult;
}

/** Parse ProducerPerformance's final summary line. */
export function parsePerfSummary(text: string): Omit<PerfResult, 'run'> | undefined {
  const lines = text.split('\n').filter((l) => /records sent, .* records\/sec/.test(l));
  const line = lines[lines.length - 1];
  if (!line) return undefined;
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency/.exec(line);
  if (!m) return undefined;
  return { records: Number(m[1]), recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), avgLatencyMs: Number(m[4]), line: line.trim() };
}

export async function producerPerformance(ctx: BenchContext, topic: string, records: number, payloadFile: string): Promise<PerfResult> {
  const run = await runChild({
    label: 'ProducerPerformance',
    command: 'bash',
    args: [
      join(REPO_ROOT, 'test/stack/stack'),
      'kafka-run',
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--payload-file',
      payloadFile,
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${ctx.o.brokers}`,
      'acks=all',
      `compression.type=${ctx.o.codec}`,
    ],
    env: { ...process.env, USERPIPE_KAFKA_RUN_OPTS: '-Xmx1g' },
    timeoutMs: 30 * 60_000,
  });
  const parsed = parsePerfSummary(`${run.stdout}\n${run.stderr.join('\n')}`);
  if (run.code !== 0 || !parsed) throw new Error(`ProducerPerformance failed (exit ${run.code}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-10).join('\n')}`);
  return { ...parsed, run };
}

export async function benchIngest(ctx: BenchContext): Promise<Measured> {
  const spoolDir = await ensureSpool(ctx);
  const users = ctx.spool?.users ?? ctx.o.users;
  const topic = ctx.name('users');
  await createBenchTopic(ctx, topic);
  await ctx.ready();
  ctx.log(`ingest: ${users} users from ${spoolDir} to topic ${topic} (${ctx.o.partitions} partitions, acks=all, ${ctx.o.codec})`);
  const { r, args } = await runIngest(ctx, spoolDir, topic);
  const inTopic = await ctx.stack.endOffsetsTotal(topic);

  const payloadFile = ctx.path('payload.ndjson');
  const payload = await writePayloadFile(spoolDir, payloadFile, PAYLOAD_MAX_LINES);
  const ppTopic = ctx.name('pp');
  await ctx.stack.createTopic(ppTopic, ctx.o.partitions);
  ctx.onCleanup(`topic ${ppTopic}`, () => ctx.stack.deleteTopic(ppTopic));
  await ctx.ready();
  ctx.log(`ingest ceiling: ProducerPerformance ${users} records to ${ppTopic}, ${CEILING_REPEATS} times`);
  const lines: string[] = [];
  const ceiling = await repeatCeiling(async () => {
    const run = await producerPerformance(ctx, ppTopic, users, payloadFile);
    lines.push(run.line);
    return run.records / run.recordsPerSec;
  });

  ctx.topic = { topic, users: inTopic, spoolDir };
  const notes = lines.map((l) => `ProducerPerformance: \`${l}\``);
  if (inTopic !== users) notes.push(`topic holds ${inTopic} records for ${users} users`);
  return {
    stage: 'ingest → Kafka',
    records: users,
    bytes: payload.userBytes,
    bytesWhat: 'message values (user JSON)',
    userpipe: {
      label: `userpipe ingest --once --acks all --compression ${ctx.o.codec}`,
      seconds: window(r, 'ingest started', 'ingest finished'),
      wallSeconds: r.wallSeconds,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: r.peakRssBytes,
      disturbed: disturbances(r),
      args,
    },
    ceiling: {
      label: `Kafka ProducerPerformance, acks=all, compression.type=${ctx.o.codec}, payloads: ${payload.lines} of the same users`,
      ...ceiling,
    },
    notes,
  };
}

/** The topic for archive/process: the one ingest filled, or (run alone) filled now, untimed. */
export async function ensureTopic(ctx: BenchContext): Promise<string> {
  if (ctx.topic) return ctx.topic.topic;
  const spoolDir = await ensureSpool(ctx);
  const topic = ctx.name('users');
  await createBenchTopic(ctx, topic);
  ctx.log(`preparing topic ${topic} with userpipe ingest (untimed)`);
  const copy = ctx.path('spool-for-topic');
  await copySpool(spoolDir, copy);
  await runIngest(ctx, copy, topic);
  ctx.topic = { topic, users: await ctx.stack.endOffsetsTotal(topic), spoolDir };
  return topic;
}
