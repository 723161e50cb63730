/**
 * The process stage: Kafka (or run-all's in-process log) -> InfluxDB (or line-protocol files). Replaces the
 * Spark Structured Streaming job.
 *
 *   LogSource --Envelope<LogRecord>--> decode (1 message -> n users, splitAck) --> validate --> dedupe window
 *      ^                                  |  invalid -> DLQ                       |  duplicate: settled when
 *      |                                  v                                       v  its original is
 *      |                         userToPoint -> renderPoint --> batch(size, bytes, interval) --> PointWrites
 *      +---- offsets committed: contiguous prefix of users written or dead-lettered <------------+
 *
 * An offset is committed only when every user of its message is written or dead-lettered. Redelivered users
 * get the same timestamp (from their origin), so writing one again overwrites the same point.
 *
 * Stops:
 * - `once`: up to the end offsets seen at start; everything flushed, written and committed, then returns;
 * - `lifecycle.stop`: stops reading, writes what is batched, commits, returns; while InfluxDB is down, it
 *   gives up waiting instead (unwritten users are redelivered on the next start);
 * - `lifecycle.abort`: writes in flight are abandoned; what was acked is committed;
 * - a fatal write error (token rejected, bucket/database not found, InfluxDB unreachable past the retry
 *   bound) or a dead letter the log refused: reading stops, nothing past the failed records is committed,
 *   and the stage throws (the command exits 1).
 */
import type { MessageLog } from '../clients/message-log.ts';
import { Channel } from '../core/channel.ts';
import { envelope, type Ack, type Envelope } from '../core/envelope.ts';
import type { Lifecycle } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import type { RetryInfo } from '../core/retry.ts';
import type { Stats } from '../core/stats.ts';
import { batch } from '../core/batch.ts';
import { LogSink, waitForLog } from '../sinks/log-sink.ts';
import type { PointWriter } from '../sinks/point-writer.ts';
import { LogSource } from '../sources/log-source.ts';
import type { DeadLetter } from '../transforms/process-dead-letter.ts';
import { InfluxOutage, PointWrites } from './process-writes.ts';
import { toPointItems, type PointCounts } from './process-points.ts';

/** Everything the process stage needs, resolved (no CLI types: run-all and tests call this directly). */
export interface ProcessStageOptions {
  log: MessageLog;
  /**
   * Builds the destination with the stage's retry hook (InfluxWriter's `onRetry`), so the stage sees an
   * outage; a writer without retries (line-protocol files, a test writer) may ignore the hooks.
   */
  makeWriter: (hooks: { onRetry: (info: RetryInfo) => void }) => PointWriter;
  topic: string;
  dlqTopic: string;
  group: string;
  start: 'committed' | 'earliest' | 'latest';
  measurement: string;
  /** Recently seen `login.uuid`s remembered; 0 = off. */
  dedupeWindow: number;
  /** Lines per write request. */
  batchSize: number;
  /** Uncompressed bytes per write request. */
  batchBytes: number;
  /** Write a partial batch this long after its first line. */
  flushIntervalMs: number;
  /** Write requests at once. */
  maxInFlight: number;
  /** Process up to the end offsets seen at start, write, commit, return. */
  once: boolean;
  /** Or stop at end offsets learnt later (run-all: once ingest has finished). */
  endOffsets?: () => Map<number, bigint> | undefined;
  /** How often acked offsets are committed while running (and always at the end). Default 5 s. */
  commitIntervalMs?: number;
}

export interface ProcessResult extends PointCounts {
  /** Points written (lines the destination accepted). */
  written: number;
  /** Users (or whole messages) in the DLQ: invalid ones and those the destination refused. */
  deadLettered: number;
  /** Users not written because the stage stopped while they were in flight (redelivered next start). */
  abandoned: number;
}

/**
 * Runs until `once` is done or the lifecycle stops it. Throws the fatal error described above (after
 * committing what is safe); returns the counts otherwise.
 */
export async function runProcessStage(o: ProcessStageOptions, lifecycle: Lifecycle, stats: Stats, logger: Logger): Promise<ProcessResult> {
  const counters = stats.stage('process');
  const waitOptions = { signal: lifecycle.stop, logger, description: o.log.description, onRetry: () => (counters.retries += 1) };
  // The DLQ topic must exist before the first bad user; creating it is harmless when it does.
  await waitForLog(() => o.log.ensureTopic(o.dlqTopic), waitOptions);
  const stopAt = o.once ? await waitForLog(() => o.log.endOffsets(o.topic), waitOptions) : o.endOffsets;
  const holder: { source?: LogSource } = {};
  const consumer = await o.log.consumer({
    group: o.group,
    topic: o.topic,
    start: o.start,
    // Commit what is written for partitions moving to another member, and stop committing them afterwards.
    onRevoke: async (partitions) => holder.source?.revoked(partitions),
  });
  stats.gauge('process', { lag: () => consumer.lag() });
  const source = new LogSource({
    consumer,
    // Per partition, in messages: enough for the batches in flight plus the one being filled, so the source
    // never starves the batcher; the real bound on users held is the batches themselves.
    maxInFlight: Math.max(1, o.batchSize * (o.maxInFlight + 2)),
    // Over all partitions: the batches in flight plus the one being filled, and no more (memory).
    maxInFlightTotal: Math.max(1, o.batchSize * (o.maxInFlight + 1)),
    commitIntervalMs: o.commitIntervalMs ?? 5_000,
    ...(stopAt ? { stopAt } : {}),
    log: logger,
  });
  holder.source = source;

  let fatal: unknown;
  const halt = new AbortController();
  const fail = (err: unknown): void => {
    fatal ??= err;
    halt.abort(err);
  };
  const readStop = AbortSignal.any([lifecycle.stop, halt.signal]);
  const dlqSendSignal = AbortSignal.any([lifecycle.abort, halt.signal]);

  // Writes wait out an InfluxDB outage, but not past a stop: then they give up (ABORTED) and are redelivered.
  const giveUp = new AbortController();
  const writeSignal = AbortSignal.any([lifecycle.abort, giveUp.signal]);
  const outage = new InfluxOutage(logger);
  const onStop = (): void => {
    if (outage.down) giveUp.abort(lifecycle.stop.reason);
  };
  lifecycle.stop.addEventListener('abort', onStop, { once: true });
  const writer = o.makeWriter({
    onRetry: (info) => {
      counters.retries += 1;
      outage.failed(info);
      if (lifecycle.stop.aborted) giveUp.abort(lifecycle.stop.reason);
    },
  });
  outage.target = writer.describe();

  const producer = await o.log.producer();
  const dlq = new Channel<Envelope<DeadLetter>>(256);
  const dlqSink = new LogSink<DeadLetter>({
    producer,
    description: o.log.description,
    maxBatchMessages: 500,
    maxBatchBytes: 4 * 1024 * 1024,
    lingerMs: 50,
    log: logger,
    onRetry: () => (counters.retries += 1),
  });
  const dlqDone = dlqSink.write(dlq, { stop: lifecycle.stop, abort: lifecycle.abort }).catch(fail);
  const deadLetter = async (message: DeadLetter, ack: Ack): Promise<void> => {
    const counted: Ack = async (error) => {
      if (!error) counters.errors += 1;
      // A user neither written nor dead-lettered: stop reading now (the DLQ sink itself reports its failure
      // only when more input comes, which the source, waiting for acks, would never send).
      else fail(error);
      await ack(error);
    };
    // Not only on abort: once the stage failed, the DLQ sink may have stopped taking messages.
    await dlq.send(envelope(message, counted), dlqSendSignal);
  };

  const writes = new PointWrites({
    writer,
    maxInFlight: o.maxInFlight,
    dlqTopic: o.dlqTopic,
    deadLetter,
    outage,
    signal: writeSignal,
    counters,
    stats,
    onFatal: fail,
  });
  const counts: PointCounts = { users: 0, invalid: 0, duplicates: 0 };
  let finishError: unknown;
  try {
    const items = toPointItems(source.read(readStop), {
      measurement: o.measurement,
      dlqTopic: o.dlqTopic,
      dedupeWindow: o.dedupeWindow,
      counters,
      counts,
      deadLetter,
    });
    const batches = batch(items, {
      maxCount: o.batchSize,
      maxBytes: o.batchBytes,
      maxWaitMs: o.flushIntervalMs,
      sizeOf: (i) => i.line.length + 1,
    });
    const it = batches[Symbol.asyncIterator]();
    try {
      for (;;) {
        // A batch is filled only once a write slot is free, so the users held stay within maxInFlight batches
        // even while InfluxDB is down (a filled batch waiting for a slot would be a third one).
        await writes.slot();
        if (fatal !== undefined) break; // unacked: not committed, redelivered after the cause is fixed
        const next = await it.next();
        if (next.done || fatal !== undefined) break;
        writes.start(next.value);
      }
    } finally {
      await it.return(undefined);
    }
  } catch (err) {
    fail(err);
  } finally {
    lifecycle.stop.removeEventListener('abort', onStop);
    await writes.drain();
    dlq.close();
    await dlqDone;
    await producer.close().catch((err: unknown) => logger.warn('closing the DLQ producer failed', { error: err }));
    await writer.close().catch((err: unknown) => logger.warn('closing the writer failed', { error: err }));
    try {
      await source.finish();
    } catch (err) {
      finishError = err;
    }
  }
  if (fatal !== undefined) throw fatal;
  if (finishError !== undefined) throw finishError;
  if (writes.abandoned > 0) {
    logger.warn('stopped with users not written; they are redelivered on the next start', { users: writes.abandoned });
  }
  return { ...counts, written: counters.out, deadLettered: counters.errors, abandoned: writes.abandoned };
}
