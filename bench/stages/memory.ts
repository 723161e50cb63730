/**
 * The memory run: `process --once` over a large backlog (1M users by default) and over a small one (10k),
 * RSS sampled every 250 ms through each run. Bounded memory means the two peaks are close: what is held is
 * set by batch size and in-flight bounds, not by the backlog (must be within 30%).
 */
import type { BenchContext } from '../lib/context.ts';
import type { ChildResult, RssSample } from '../lib/child.ts';
import { window } from '../lib/child.ts';
import { produceUsers } from '../lib/produce.ts';
import { fmt, table } from '../lib/report.ts';
import { newDatabase, runProcess } from './process.ts';

export interface MemoryRun {
  users: number;
  seconds: number;
  wallSeconds: number;
  peakRssBytes: number;
  rss: RssSample[];
  cpuSeconds: number | undefined;
  heap: ChildResult['heap'];
}

export interface MemoryResult {
  large: MemoryRun;
  small: MemoryRun;
  produceSeconds: number;
}

async function backlog(ctx: BenchContext, users: number, what: string): Promise<string> {
  const topic = ctx.name(what);
  await ctx.stack.createTopic(topic, ctx.o.partitions);
  await ctx.stack.createTopic(`${topic}.dlq`, 1);
  ctx.onCleanup(`topic ${topic}`, async () => {
    await ctx.stack.deleteTopic(topic);
    await ctx.stack.deleteTopic(`${topic}.dlq`);
  });
  let next = 100_000;
  await produceUsers({
    brokers: ctx.o.brokers,
    topic,
    users,
    codec: ctx.o.codec,
    seed: `${ctx.runId}-${what}`,
    onProgress: (sent) => {
      if (sent >= next) {
        ctx.log(`  ${what}: ${sent} produced`);
        next += 100_000;
      }
    },
  });
  const inTopic = await ctx.stack.endOffsetsTotal(topic);
  if (inTopic !== users) throw new Error(`backlog ${topic}: ${inTopic} records, expected ${users}`);
  return topic;
}

async function measure(ctx: BenchContext, topic: string, users: number, what: string): Promise<MemoryRun> {
  const db = await newDatabase(ctx, what);
  await ctx.ready();
  ctx.log(`memory: process --once over a backlog of ${users} users (${topic})`);
  const { r } = await runProcess(ctx, topic, db, { sampleMs: 250, label: `userpipe process (${what})`, cliDefaults: true });
  const written = Number(r.logs.find((l) => l.msg === 'process done')?.written ?? 0);
  if (written !== users) throw new Error(`memory run ${what}: ${written} users written, expected ${users}`);
  // Free the space at once: a million points is not needed afterwards.
  await ctx.stack.influx.dropDb(db);
  const sampled = Math.max(0, ...r.rss.map((s) => s.rssBytes));
  return {
    users,
    seconds: window(r, 'process starting', 'process done'),
    wallSeconds: r.wallSeconds,
    peakRssBytes: r.peakRssBytes ?? sampled,
    rss: r.rss,
    cpuSeconds: r.cpuSeconds,
    heap: r.heap,
  };
}

export async function benchMemory(ctx: BenchContext): Promise<MemoryResult> {
  const t0 = performance.now();
  ctx.log(`memory: producing backlogs of ${ctx.o.memoryUsers} and ${ctx.o.memorySmall} users`);
  const largeTopic = await backlog(ctx, ctx.o.memoryUsers, 'mem-large');
  const smallTopic = await backlog(ctx, ctx.o.memorySmall, 'mem-small');
  const produceSeconds = (performance.now() - t0) / 1000;
  const small = await measure(ctx, smallTopic, ctx.o.memorySmall, 'mem_small');
  const large = await measure(ctx, largeTopic, ctx.o.memoryUsers, 'mem_large');
  return { large, small, produceSeconds };
}

/** RSS at each tenth of the run (max within the tenth), for the report. */
function profileOf(rss: RssSample[]): string[] {
  if (rss.length === 0) return Array.from({ length: 10 }, () => 'n/a');
  const end = rss[rss.length - 1]?.tMs ?? 1;
  const out: string[] = [];
  for (let i = 0; i < 10; i++) {
    const lo = (end * i) / 10;
    const hi = (end * (i + 1)) / 10;
    const inside = rss.filter((s) => s.tMs >= lo && s.tMs <= hi).map((s) => s.rssBytes);
    out.push(inside.length ? fmt.int(Math.max(...inside) / 2 ** 20) : '—');
  }
  return out;
}

export function memorySection(m: MemoryResult): string {
  const ratio = m.large.peakRssBytes / m.small.peakRssBytes;
  const verdict = ratio <= 1.3 && ratio >= 1 / 1.3 ? 'within 30%' : 'NOT within 30%';
  const row = (r: MemoryRun): string[] => [
    fmt.int(r.users),
    fmt.int(r.users / r.seconds),
    fmt.two(r.seconds),
    r.cpuSeconds === undefined ? 'n/a' : fmt.two((r.cpuSeconds / r.users) * 100_000),
    fmt.mib(r.peakRssBytes),
    fmt.mib(median(r.rss.map((s) => s.rssBytes))),
    fmt.mib(r.heap?.heapTotal),
    fmt.mib(r.heap?.heapUsed),
    fmt.mib(r.heap?.external),
    String(r.rss.length),
  ];
  return [
    '## Memory: process with a backlog',
    '',
    table([row(m.small), row(m.large)], ['backlog (users)', 'rec/s', 'work s', 'CPU s / 100k', 'peak RSS', 'median RSS', 'peak V8 heap (total)', 'peak V8 heap (used)', 'peak external (Buffers)', 'RSS samples']),
    '',
    `Peak RSS with ${fmt.int(m.large.users)} vs ${fmt.int(m.small.users)} users in the backlog: ${fmt.two(ratio)}× — **${verdict}**.`,
    `Backlogs produced in ${fmt.one(m.produceSeconds)} s (userpipe's producer adapter, acks=1, the messages ingest would write).`,
    '',
    'RSS (MiB, max per tenth of the run):',
    '',
    table(
      [
        [`${fmt.int(m.small.users)} users`, ...profileOf(m.small.rss)],
        [`${fmt.int(m.large.users)} users`, ...profileOf(m.large.rss)],
      ],
      ['run', ...Array.from({ length: 10 }, (_, i) => `${i * 10}–${i * 10 + 10}%`)],
    ),
  ].join('\n');
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
