import { appendFile, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { abortedError } from '../core/sleep.ts';
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
 * Bounded: a partition holds at most `capacity` records that some group has not yet committed; `send` waits
 * for room, so a slow consumer slows the producer all the way back to the source. Committed records are
 * dropped from memory.
 *
 * Durable semantics: memory does not survive a crash, so `send` resolves only when every consumer group has
 * committed the records (their data is then in HDFS/InfluxDB or their local stand-ins). The producer's input
 * (spool files) stays un-acked until then, and is redone after a crash: at-least-once holds end to end.
 * Topics that no group reads (dead-letter topics) are appended to NDJSON files under `spillDir` instead.
 */
export interface MemoryLogOptions {
  /** Records per partition not yet committed by every group. */
  capacity?: number;
  partitions?: number;
  /** Where records of topics without consumer groups go (one NDJSON file per topic). */
  spillDir?: string;
  /** Groups that will read each topic. `send` to such a topic waits for their commits. */
  groups?: Record<string, readonly string[]>;
}

interface Waiter {
  wake: () => void;
}

/** Wakes everyone waiting on a topic (appends, commits, close); waiters re-check their condition. */
class Notifier {
  readonly waiters = new Set<Waiter>();
}

class Partition {
  readonly records: LogRecord[] = [];
  /** Offset of records[0]. */
  base = 0n;
  next = 0n;
  readonly committed = new Map<string, bigint>();
  readonly notifier: Notifier;

  constructor(notifier: Notifier) {
    this.notifier = notifier;
  }

  get waiters(): Set<Waiter> {
    return this.notifier.waiters;
  }

  minCommitted(groups: readonly string[]): bigint {
    let min = this.next;
    for (const g of groups) {
      const c = this.committed.get(g) ?? 0n;
      if (c < min) min = c;
    }
    return min;
  }

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

/** A small, stable hash so a key always lands in the same partition (like Kafka's partitioner). */
function partitionFor(key: ProduceRecord['key'], n: number, roundRobin: number): number {
  if (key === undefined || n === 1) return n === 1 ? 0 : roundRobin % n;
  const s = typeof key === 'string' ? key : key.toString('latin1');
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

export class MemoryLog implements MessageLog {
  readonly description = 'in-process bounded log (no Kafka named)';
  private readonly capacity: number;
  private readonly partitionCount: number;
  private readonly spillDir: string | undefined;
  private readonly groups: Record<string, readonly string[]>;
  private readonly topics = new Map<string, Partition[]>();
  private roundRobin = 0;

  constructor(options: MemoryLogOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.partitionCount = options.partitions ?? 1;
    this.spillDir = options.spillDir;
    this.groups = options.groups ?? {};
  }

  private partitions(topic: string): Partition[] {
    let p = this.topics.get(topic);
    if (!p) {
      const notifier = new Notifier();
      p = Array.from({ length: this.partitionCount }, () => new Partition(notifier));
      this.topics.set(topic, p);
    }
    return p;
  }

  async ensureTopic(topic: string): Promise<void> {
    this.partitions(topic);
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    return new Map(this.partitions(topic).map((p, i) => [i, p.next]));
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
    const parts = this.partitions(topic);
    const last = new Map<number, bigint>();
    for (const r of records) {
      const i = partitionFor(r.key, parts.length, this.roundRobin++);
      const p = parts[i] as Partition;
      while (p.next - p.minCommitted(groups) >= BigInt(this.capacity)) await p.wait(signal);
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
      last.set(i, rec.offset);
      p.wakeAll();
    }
    // Durable only once every group has committed past what we appended.
    for (const [i, offset] of last) {
      const p = parts[i] as Partition;
      while (p.minCommitted(groups) <= offset) await p.wait(signal);
    }
  }

  private async spill(topic: string, records: readonly ProduceRecord[]): Promise<void> {
    if (!this.spillDir) throw new Error(`memory log: no consumer group reads topic ${topic} and no spill dir is set`);
    await mkdir(this.spillDir, { recursive: true });
    const file = join(this.spillDir, `${topic.replace(/[^A-Za-z0-9._-]/g, '_')}.ndjson`);
    const lines = records
      .map((r) =>
        JSON.stringify({
          key: r.key === undefined ? null : r.key.toString(),
          headers: r.headers ?? {},
          value: r.value.toString(),
        }),
      )
      .join('\n');
    await appendFile(file, lines + '\n');
    const fh = await open(file, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async consumer(options: ConsumerOptions, signal?: AbortSignal): Promise<LogConsumer> {
    const parts = this.partitions(options.topic);
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
    const trim = (p: Partition): void => this.trim(options.topic, p);
    return {
      async *[Symbol.asyncIterator](): AsyncIterator<LogRecord> {
        while (!combined.aborted) {
          let yielded = false;
          for (let i = 0; i < parts.length; i++) {
            const p = parts[i] as Partition;
            const pos = positions[i] as bigint;
            if (pos < p.next && pos >= p.base) {
              const rec = p.records[Number(pos - p.base)] as LogRecord;
              positions[i] = pos + 1n;
              yielded = true;
              yield rec;
            } else if (pos < p.base) {
              positions[i] = p.base; // trimmed under us: the group committed past it
            }
          }
          if (!yielded) {
            try {
              await (parts[0] as Partition).wait(combined); // one notifier per topic
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
          const prev = p.committed.get(options.group) ?? 0n;
          if (o.offset > prev) p.committed.set(options.group, o.offset);
          trim(p);
          p.wakeAll();
        }
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

  private trim(topic: string, p: Partition): void {
    const min = p.minCommitted(this.groups[topic] ?? []);
    const drop = Number(min - p.base);
    if (drop > 0) {
      p.records.splice(0, drop);
      p.base = min;
    }
  }

  async close(): Promise<void> {
    for (const parts of this.topics.values()) for (const p of parts) p.wakeAll();
  }
}
