import type { ConnectionPool, Consumer } from '@platformatic/kafka';
import { PipelineError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { backoffDelay } from '../core/retry.ts';
import { sleep } from '../core/sleep.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import { fetchRound, type PartitionCursor, type RoundResult } from './kafka-fetcher.ts';
import { listOffsetMap } from './kafka-positions.ts';
import { partitionKey, type KafkaMessage } from './kafka-records.ts';
import { Notifier } from '../core/notifier.ts';

/**
 * The consumption side of one group member: the assigned partitions and their positions, the bounded buffer
 * between fetching and the stage, and the fetch loop that fills it only while there is room.
 *
 * Generations: every revoke and every assignment bumps `generation`; a fetch round started under an older
 * generation is dropped when it returns, so nothing fetched for a revoked partition ever reaches the stage.
 */

export interface Cursor extends PartitionCursor {
  /** Offset after the last record handed to the stage: the highest offset a commit may carry. */
  yielded: bigint;
}

export interface BufferSettings {
  groupId: string;
  topics: readonly string[];
  maxBuffered: number;
  fetchMaxBytes: number;
  fetchMaxWaitMs: number;
  retryMaxMs: number;
  untilEnd: boolean;
  /** Where a position outside the log goes (EARLIEST -2n or LATEST -1n). */
  outOfRangePolicy: bigint;
  logger: Logger;
}

export class MessageBuffer {
  readonly assigned = new Map<string, Cursor>();
  private readonly consumer: Consumer;
  private readonly pool: ConnectionPool;
  private readonly s: BufferSettings;
  private queue: KafkaMessage[] = [];
  private head = 0;
  private fetched = 0;
  private generation = 0;
  private rebalancing = true;
  private started = false;
  private stopped = false;
  private fatal: PipelineError | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private readonly fetchWake = new Notifier();
  private readonly dataWake = new Notifier();

  constructor(consumer: Consumer, pool: ConnectionPool, settings: BufferSettings) {
    this.consumer = consumer;
    this.pool = pool;
    this.s = settings;
  }

  get buffered(): number {
    return this.queue.length - this.head;
  }

  get fetchedTotal(): number {
    return this.fetched;
  }

  /** Start the fetch loop (after the first assignment). */
  start(): void {
    this.started = true;
    this.loop ??= this.fetchLoop();
  }

  /** Stop fetching and end iterations; waits (bounded) for an in-flight round. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
  }

  /** Stop yielding and fetching for every partition; drop what was buffered. Returns the revoked cursors. */
  revokeAll(): Cursor[] {
    this.rebalancing = true;
    this.generation += 1;
    this.queue = [];
    this.head = 0;
    const revoked = [...this.assigned.values()];
    this.assigned.clear();
    return revoked;
  }

  /** A new assignment is being prepared: invalidates in-flight rounds. Returns its generation. */
  beginAssignment(): number {
    this.rebalancing = true;
    return ++this.generation;
  }

  /** Install the cursors of assignment `generation` (ignored if superseded). */
  install(generation: number, cursors: Cursor[]): boolean {
    if (generation !== this.generation) return false;
    for (const c of cursors) this.assigned.set(c.key, c);
    return true;
  }

  /** Let assignment `generation` be fetched and yielded. */
  release(generation: number): void {
    if (generation !== this.generation) return;
    this.rebalancing = false;
    this.wake();
  }

  fail(error: PipelineError): void {
    this.fatal ??= error;
    this.wake();
  }

  /** The stage's iteration. Ends on `signal`, stop(), or (untilEnd) once every partition reached its end. */
  async *iterate(signal: AbortSignal | undefined): AsyncGenerator<KafkaMessage> {
    while (true) {
      if (signal?.aborted || this.stopped) return;
      if (this.buffered > 0) {
        const m = this.queue[this.head] as KafkaMessage;
        this.queue[this.head] = undefined as unknown as KafkaMessage; // let the GC take it
        this.head += 1;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        const cursor = this.assigned.get(partitionKey(m.topic, m.partition));
        if (cursor && m.offset >= cursor.yielded) cursor.yielded = m.offset + 1n;
        if (this.buffered < this.s.maxBuffered) this.fetchWake.notify();
        yield m;
        continue;
      }
      if (this.fatal) throw this.fatal;
      if (this.s.untilEnd && this.started && !this.rebalancing && this.fetchable().length === 0) return;
      await this.dataWake.wait(signal);
    }
  }

  private wake(): void {
    this.fetchWake.notify();
    this.dataWake.notify();
  }

  private fetchable(): Cursor[] {
    return [...this.assigned.values()].filter((c) => c.end === undefined || c.position < c.end);
  }

  private async fetchLoop(): Promise<void> {
    const { groupId, logger, retryMaxMs } = this.s;
    let failingSince: number | undefined;
    let attempt = 0;
    while (!this.stopped && !this.fatal) {
      const cursors = this.rebalancing || this.buffered >= this.s.maxBuffered ? [] : this.fetchable();
      if (cursors.length === 0) {
        await this.fetchWake.wait(this.stopController.signal);
        continue;
      }
      const generation = this.generation;
      const round = await fetchRound(this.consumer, this.pool, [...this.s.topics], cursors, {
        maxWaitMs: this.s.fetchMaxWaitMs,
        maxBytes: this.s.fetchMaxBytes,
        minPartitionBytes: 32 * 1024,
      });
      if (this.stopped) break;
      if (generation === this.generation) {
        this.apply(round.batches);
        if (round.outOfRange.length > 0) await this.resetOutOfRange(round.outOfRange, generation);
      }
      if (round.error === undefined) {
        if (failingSince !== undefined) logger.info('kafka fetch recovered', { group: groupId, attempts: attempt });
        failingSince = undefined;
        attempt = 0;
        // Every partition is between leaders (election in progress): nothing was asked, do not spin.
        if (round.leaderless === cursors.length) await sleep(200, this.stopController.signal).catch(() => {});
        continue;
      }
      const error = classifyKafkaError(round.error, 'fetch', { group: groupId });
      failingSince ??= Date.now();
      attempt += 1;
      // The topics existed at start: an unknown partition now is a leader move or a recreation in progress
      // more often than a deletion, so it gets the same bounded patience as an unreachable broker.
      const transient = error.retryable || error.code === 'NOT_FOUND';
      if (!transient || Date.now() - failingSince > retryMaxMs) {
        this.fail(transient ? new PipelineError(error.code, `${error.message} (gave up after ${attempt} attempts)`, { cause: error, retryable: error.retryable, details: error.details }) : error);
        break;
      }
      const delayMs = backoffDelay(attempt, 200, 10_000, Math.random);
      if (attempt === 1 || attempt % 10 === 0) logger.warn('kafka fetch failed, retrying', { group: groupId, attempt, delayMs, error: error.message });
      await sleep(delayMs, this.stopController.signal).catch(() => {});
    }
  }

  private apply(batches: RoundResult['batches']): void {
    let added = 0;
    for (const b of batches) {
      const cursor = b.cursor as Cursor;
      if (this.assigned.get(cursor.key) !== cursor || b.position < cursor.position) continue;
      for (const m of b.messages) {
        if (m.offset < cursor.position) continue;
        this.queue.push(m);
        added += 1;
      }
      cursor.position = b.position;
      if (b.highWatermark !== undefined) cursor.highWatermark = b.highWatermark;
    }
    this.fetched += added;
    if (added > 0 || this.s.untilEnd) this.dataWake.notify();
  }

  private async resetOutOfRange(cursors: PartitionCursor[], generation: number): Promise<void> {
    try {
      const offsets = await listOffsetMap(this.consumer, this.s.topics, this.s.outOfRangePolicy, cursors);
      for (const c of cursors) {
        const to = offsets.get(c.key);
        if (to === undefined || generation !== this.generation || this.assigned.get(c.key) !== c) continue;
        this.s.logger.warn('kafka offset out of range, resetting', { group: this.s.groupId, partition: c.key, from: c.position, to });
        c.position = to;
        (c as Cursor).yielded = to;
      }
    } catch (err) {
      this.s.logger.warn('kafka offset reset failed', { group: this.s.groupId, error: classifyKafkaError(err, 'listOffsets').message });
    }
  }
}
