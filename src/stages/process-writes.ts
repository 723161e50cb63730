/**
 * The write half of the process stage: batches of rendered lines -> a PointWriter (InfluxDB or line-protocol
 * files), at most `maxInFlight` batches at once, and the settling of every user's ack from the outcome.
 *
 * Per batch:
 * - written lines: their acks are settled (the offset may be committed);
 * - refused lines (400/413/422, isolated by the writer): the line goes to the dead-letter topic with
 *   InfluxDB's message and the user's origin; its ack is settled by the DLQ once the dead letter is durable;
 * - the write threw: the outcome of its lines is unknown, so NO ack is settled (nothing is committed past
 *   them; they are redelivered after a restart). ABORTED (hard abort, or a stop while InfluxDB is down) just
 *   leaves them; anything else (AUTH, NOT_FOUND, CONFIG, retries spent) is fatal and reported to `onFatal`.
 *
 * Backpressure: `slot` waits while `maxInFlight` writes are running. A write blocks while the writer retries
 * (InfluxDB down), so the caller stops pulling batches, the batcher stops pulling users and the source stops
 * reading: memory stays flat during an outage.
 */
import type { Ack } from '../core/envelope.ts';
import { toPipelineError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { OutageReporter } from '../core/outage.ts';
import type { StageCounters, Stats } from '../core/stats.ts';
import type { PointWriter, WriteResult } from '../sinks/point-writer.ts';
import { deadLetterRefused, type DeadLetter, type RefusalSource } from '../transforms/process-dead-letter.ts';

/** One user on its way to the writer. */
export interface PointItem {
  /** Its line of line protocol. */
  line: string;
  /** Settled once the point is written or the user dead-lettered. */
  ack: Ack;
  /** Where it came from, for the dead letter if its line is refused. Never the message: see process-dead-letter. */
  source: RefusalSource;
}

/** Queue a dead letter; `ack` is settled once the DLQ holds it durably (nacked when it could not). */
export type DeadLetterFn = (message: DeadLetter, ack: Ack) => Promise<void>;

/** Where the points go (set once the writer exists), for the outage log lines. */
export class InfluxOutage extends OutageReporter {
  target = '';

  constructor(log: Logger) {
    super(
      log,
      { down: 'influxdb unavailable; reading paused, retrying', up: 'influxdb available again; reading resumed', still: 'influxdb still unavailable' },
      () => ({ to: this.target }),
    );
  }
}

export interface PointWritesOptions {
  writer: PointWriter;
  maxInFlight: number;
  dlqTopic: string;
  deadLetter: DeadLetterFn;
  outage: InfluxOutage;
  /** Given to every write: fires on a hard abort, or on a stop while InfluxDB is down. */
  signal: AbortSignal;
  counters: StageCounters;
  stats: Stats;
  /** A write failed for good: the stage must stop reading and fail. */
  onFatal: (error: unknown) => void;
}

export class PointWrites {
  private readonly o: PointWritesOptions;
  private readonly running = new Set<Promise<void>>();
  /** Users whose write was abandoned (aborted): not acked, redelivered on the next start. */
  abandoned = 0;

  constructor(o: PointWritesOptions) {
    this.o = o;
  }

  /** Resolves once fewer than `maxInFlight` writes run (at once if so). */
  async slot(): Promise<void> {
    while (this.running.size >= this.o.maxInFlight) await Promise.race(this.running);
  }

  /** Start writing `items` (the caller waited for a `slot()`); its outcome settles the items' acks. */
  start(items: PointItem[]): void {
    const p: Promise<void> = this.write(items).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Wait for every started write (and its acks / dead letters) to settle. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private async write(items: PointItem[]): Promise<void> {
    const { writer, counters, stats, outage } = this.o;
    let result: WriteResult;
    const started = performance.now();
    try {
      result = await writer.write(
        items.map((i) => i.line),
        this.o.signal,
      );
    } catch (err) {
      if (toPipelineError(err).code === 'ABORTED') {
        this.abandoned += items.length;
        return;
      }
      this.o.onFatal(err);
      return;
    }
    stats.observeLatency('process', (performance.now() - started) / 1000);
    outage.recovered();
    counters.out += result.written;
    try {
      if (result.rejected.length === 0) {
        for (const item of items) await item.ack();
      } else {
        await this.settleWithRejections(items, result);
      }
    } catch (err) {
      // Queueing a dead letter was aborted (stage stopping or failing) or an ack threw (a bug): the users not
      // yet settled stay unacked and are redelivered. A write promise never rejects: drain() must not throw.
      if (toPipelineError(err).code !== 'ABORTED') this.o.onFatal(err);
    }
  }

  private async settleWithRejections(items: readonly PointItem[], result: WriteResult): Promise<void> {
    // Rejections name lines, not positions; the same line twice in a batch (dedupe off) is refused twice.
    const refused = new Map<string, string[]>();
    for (const r of result.rejected) {
      const message = `InfluxDB refused the point${r.status === undefined ? '' : ` (HTTP ${r.status})`}: ${r.message}`;
      const list = refused.get(r.line);
      if (list) list.push(message);
      else refused.set(r.line, [message]);
    }
    for (const item of items) {
      const message = refused.get(item.line)?.shift();
      if (message === undefined) await item.ack();
      else await this.o.deadLetter(deadLetterRefused(item.source, item.line, message, this.o.dlqTopic), item.ack);
    }
  }
}
