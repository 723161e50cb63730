import { Checkpointer } from '../core/checkpoint.ts';
import { envelope, type Ack, type Envelope } from '../core/envelope.ts';
import { PipelineError } from '../core/errors.ts';
import { Notifier } from '../core/notifier.ts';
import type { Logger } from '../core/log.ts';
import type { CommitOffset, LogConsumer, LogRecord, TopicPartition } from '../clients/message-log.ts';
import { readRecords, type EndOffsets } from './log-reader.ts';
import { retry } from '../core/retry.ts';

/**
 * Turns a log consumer (Kafka or the in-process log) into envelopes whose ack is "this record's effect is
 * durable downstream". Acks may arrive in any order; per partition a Checkpointer advances over the
 * contiguous prefix of acked records, and only that is committed (periodically and at the end). The same
 * Checkpointer bounds the records in flight per partition, so a stuck sink stops the reading.
 *
 * A nack (ack with an error) means a record could not be delivered nor dead-lettered: its partition stops
 * advancing, the source stops reading and `read` ends with that error after what was acked is committed.
 * Redelivery after a restart is the recovery (at-least-once).
 */
export interface LogSourceOptions {
  consumer: LogConsumer;
  /** Un-acked records per partition before reading pauses. */
  maxInFlight: number;
  /** Un-acked records over all partitions before reading pauses (default: no bound beyond per partition). */
  maxInFlightTotal?: number;
  commitIntervalMs: number;
  /** `--once`: stop once every partition reached these offsets (end offsets seen at start). */
  stopAt?: EndOffsets;
  log: Logger;
}

export class LogSource {
  private readonly opts: LogSourceOptions;
  private readonly checkpoints = new Map<number, Checkpointer<bigint>>();
  /** Checkpointers of revoked partitions whose records are still in flight: counted, never committed. */
  private readonly retired = new Set<Checkpointer<bigint>>();
  private readonly committed = new Map<number, bigint>();
  private failure: PipelineError | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();

  constructor(opts: LogSourceOptions) {
    this.opts = opts;
  }

  /** Records in flight (read, not yet acked) over all partitions. */
  get inFlight(): number {
    let n = 0;
    for (const c of this.checkpoints.values()) n += c.pending;
    for (const c of this.retired) {
      if (c.pending === 0) this.retired.delete(c);
      else n += c.pending;
    }
    return n;
  }

  /**
   * Partitions taken away (a rebalance, or close): commit what is acked for them now, while this member may
   * still commit, then forget them. Their records still in flight are written but never committed by this
   * member: the next owner starts from this commit and redoes them (harmless: same points). Without this, a
   * late commit from here could move the new owner's committed offset backwards.
   * Give it to the consumer as `onRevoke`.
   */
  revoked(partitions: readonly TopicPartition[]): Promise<void> {
    const offsets: CommitOffset[] = [];
    for (const tp of partitions) {
      const c = this.checkpoints.get(tp.partition);
      if (!c) continue;
      const highest = c.highest;
      if (highest !== undefined && (this.committed.get(tp.partition) ?? -1n) < highest + 1n) {
        offsets.push({ topic: tp.topic, partition: tp.partition, offset: highest + 1n });
      }
      this.checkpoints.delete(tp.partition);
      this.committed.delete(tp.partition);
      if (c.pending > 0) this.retired.add(c);
    }
    // After any commit already under way (it may name these partitions), and before the rebalance goes on.
    this.committing = this.committing.catch(() => {}).then(async () => {
      if (offsets.length === 0) return;
      try {
        await this.opts.consumer.commit(offsets);
      } catch (err) {
        this.opts.log.warn('commit at revocation failed; the next owner redoes those records', { error: (err as Error).message });
      }
    });
    return this.committing;
  }

  private checkpoint(partition: number): Checkpointer<bigint> {
    let c = this.checkpoints.get(partition);
    if (!c) {
      c = new Checkpointer<bigint>(this.opts.maxInFlight);
      this.checkpoints.set(partition, c);
    }
    return c;
  }

  /**
   * Yields envelopes until `stop` fires, the `--once` end is reached, or a record is nacked. The caller must
   * have acked (or nacked) every yielded envelope before calling `finish()`.
   */
  async *read(stop: AbortSignal): AsyncGenerator<Envelope<LogRecord>> {
    this.commitTimer = setInterval(() => {
      void this.commit().catch((err: unknown) => this.opts.log.warn('commit failed, will retry', { error: err }));
    }, this.opts.commitIntervalMs);
    this.commitTimer.unref();
    for await (const record of readRecords(this.opts.consumer, { stop, stopAt: this.opts.stopAt })) {
      if (this.failure) break;
      let resolve: () => bigint | undefined;
      try {
        await this.waitForRoom(stop);
        resolve = await this.checkpoint(record.partition).track(record.offset, stop);
      } catch (err) {
        // Stopped while waiting for room: this record was never handed on nor committed; it is redelivered.
        if (stop.aborted) break;
        throw err;
      }
      yield envelope(record, this.ackFor(record.partition, record.offset, resolve));
    }
  }

  /**
   * A record's ack. Made here, not in read(): a closure there would keep read()'s loop scope, and with it the
   * record, alive until acked, and a record's Buffers keep its whole fetch response (measured: 15 MB of
   * responses held by the users in flight of `process`).
   */
  private ackFor(partition: number, offset: bigint, resolve: () => bigint | undefined): Ack {
    return async (error) => {
      if (error) {
        this.failure ??= error;
        this.opts.log.error('record not delivered; its partition stops here until a restart redelivers it', {
          partition,
          offset,
          error: error.message,
        });
        return;
      }
      resolve();
      this.room.notify();
    };
  }

  /** Notified on every ack: room may have freed under `maxInFlightTotal`. */
  private readonly room = new Notifier();

  /** The global bound: wait while `maxInFlightTotal` records are read and not acked. */
  private async waitForRoom(stop: AbortSignal): Promise<void> {
    const max = this.opts.maxInFlightTotal;
    if (max === undefined) return;
    while (this.inFlight >= max) {
      stop.throwIfAborted();
      await this.room.wait(stop);
    }
  }

  /** Commit the highest contiguous acked offset of each partition (next offset to read). */
  commit(): Promise<void> {
    // After a failed commit the next one still runs (a rejected chain would fail every later commit).
    this.committing = this.committing.catch(() => {}).then(async () => {
      const offsets: CommitOffset[] = [];
      for (const [partition, c] of this.checkpoints) {
        const highest = c.highest;
        if (highest === undefined) continue;
        const next = highest + 1n;
        if ((this.committed.get(partition) ?? -1n) >= next) continue;
        offsets.push({ topic: '', partition, offset: next });
      }
      if (offsets.length === 0) return;
      const topic = this.opts.consumer.assignment()[0]?.topic;
      if (!topic) return;
      await this.opts.consumer.commit(offsets.map((o) => ({ ...o, topic })));
      for (const o of offsets) this.committed.set(o.partition, o.offset);
    });
    return this.committing;
  }

  /** Final commit, then leave the group. Rethrows a nack's error so the command fails (exit 1). */
  async finish(): Promise<void> {
    if (this.commitTimer) clearInterval(this.commitTimer);
    try {
      // The last commit waits out a broker that is briefly down (bounded); what it cannot commit is redone.
      await retry(() => this.commit(), {
        maxAttempts: Infinity,
        maxElapsedMs: 120_000,
        baseDelayMs: 500,
        maxDelayMs: 10_000,
        onRetry: ({ error }) => this.opts.log.warn('final commit failed, retrying', { error: error.message }),
      });
    } finally {
      await this.opts.consumer.close();
    }
    if (this.failure) throw this.failure;
  }

  /** For tests and logs: what was committed per partition. */
  committedOffsets(): Map<number, bigint> {
    return new Map(this.committed);
  }
}
