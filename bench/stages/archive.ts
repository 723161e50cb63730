/**
 * archive (Kafka -> HDFS over WebHDFS) against raw WebHDFS writes of the same bytes: the files the archive
 * wrote are read back (untimed), then written again, one after the other as the archive closes them, each
 * with one two-step CREATE (NameNode 307, then the bytes to the DataNode) over plain node:http. The ceiling
 * neither reads Kafka nor renames: it is what HDFS takes in, for these files, at best.
 */
import { repeatCeiling, type BenchContext, type Measured } from '../lib/context.ts';
import { disturbances, ensureOk, runUserpipe, window, type ChildResult } from '../lib/child.ts';
import { ensureTopic } from './ingest.ts';
import { readProbe } from '../lib/read-probe.ts';

export async function runArchive(ctx: BenchContext, topic: string, hdfsDir: string, nodeFlags: string[] = []): Promise<{ r: ChildResult; args: string[] }> {
  const group = ctx.name(`archive-${Math.random().toString(36).slice(2, 6)}`);
  const args = [
    'archive',
    '--once',
    '--start',
    'earliest',
    '--group',
    group,
    '--brokers',
    ctx.o.brokers,
    '--topic',
    topic,
    '--hdfs-url',
    ctx.o.hdfsUrl,
    '--hdfs-user',
    ctx.o.hdfsUser,
    '--path',
    `${hdfsDir}/%{topic}/%Y-%m-%d/%H%M`,
    '--data-dir',
    ctx.path(`archive-state-${group}`),
  ];
  const r = await runUserpipe({ label: 'userpipe archive', args, timeoutMs: 30 * 60_000, nodeFlags });
  ensureOk(r);
  return { r, args };
}

export async function benchArchive(ctx: BenchContext): Promise<Measured> {
  const topic = await ensureTopic(ctx);
  const root = ctx.hdfsRoot;
  ctx.onCleanup(`HDFS ${root}`, () => ctx.stack.hdfs.deleteRecursive(root));
  await ctx.ready();
  ctx.log(`archive: topic ${topic} to HDFS ${root}/userpipe`);
  const { r, args } = await runArchive(ctx, topic, `${root}/userpipe`);
  const done = r.logs.find((l) => l.msg === 'archive done');
  const records = Number(done?.records ?? 0);

  const files = (await ctx.stack.hdfs.listFiles(`${root}/userpipe`)).filter((f) => !f.path.includes('/_userpipe/'));
  const contents: Buffer[] = [];
  for (const f of files) contents.push(await ctx.stack.hdfs.open(f.path));
  const bytes = contents.reduce((s, b) => s + b.length, 0);
  await ctx.ready();
  ctx.log(`archive ceiling: ${files.length} raw CREATEs, ${(bytes / 1e6).toFixed(0)} MB`);
  const ceiling = await repeatCeiling(async (r) => {
    const t0 = performance.now();
    for (let i = 0; i < files.length; i++) {
      await ctx.stack.hdfs.create(`${root}/raw-${r}/${i}-${(files[i]?.path ?? '').split('/').pop() ?? 'f'}`, contents[i] as Buffer);
    }
    const seconds = (performance.now() - t0) / 1000;
    // The ceiling must have written every byte (a 201 that stored less would flatter it).
    const stored = (await ctx.stack.hdfs.listFiles(`${root}/raw-${r}`)).reduce((s, f) => s + f.length, 0);
    if (stored !== bytes) throw new Error(`archive ceiling: HDFS holds ${stored} bytes under ${root}/raw-${r}, ${bytes} were written`);
    await ctx.stack.hdfs.deleteRecursive(`${root}/raw-${r}`);
    return seconds;
  });
  const sizes = files.map((f) => `${(f.length / 1e6).toFixed(1)} MB`).join(', ');
  const read = await readProbe(ctx.o.brokers, topic, ctx.name('read-archive'), false);
  return {
    stage: 'archive → HDFS',
    records,
    bytes,
    bytesWhat: 'archived file bytes (JSON lines)',
    userpipe: {
      label: 'userpipe archive --once (WebHDFS)',
      seconds: window(r, 'archive starting', 'archive done'),
      wallSeconds: r.wallSeconds,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: r.peakRssBytes,
      disturbed: disturbances(r),
      args,
    },
    ceiling: {
      label: `raw WebHDFS two-step CREATE of the same ${files.length} files (node:http), sequential`,
      ...ceiling,
    },
    notes: [`files: ${sizes}`, readNote(read)],
  };
}

/** Where the time goes, first cut: the share of the stage that is reading Kafka with userpipe's own consumer. */
export function readNote(read: { records: number; seconds: number }): string {
  return `userpipe's Kafka consumer alone (the stage's reader, records dropped) reads the topic at ${Math.round(read.records / read.seconds).toLocaleString('en-US')} rec/s (${read.seconds.toFixed(2)} s)`;
}
