/**
 * process (Kafka -> InfluxDB) against raw POSTs to /api/v2/write of the same points already rendered as line
 * protocol (rendered untimed with the stage's own transforms from the same users and origins, so the very
 * same lines and timestamps), in bodies of the same batch size (5,000 lines), gzip at the same level (1),
 * the same number of requests in flight (2), into a fresh database of its own. The ceiling gzips inside the
 * timed loop, as any client must; it does not read Kafka, decode, validate or render.
 */
import { CEILING_REPEATS, repeatCeiling, type BenchContext, type Measured } from '../lib/context.ts';
import { disturbances, ensureOk, runUserpipe, window, type ChildResult } from '../lib/child.ts';
import { renderBatches } from '../lib/spool-data.ts';
import { ensureTopic } from './ingest.ts';
import { readNote } from './archive.ts';
import { readProbe } from '../lib/read-probe.ts';

export const BATCH = 5000;
export const IN_FLIGHT = 2;
export const GZIP_LEVEL = 1;

export async function newDatabase(ctx: BenchContext, what: string): Promise<string> {
  const db = ctx.dbName(what);
  await ctx.stack.influx.createDb(db);
  ctx.onCleanup(`database ${db}`, () => ctx.stack.influx.dropDb(db));
  return db;
}

export async function runProcess(
  ctx: BenchContext,
  topic: string,
  db: string,
  opts: { nodeFlags?: string[]; sampleMs?: number; label?: string; cliDefaults?: boolean } = {},
): Promise<{ r: ChildResult; args: string[] }> {
  const group = ctx.name(`process-${Math.random().toString(36).slice(2, 6)}`);
  const args = [
    'process',
    '--once',
    '--start',
    'earliest',
    '--group',
    group,
    '--brokers',
    ctx.o.brokers,
    '--topic',
    topic,
    '--influx-url',
    ctx.o.influxUrl,
    '--influx-bucket',
    db,
    // The ceiling comparison needs the raw POSTs' batch size; the memory run measures what users get.
    ...(opts.cliDefaults ? [] : ['--batch-size', String(BATCH), '--max-in-flight', String(IN_FLIGHT)]),
  ];
  const r = await runUserpipe({
    label: opts.label ?? 'userpipe process',
    args,
    timeoutMs: 60 * 60_000,
    ...(opts.nodeFlags ? { nodeFlags: opts.nodeFlags } : {}),
    ...(opts.sampleMs ? { sampleMs: opts.sampleMs } : {}),
  });
  ensureOk(r);
  return { r, args };
}

export async function benchProcess(ctx: BenchContext): Promise<Measured> {
  const topic = await ensureTopic(ctx);
  const spoolDir = ctx.topic?.spoolDir ?? '';
  const dbUp = await newDatabase(ctx, 'up');
  await ctx.ready();
  ctx.log(`process: topic ${topic} to InfluxDB database ${dbUp}`);
  const { r, args } = await runProcess(ctx, topic, dbUp);
  const done = r.logs.find((l) => l.msg === 'process done');
  const written = Number(done?.written ?? 0);

  const lp = await renderBatches(spoolDir, BATCH);
  await ctx.ready();
  ctx.log(`process ceiling: ${lp.batches.length} raw POSTs of ${BATCH} lines, ${CEILING_REPEATS} times`);
  let countRaw = 0;
  const ceiling = await repeatCeiling(async (i) => {
    // A fresh database per repeat: writing points that already exist is another workload (overwrites).
    const dbRaw = await newDatabase(ctx, `raw${i}`);
    const t0 = performance.now();
    await ctx.stack.influx.writeAll(dbRaw, lp.batches, IN_FLIGHT, GZIP_LEVEL);
    const seconds = (performance.now() - t0) / 1000;
    countRaw = await ctx.stack.influx.count(dbRaw, 'users', 'uuid');
    await ctx.stack.influx.dropDb(dbRaw);
    return seconds;
  });
  const notes: string[] = [readNote(await readProbe(ctx.o.brokers, topic, ctx.name('read-process'), false))];
  const countUp = await ctx.stack.influx.count(dbUp, 'users', 'uuid');
  if (countUp !== written || countRaw !== lp.lines) notes.push(`points queryable: userpipe ${countUp} of ${written}, ceiling ${countRaw} of ${lp.lines}`);
  return {
    stage: 'process → InfluxDB',
    records: written,
    bytes: lp.bytes,
    bytesWhat: 'line protocol, uncompressed',
    userpipe: {
      label: `userpipe process --once (batch ${BATCH}, ${IN_FLIGHT} in flight, gzip)`,
      seconds: window(r, 'process starting', 'process done'),
      wallSeconds: r.wallSeconds,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: r.peakRssBytes,
      disturbed: disturbances(r),
      args,
    },
    ceiling: {
      label: `raw POST /api/v2/write (node:http) of the same lines pre-rendered, ${BATCH}/request, gzip ${GZIP_LEVEL}, ${IN_FLIGHT} in flight`,
      ...ceiling,
    },
    notes,
  };
}
