/**
 * The ingest stage: spool directory -> message log (Kafka, or run-all's in-process log).
 *
 *   SpoolDirSource --Envelope<SpoolFile>--> explode --Envelope<OutMessage>--> LogSink --> producer.send
 *        ^                                    | splitAck: one child ack per message            |
 *        +---- file marked done / quarantined <- parent ack, once every child settled <--------+
 *
 * A file is marked done only once every message made from it (data and dead-letter) was acknowledged by the
 * log. A crash before that leaves the file in the spool directory: it is sent again on restart
 * (at-least-once; duplicates carry the same keys and headers, so downstream stays idempotent).
 *
 * Bounds: `maxFilesInFlight` parsed files, `maxMessagesInFlight` messages made and not yet acked, one batch
 * being filled plus `maxInFlightBatches` being sent. Stop (`lifecycle.stop`): no new file is read, what is in
 * flight is sent and settled. Abort: unsent messages are nacked and their files stay for the next run.
 *
 * One ingest per spool directory (`spool-lock.ts`): a second one fails at start instead of sending every file
 * twice.
 *
 * `ingestUnits` is the same pipeline without the spool directory: run-all can feed it parsed responses whose
 * acks advance its own cursor (see `responseUnit`).
 */
import { mkdir } from 'node:fs/promises';
import type { MessageLog, LogProducer } from '../clients/message-log.ts';
import { envelope, splitAck, type Envelope } from '../core/envelope.ts';
import type { Lifecycle } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import { Notifier } from '../core/notifier.ts';
import { abortedError } from '../core/sleep.ts';
import type { Stats, StageCounters } from '../core/stats.ts';
import { LogSink, waitForLog } from '../sinks/log-sink.ts';
import { SpoolDirSource, type SpoolDirOptions } from '../sources/spool-dir.ts';
import { lockSpoolDir } from '../sources/spool-lock.ts';
import type { RandomUserResponse } from '../transforms/randomuser-types.ts';
import type { SpoolLayout, SpoolRecord } from '../transforms/spool-format.ts';
import type { MessageFormat } from '../transforms/user-message.ts';
import { buildMessages, type FileOrigin, type OutMessage } from '../transforms/user-messages.ts';

/** What the pipeline ingests: the records of one file (or one fetched response) and where they came from. */
export interface IngestUnit {
  origin: FileOrigin;
  layout: SpoolLayout;
  records: SpoolRecord[];
}

export interface IngestSendOptions {
  topic: string;
  dlqTopic: string;
  format: MessageFormat;
  maxMessagesInFlight: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  lingerMs: number;
  maxInFlightBatches: number;
  /** Bounded backoff while the log is unreachable. */
  retryMaxDelayMs?: number;
}

/** What ingest needs of the log: topics and a producer (Kafka: `cli/ingest-kafka.ts`; run-all: `fromMessageLog`). */
export interface IngestLog {
  /** For log lines ("Kafka at 127.0.0.1:9092"). */
  readonly description: string;
  /** Create the topic if missing; an existing topic is fine. */
  ensureTopic(topic: string, options: { partitions: number; replicationFactor: number }): Promise<void>;
  /** Resolve if the topic exists; reject NOT_FOUND (not retryable) if not, retryable errors while unreachable. */
  checkTopic(topic: string): Promise<void>;
  producer(): Promise<LogProducer>;
}

/** Any MessageLog (run-all's in-process log) as an IngestLog. */
export function fromMessageLog(log: MessageLog): IngestLog {
  return {
    description: log.description,
    ensureTopic: (topic, options) => log.ensureTopic(topic, options),
    checkTopic: async (topic) => {
      await log.endOffsets(topic);
    },
    producer: () => log.producer(),
  };
}

export interface IngestStageOptions extends IngestSendOptions {
  log: IngestLog;
  spool: Omit<SpoolDirOptions, 'log' | 'onQuarantine' | 'onDone'>;
  /** Create the topic and the dead-letter topic (an existing topic is fine). */
  createTopic?: { partitions: number; replicationFactor: number };
}

export interface IngestResult {
  filesDone: number;
  filesQuarantined: number;
}

export async function runIngestStage(o: IngestStageOptions, lifecycle: Lifecycle, stats: Stats, logger: Logger): Promise<IngestResult> {
  const counters = stats.stage('ingest');
  const result: IngestResult = { filesDone: 0, filesQuarantined: 0 };
  await mkdir(o.spool.dir, { recursive: true });
  const unlock = await lockSpoolDir(o.spool.dir);
  try {
    await prepareTopics(o, lifecycle, logger, counters);
    await runSpool(o, lifecycle, stats, logger, result);
  } finally {
    await unlock();
  }
  return result;
}

async function runSpool(o: IngestStageOptions, lifecycle: Lifecycle, stats: Stats, logger: Logger, result: IngestResult): Promise<void> {
  const counters = stats.stage('ingest');
  const source = new SpoolDirSource({
    ...o.spool,
    log: logger,
    onDone: () => {
      result.filesDone += 1;
    },
    onQuarantine: () => {
      result.filesQuarantined += 1;
      counters.errors += 1;
    },
  });
  stats.gauge('ingest', { queueFill: () => source.filesInFlight / o.spool.maxFilesInFlight });
  const producer = await o.log.producer();
  try {
    await ingestUnits(source.read(lifecycle.stop), producer, o, lifecycle, counters, logger, o.log.description);
  } finally {
    await producer.close();
  }
}

/**
 * Send the units' messages and settle each unit's ack once all of them are acknowledged. Resolves when the
 * input ended and everything taken was settled; throws on a fatal log error (after nacking what it held).
 */
export async function ingestUnits(
  input: AsyncIterable<Envelope<IngestUnit>>,
  producer: LogProducer,
  o: IngestSendOptions,
  lifecycle: Lifecycle,
  counters: StageCounters,
  logger: Logger,
  description: string,
): Promise<void> {
  const sink = new LogSink<OutMessage>({
    producer,
    description,
    maxBatchMessages: o.maxBatchMessages,
    maxBatchBytes: o.maxBatchBytes,
    lingerMs: o.lingerMs,
    maxInFlightBatches: o.maxInFlightBatches,
    ...(o.retryMaxDelayMs === undefined ? {} : { retryMaxDelayMs: o.retryMaxDelayMs }),
    log: logger,
    onRetry: () => {
      counters.retries += 1;
    },
    onSent: (messages) => {
      for (const m of messages) {
        if (m.dead) counters.errors += m.users;
        else {
          counters.out += m.users;
          counters.bytes += Buffer.byteLength(m.value);
        }
      }
    },
  });
  const slots = new Slots(o.maxMessagesInFlight);
  await sink.write(explode(input, o, slots, counters, lifecycle.abort), { stop: lifecycle.stop, abort: lifecycle.abort });
}

/** One envelope per message; the unit's ack is split over them. Waits while too many messages are in flight. */
async function* explode(
  input: AsyncIterable<Envelope<IngestUnit>>,
  o: IngestSendOptions,
  slots: Slots,
  counters: StageCounters,
  abort: AbortSignal,
): AsyncGenerator<Envelope<OutMessage>> {
  for await (const unit of input) {
    const messages = buildMessages(unit.payload.layout, unit.payload.records, unit.payload.origin, o);
    for (const m of messages) counters.in += m.users;
    if (messages.length === 0) {
      await unit.ack(); // nothing to send (an empty response): the file is done
      continue;
    }
    const acks = splitAck(unit.ack, messages.length);
    for (let i = 0; i < messages.length; i++) {
      const child = acks[i];
      const message = messages[i];
      if (!child || !message) continue;
      if (!(await slots.acquire(abort))) {
        // Aborted: settle what was not handed on, so the unit (its file) is left for the next run.
        for (let j = i; j < acks.length; j++) await acks[j]?.(abortedError(abort));
        return;
      }
      yield envelope(message, async (error) => {
        slots.release();
        await child(error);
      });
    }
  }
}

/** Create the topics, or check they exist; waits (one log line) while the log is unreachable. */
async function prepareTopics(o: IngestStageOptions, lifecycle: Lifecycle, logger: Logger, counters: StageCounters): Promise<void> {
  const wait = { signal: lifecycle.stop, logger, description: o.log.description, onRetry: () => (counters.retries += 1) };
  for (const topic of [o.topic, o.dlqTopic]) {
    if (o.createTopic) {
      const c = o.createTopic;
      await waitForLog(() => o.log.ensureTopic(topic, { partitions: c.partitions, replicationFactor: c.replicationFactor }), wait);
    } else {
      // Fail at start, not at the first bad user hours later: a missing topic is NOT_FOUND, which is fatal.
      await waitForLog(() => o.log.checkTopic(topic), wait);
    }
  }
}

/** A fetched response as an ingest unit (for run-all's direct hand-off). */
export function responseUnit(response: RandomUserResponse, origin: FileOrigin): IngestUnit {
  return { origin, layout: 'response', records: [{ kind: 'response', response, raw: JSON.stringify(response), line: 1 }] };
}

/** A counting semaphore: the bound on messages made and not yet acked. */
class Slots {
  private free: number;
  private readonly freed = new Notifier();

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('maxMessagesInFlight must be >= 1');
    this.free = capacity;
  }

  async acquire(signal: AbortSignal): Promise<boolean> {
    while (this.free === 0) {
      if (signal.aborted) return false;
      await this.freed.wait(signal);
    }
    this.free -= 1;
    return true;
  }

  release(): void {
    this.free += 1;
    this.freed.notify();
  }
}
