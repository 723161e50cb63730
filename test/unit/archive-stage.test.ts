import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import type { CommitOffset, LogConsumer, MessageLog } from '../../src/clients/message-log.ts';
import { PipelineError } from '../../src/core/errors.ts';
import { Lifecycle } from '../../src/core/lifecycle.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Stats } from '../../src/core/stats.ts';
import { LocalArchiveFs, type ArchiveFs } from '../../src/sinks/archive-fs.ts';
import { runArchiveStage, type ArchiveStageOptions } from '../../src/stages/archive.ts';

const BASE = Date.UTC(2026, 10, 30, 4, 55, 0);

/** 2,000 messages over ~40 minutes of fetch time, keyed, with the ingest headers; a few are not JSON. */
async function produce(log: MemoryLog, n: number, badEvery = 0): Promise<{ durable: Promise<void> }> {
  const producer = await log.producer();
  const records = Array.from({ length: n }, (_, i) => ({
    key: `uuid-${i}`,
    value: badEvery && i % badEvery === 7 ? `not json ${i}` : JSON.stringify({ login: { uuid: `uuid-${i}` }, i }),
    headers: { 'userpipe-fetched-at': String(BASE + i * 1200), 'userpipe-index': '0' },
  }));
  const durable = producer.send('t', records);
  durable.catch(() => {});
  return { durable };
}

function options(log: MessageLog, fs: ArchiveFs, dir: string, extra: Partial<ArchiveStageOptions> = {}): ArchiveStageOptions {
  return {
    log,
    fs,
    topic: 't',
    group: 'archive',
    start: 'committed',
    pathTemplate: '/final_project/%Y-%m-%d/%H%M',
    filePrefix: 'events-',
    roundMs: 600_000,
    rollIntervalMs: 600_000,
    rollSizeBytes: 0,
    rollCount: 150,
    idleTimeoutMs: 0,
    gzip: false,
    bufferDir: join(dir, 'buffer'),
    once: true,
    ...extra,
  };
}

async function archivedLines(fs: LocalArchiveFs): Promise<{ files: string[]; lines: string[] }> {
  const files = await fs.listFiles('/final_project');
  const lines: string[] = [];
  for (const f of files) {
    if (f.includes('/_userpipe/')) continue;
    const text = (await fs.read(f))?.toString() ?? '';
    lines.push(...text.split('\n').filter((l) => l !== ''));
  }
  return { files, lines };
}

test('archive --once: every record once, in the bucket of its event time, no .tmp left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'archive-'));
  try {
    const log = new MemoryLog({ groups: { t: ['archive'] }, capacity: 5000, partitions: 2 });
    const { durable } = await produce(log, 2000, 500);
    const fs = new LocalArchiveFs(join(dir, 'hdfs'));
    const stats = new Stats();
    await runArchiveStage(options(log, fs, dir), new Lifecycle(), stats, silentLogger);
    await durable;
    const { files, lines } = await archivedLines(fs);
    assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0);
    const good = lines.filter((l) => !l.includes('"reason"'));
    const rejected = lines.filter((l) => l.includes('"reason"'));
    assert.equal(good.length + rejected.length, 2000);
    assert.equal(rejected.length, 4, 'values that are not JSON are kept in _rejected');
    assert.equal(new Set(good).size, good.length, 'no duplicates');
    for (const f of files.filter((x) => x.includes('/final_project/2026'))) {
      const m = /\/final_project\/(\d{4}-\d{2}-\d{2})\/(\d{2})(\d{2})\//.exec(f);
      assert.ok(m, f);
      const text = (await fs.read(f))?.toString() ?? '';
      for (const line of text.split('\n').filter(Boolean)) {
        const i = (JSON.parse(line) as { i: number }).i;
        const t = new Date(BASE + i * 1200);
        const bucket = `${t.toISOString().slice(0, 10)}/${String(t.getUTCHours()).padStart(2, '0')}${String(Math.floor(t.getUTCMinutes() / 10) * 10).padStart(2, '0')}`;
        assert.equal(`${m[1]}/${m[2]}${m[3]}`, bucket, `record ${i} in ${f}`);
      }
    }
    assert.ok(files.some((f) => f.startsWith('/final_project/_rejected/')));
    assert.equal(stats.stage('archive').out, 2000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A file system that "dies" after a number of operations, like a process killed mid-run. */
class DyingFs implements ArchiveFs {
  readonly description = 'dying';
  private ops = 0;
  private readonly inner: ArchiveFs;
  private readonly dieAfter: number;
  constructor(inner: ArchiveFs, dieAfter: number) {
    this.inner = inner;
    this.dieAfter = dieAfter;
  }
  private step(): void {
    this.ops += 1;
    if (this.ops > this.dieAfter) throw new PipelineError('INTERNAL', 'killed');
  }
  async create(p: string, d: Buffer) { this.step(); return this.inner.create(p, d); }
  async createFromFile(p: string, l: string) { this.step(); return this.inner.createFromFile(p, l); }
  async append(p: string, d: Buffer) { this.step(); return this.inner.append(p, d); }
  async rename(s: string, d: string) { this.step(); return this.inner.rename(s, d); }
  async delete(p: string) { this.step(); return this.inner.delete(p); }
  async read(p: string) { this.step(); return this.inner.read(p); }
  async exists(p: string) { this.step(); return this.inner.exists(p); }
}

for (const dieAfter of [3, 8, 21, 37, 52]) {
  test(`archive: killed after ${dieAfter} storage operations, then restarted: each record exactly once, no .tmp`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archive-crash-'));
    try {
      const log = new MemoryLog({ groups: { t: ['archive'] }, capacity: 5000, partitions: 2 });
      const { durable } = await produce(log, 2000);
      const fs = new LocalArchiveFs(join(dir, 'hdfs'));
      await assert.rejects(
        runArchiveStage(options(log, new DyingFs(fs, dieAfter), dir), new Lifecycle(), new Stats(), silentLogger),
        /killed/,
      );
      const afterCrash = await archivedLines(fs);
      assert.ok(afterCrash.lines.filter((l) => !l.includes('"reason"')).length < 2000, 'the crash interrupted the run');
      if (process.env.ARCHIVE_TEST_DEBUG) console.log(dieAfter, afterCrash.files.filter((f) => f.endsWith('.tmp')).length, afterCrash.lines.length);
      await runArchiveStage(options(log, fs, dir), new Lifecycle(), new Stats(), silentLogger);
      await durable;
      const { files, lines } = await archivedLines(fs);
      assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, 'no .tmp left');
      assert.equal(lines.length, 2000, 'exactly 2,000 lines');
      assert.equal(new Set(lines).size, 2000, 'no duplicate');
      const buffers = await readFile(join(dir, 'buffer')).catch(() => null);
      assert.equal(buffers, null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('archive: gzip files hold the same lines', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'archive-gz-'));
  try {
    const { gunzipSync } = await import('node:zlib');
    const log = new MemoryLog({ groups: { t: ['archive'] }, capacity: 5000 });
    const { durable } = await produce(log, 300);
    const fs = new LocalArchiveFs(join(dir, 'hdfs'));
    await runArchiveStage(options(log, fs, dir, { gzip: true, rollCount: 0 }), new Lifecycle(), new Stats(), silentLogger);
    await durable;
    const files = (await fs.listFiles('/final_project')).filter((f) => f.endsWith('.jsonl.gz'));
    assert.ok(files.length > 0);
    let n = 0;
    for (const f of files) n += gunzipSync((await fs.read(f)) as Buffer).toString().split('\n').filter(Boolean).length;
    assert.equal(n, 300);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('archive: killed after a rename but before its commit, then restarted: the renamed file is rewritten, not duplicated', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'archive-commit-'));
  try {
    const log = new MemoryLog({ groups: { t: ['archive'] }, capacity: 5000 });
    const { durable } = await produce(log, 1000);
    const fs = new LocalArchiveFs(join(dir, 'hdfs'));
    let commits = 0;
    const dying: MessageLog = {
      description: 'dying',
      ensureTopic: (t) => log.ensureTopic(t),
      endOffsets: (t) => log.endOffsets(t),
      producer: () => log.producer(),
      close: () => log.close(),
      consumer: async (opts, signal) => {
        const c = await log.consumer(opts, signal);
        return Object.assign(Object.create(c) as LogConsumer, {
          [Symbol.asyncIterator]: () => c[Symbol.asyncIterator](),
          commit: async (offsets: readonly CommitOffset[]) => {
            commits += 1;
            if (commits === 3) throw new PipelineError('INTERNAL', 'killed before commit');
            return c.commit(offsets);
          },
        });
      },
    };
    await assert.rejects(runArchiveStage(options(dying, fs, dir), new Lifecycle(), new Stats(), silentLogger), /killed/);
    const before = await archivedLines(fs);
    assert.equal(before.lines.length, 400, 'three files renamed (150, 100 at the bucket change, 150), only two committed');
    await runArchiveStage(options(log, fs, dir), new Lifecycle(), new Stats(), silentLogger);
    await durable;
    const { files, lines } = await archivedLines(fs);
    assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0);
    assert.equal(lines.length, 1000);
    assert.equal(new Set(lines).size, 1000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Like ingest after a crash: some source files' messages appear twice (a prefix, then all of them again). */
async function produceWithResends(log: MemoryLog, files: number, perFile: number): Promise<{ durable: Promise<void> }> {
  const producer = await log.producer();
  const records: Array<{ key: string; value: string; headers: Record<string, string> }> = [];
  const fileRecords = (f: number, upTo: number) =>
    Array.from({ length: upTo }, (_, i) => ({
      key: `uuid-${f}-${i}`,
      value: JSON.stringify({ login: { uuid: `uuid-${f}-${i}` }, f, i }),
      headers: { 'userpipe-fetched-at': String(BASE + f * 60_000), 'userpipe-source': `response_${f}.json`, 'userpipe-index': String(i) },
    }));
  for (let f = 0; f < files; f++) {
    if (f % 3 === 1) records.push(...fileRecords(f, Math.floor(perFile / 2))); // first attempt died half-way
    records.push(...fileRecords(f, perFile));
    if (f % 5 === 2) records.push(...fileRecords(f, perFile)); // sent, acked, not marked done: sent again
  }
  const durable = producer.send('t', records);
  durable.catch(() => {});
  return { durable };
}

for (const dieAfter of [Infinity, 3, 6, 11, 17, 25, 33, 41]) {
  test(`archive: copies that ingest sent twice are archived once${Number.isFinite(dieAfter) ? `, across a crash after ${dieAfter} operations` : ''}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archive-dup-'));
    try {
      const log = new MemoryLog({ groups: { t: ['archive'] }, capacity: 50_000, partitions: 2 });
      const { durable } = await produceWithResends(log, 12, 100);
      const fs = new LocalArchiveFs(join(dir, 'hdfs'));
      if (Number.isFinite(dieAfter)) {
        await assert.rejects(runArchiveStage({ ...options(log, new DyingFs(fs, dieAfter), dir), dedupeWindow: 64 }, new Lifecycle(), new Stats(), silentLogger), /killed/);
      }
      await runArchiveStage({ ...options(log, fs, dir), dedupeWindow: 64 }, new Lifecycle(), new Stats(), silentLogger);
      await durable;
      const { lines } = await archivedLines(fs);
      assert.equal(new Set(lines).size, 1200, 'every user archived');
      assert.equal(lines.length, 1200, 'and only once');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
