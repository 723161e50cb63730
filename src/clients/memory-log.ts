import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { abortedError } from '../core/sleep.ts';
import { fsyncDir, writeDurably } from '../sinks/atomic-file.ts';
import type {
  CommitOffset,
  ConsumerOptions,
  LogConsumer,
  LogProducer,
  LogRecord,
  MessageLog,
  ProduceRecord,
  TopicPartition,
} from './message-log.ts';

/**
 * The in-process bounded log that stands in for Kafka in `run-all` when no broker is named.
 *
 * Bounded: a partition holds at most `capacity` records that some consumer group has not committed yet;
 * `send` waits for room, so a slow consumer slows the producer down, all the way back to the source.
 *
 * Durable with `dir`: appended records go to segment files (NDJSON, fsynced before `send` resolves) and
 * commits to an offsets file (fsynced before `commit` resolves), so a crash loses nothing and a restart
 * resumes every group at its committed offset, as with Kafka. Segments every group has committed past are
 * deleted. Without `dir` everything stays in memory and `send` resolves on append (tests only).
 * Topics no group reads (dead-letter topics) are appended to `<spillDir>/<topic>.ndjson` instead.
 */
export interface MemoryLogOptions {
  /** Records per partition not yet committed by every group. */
  capacity?: number;
  partitions?: number;
  /** Persist records and commits here (one sub-directory per topic). */
  dir?: string;
  /** Where records of topics without consumer groups go (one NDJSON file per topic). */
  spillDir?: string;
  /** The groups that read each topic: records are dropped once all of them committed. */
  groups?: Record<string, readonly string[]>;
  /** Segment file size before a new one starts. */
  segmentBytes?: number;
}

interface Waiter {
  wake: () => void;
}

/** Wakes everyone waiting on a topic (appends, commits, close); waiters re-check their condition. */
class Notifier {
  readonly waiters = new Set<Waiter>();

  wakeAll(): void {
    for (const w of [...this.waiters]) w.wake();
  }

  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(abortedError(signal));
      };
      const waiter: Waiter = {
        wake: () => {
          this.waiters.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface Segment {
  base: bigint;
  path: string;
  bytes: number;
  /** Offset after the last record in it. */
  end: bigint;
}

class Partition {
  readonly records: LogRecord[] = [];
  /** Offset of records[0]. */
  base = 0n;
  next = 0n;
  readonly committed = new Map<string, bigint>();
  readonly segments: Segment[] = [];

  minCommitted(groups: readonly string[]): bigint {
    let min = this.next;
    for (const g of groups) {
      const c = this.committed.get(g) ?? 0n;
      if (c < min) min = c;
    }
    return min;
  }
}

interface Topic {
  partitions: Partition[];
  notifier: Notifier;
  dir?: string;
  /** Serializes file writes of this topic. */
  chain: Promise<void>;
}

/** A small, stable hash so a key always lands in the same partition (like Kafka's partitioner). */
function partitionFor(key: ProduceRecord['key'], n: number, roundRobin: number): number {
  if (n === 1) return 0;
  if (key === undefined) return roundRobin % n;
  const s = typeof key === 'string' ? key : key.toString('latin1');
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function encodeRecord(r: LogRecord): string {
  const line: Record<string, unknown> = { o: String(r.offset), t: r.timestampMs, h: r.headers };
  if (r.key) line.k = r.key.toString('base64');
  try {
    line.v = utf8.decode(r.value ?? Buffer.alloc(0));
  } catch {
    line.vb = (r.value ?? Buffer.alloc(0)).toString('base64');
  }
  return JSON.stringify(line);
}

function decodeRecord(topic: string, partition: number, text: string): LogRecord {
  const l = JSON.parse(text) as { o: string; t: number; h: Record<string, string>; k?: string; v?: string; vb?: string };
  return {
    topic,
    partition,
    offset: BigInt(l.o),
    timestampMs: l.t,
    headers: l.h,
    key: l.k === undefined ? null : Buffer.from(l.k, 'base64'),
    value: l.vb !== undefined ? Buffer.from(l.vb, 'base64') : Buffer.from(l.v ?? ''),
  };
}

export class MemoryLog implements MessageLog {
  readonly description: string;
  private readonly capacity: number;
  private readonly partitionCount: number;
  private readonly o: MemoryLogOptions;
  private readonly groups: Record<string, readonly string[]>;
  private readonly topics = new Map<string, Promise<Topic>>();
  private roundRobin = 0;

  constructor(options: MemoryLogOptions = {}) {
    this.o = options;
    this.capacity = options.capacity ?? 10_000;
    this.partitionCount = options.partitions ?? 1;
    this.groups = options.groups ?? {};
    this.description = options.dir ? `in-process log (${options.dir})` : 'in-process log (memory)';
  }

  private topic(name: string): Promise<Topic> {
    let t = this.topics.get(name);
    if (!t) {
      t = this.load(name);
      this.topics.set(name, t);
    }
    return t;
  }

  /** Rebuild a topic from its files: committed offsets, then every record not committed by all groups. */
  private async load(name: string): Promise<Topic> {
    const partitions = Array.from({ length: this.partitionCount }, () => new Partition());
    const topic: Topic = { partitions, notifier: new Notifier(), chain: Promise.resolve() };
    if (!this.o.dir) return topic;
    const dir = join(this.o.dir, name.replace(/[^A-Za-z0-9._-]/g, '_'));
    topic.dir = dir;
    await mkdir(dir, { recursive: true });
    const offsets = await readFile(join(dir, 'offsets.json'), 'utf8').then(
      (t) => JSON.parse(t) as Record<string, Record<string, string>>,
      () => ({}) as Record<string, Record<string, string>>,
    );
    for (const [group, byPartition] of Object.entries(offsets)) {
      for (const [p, off] of Object.entries(byPartition)) partitions[Number(p)]?.committed.set(group, BigInt(off));
    }
    const names = (await readdir(dir)).filter((n) => /^p\d+-\d+\.ndjson$/.test(n)).sort();
    for (const file of names) {
      const m = /^p(\d+)-(\d+)\.ndjson$/.exec(file) as RegExpExecArray;
      const p = partitions[Number(m[1])];
      if (!p) continue;
      const path = join(dir, file);
      const text = await readFile(path, 'utf8');
      const seg: Segment = { base: BigInt(m[2] as string), path, bytes: Buffer.byteLength(text), end: BigInt(m[2] as string) };
      for (const line of text.split('\n')) {
        if (line === '') continue;
        let rec: LogRecord;
        try {
          rec = decodeRecord(name, Number(m[1]), line);
        } catch {
          break; // a torn last line: it was never acknowledged
        }
        seg.end = rec.offset + 1n;
        if (rec.offset < p.next) continue;
        if (p.records.length === 0) p.base = rec.offset;
        p.records.push(rec);
        p.next = rec.offset + 1n;
      }
      p.segments.push(seg);
    }
    for (const p of partitions) {
      if (p.records.length === 0) p.base = p.next;
      this.trim(name, p);
    }
    return topic;
  }

  async ensureTopic(topic: string): Promise<void> {
    await this.topic(topic);
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    return new Map((await this.topic(topic)).partitions.map((p, i) => [i, p.next]));
  }

  async producer(): Promise<LogProducer> {
    return {
      send: (topic, records, signal) => this.send(topic, records, signal),
      close: async () => {},
    };
  }

  private async send(topic: string, records: readonly ProduceRecord[], signal?: AbortSignal): Promise<void> {
    const groups = this.groups[topic] ?? [];
    if (groups.length === 0) return this.spill(topic, records);
    const t = await this.topic(topic);
    const lines = new Map<number, string[]>();
    /** Offset after the last record of this send, per partition: what becomes visible once written. */
    const ends = new Map<number, bigint>();
    for (const r of records) {
      const i = partitionFor(r.key, t.partitions.length, this.roundRobin++);
      const p = t.partitions[i] as Partition;
      while (p.next - p.minCommitted(groups) >= BigInt(this.capacity)) await t.notifier.wait(signal);
      const rec: LogRecord = {
        topic,
        partition: i,
        offset: p.next,
        key: r.key === undefined ? null : Buffer.from(r.key),
        value: Buffer.from(r.value),
        headers: { ...r.headers },
        timestampMs: Date.now(),
      };
      p.records.push(rec);
      p.next += 1n;
      ends.set(i, p.next);
      if (t.dir) {
        const l = lines.get(i) ?? [];
        l.push(encodeRecord(rec));
        lines.set(i, l);
      } else {
        t.notifier.wakeAll();
      }
    }
    if (!t.dir) return;
    // Durable before acknowledged: consumers see the records only once they are on disk.
    const write = t.chain.then(async () => {
      for (const [i, l] of lines) await this.appendSegment(t, i, l, ends.get(i) as bigint);
    });
    t.chain = write.catch(() => {});
    await write;
    t.notifier.wakeAll();
  }

  private async appendSegment(t: Topic, i: number, lines: string[], end: bigint): Promise<void> {
    const p = t.partitions[i] as Partition;
    const text = lines.join('\n') + '\n';
    let seg = p.segments.at(-1);
    const first = end - BigInt(lines.length);
    let created = false;
    if (!seg || seg.bytes >= (this.o.segmentBytes ?? 64 * 1024 * 1024)) {
      seg = { base: first, path: join(t.dir as string, `p${i}-${String(first).padStart(20, '0')}.ndjson`), bytes: 0, end: first };
      p.segments.push(seg);
      created = true;
    }
    // A new segment's name must survive a power loss too, not only its bytes: the records are acked after this.
    await writeDurably(seg.path, text, { append: true, newEntry: created });
    seg.bytes += Buffer.byteLength(text);
    seg.end = end;
  }

  private async spill(topic: string, records: readonly ProduceRecord[]): Promise<void> {
    const dir = this.o.spillDir ?? (this.o.dir ? join(this.o.dir, 'dead-letter') : undefined);
    if (!dir) throw new Error(`in-process log: no consumer group reads topic ${topic} and no spill dir is set`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${topic.replace(/[^A-Za-z0-9._-]/g, '_')}.ndjson`);
    const lines = records
      .map((r) => JSON.stringify({ key: r.key === undefined ? null : r.key.toString(), headers: r.headers ?? {}, value: r.value.toString() }))
      .join('\n');
    await writeDurably(file, lines + '\n', { append: true, newEntry: true });
  }

  async consumer(options: ConsumerOptions, signal?: AbortSignal): Promise<LogConsumer> {
    const t = await this.topic(options.topic);
    const parts = t.partitions;
    const assigned: TopicPartition[] = parts.map((_, i) => ({ topic: options.topic, partition: i }));
    const positions = parts.map((p) => {
      const c = p.committed.get(options.group);
      if (c !== undefined && options.start === 'committed') return c;
      if (options.start === 'latest') return p.next;
      return c ?? p.base;
    });
    const closer = new AbortController();
    const combined = signal ? AbortSignal.any([signal, closer.signal]) : closer.signal;
    await options.onAssign?.(assigned);
    let closed = false;
    // Visible end: with persistence, records become visible once on disk (the segment write resolved).
    const visible = (p: Partition): bigint => (t.dir ? (p.segments.at(-1)?.end ?? p.base) : p.next);
    return {
      [Symbol.asyncIterator]: async function* (): AsyncGenerator<LogRecord> {
        while (!combined.aborted) {
          let yielded = false;
          for (let i = 0; i < parts.length; i++) {
            const p = parts[i] as Partition;
            let pos = positions[i] as bigint;
            if (pos < p.base) pos = positions[i] = p.base; // trimmed: every group committed past it
            if (pos < visible(p)) {
              const rec = p.records[Number(pos - p.base)] as LogRecord;
              positions[i] = pos + 1n;
              yielded = true;
              yield rec;
            }
          }
          if (!yielded) {
            try {
              await t.notifier.wait(combined);
            } catch {
              return;
            }
          }
        }
      },
      commit: async (offsets: readonly CommitOffset[]) => {
        for (const o of offsets) {
          const p = parts[o.partition];
          if (!p) continue;
          if (o.offset > (p.committed.get(options.group) ?? 0n)) p.committed.set(options.group, o.offset);
        }
        await this.persistOffsets(t);
        for (const p of parts) this.trim(options.topic, p);
        t.notifier.wakeAll();
      },
      assignment: () => assigned,
      positions: () => new Map(positions.map((pos, i) => [i, pos])),
      lag: () => parts.reduce((sum, p, i) => sum + Number(p.next - (positions[i] as bigint)), 0),
      close: async () => {
        if (closed) return;
        closed = true;
        await options.onRevoke?.(assigned);
        closer.abort();
      },
    };
  }

  private async persistOffsets(t: Topic): Promise<void> {
    if (!t.dir) return;
    const dir = t.dir;
    const write = t.chain.then(async () => {
      const data: Record<string, Record<string, string>> = {};
      t.partitions.forEach((p, i) => {
        for (const [g, off] of p.committed) (data[g] ??= {})[String(i)] = String(off);
      });
      const tmp = join(dir, '.offsets.json.tmp');
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify(data));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(dir, 'offsets.json'));
      await fsyncDir(dir);
    });
    t.chain = write.catch(() => {});
    await write;
  }

  /** Drop records (and segment files) every group has committed past. */
  private trim(topic: string, p: Partition): void {
    const min = p.minCommitted(this.groups[topic] ?? []);
    const drop = Number(min - p.base);
    if (drop > 0) {
      p.records.splice(0, Math.min(drop, p.records.length));
      p.base = min;
    }
    while (p.segments.length > 1 && (p.segments[0] as Segment).end <= min) {
      const seg = p.segments.shift() as Segment;
      void rm(seg.path, { force: true }).catch(() => {});
    }
  }

  async close(): Promise<void> {
    for (const t of this.topics.values()) (await t).notifier.wakeAll();
  }
}
