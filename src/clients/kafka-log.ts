import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import {
  KafkaAdmin,
  KafkaConsumer,
  KafkaProducer,
  type Acks,
  type Compression,
  type KafkaConnectionOptions,
  type KafkaMessage,
} from './kafka.ts';
import type { ConsumerOptions, LogConsumer, LogProducer, LogRecord, MessageLog, ProduceRecord } from './message-log.ts';

/**
 * The MessageLog of real Kafka, over the Kafka adapter (`kafka.ts`). Stages see only MessageLog; this file
 * maps its small vocabulary onto the adapter's producer, consumer and admin.
 */
export interface KafkaLogOptions {
  connection: KafkaConnectionOptions;
  producer?: { acks?: Acks; idempotent?: boolean; compression?: Compression; maxRequestBytes?: number };
  /** Bound on messages fetched but not yet pulled by a stage. */
  maxBufferedMessages?: number;
  logger?: Logger;
}

export class KafkaLog implements MessageLog {
  readonly description: string;
  private readonly o: KafkaLogOptions;
  private admin: Promise<KafkaAdmin> | undefined;
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(options: KafkaLogOptions) {
    this.o = options;
    this.description = `Kafka ${options.connection.brokers.join(',')}`;
  }

  private getAdmin(): Promise<KafkaAdmin> {
    this.admin ??= KafkaAdmin.create({ ...this.o.connection, logger: this.o.logger });
    return this.admin;
  }

  async ensureTopic(topic: string, options: { partitions?: number; replicationFactor?: number } = {}): Promise<void> {
    const admin = await this.getAdmin();
    await admin.ensureTopic(topic, { partitions: options.partitions ?? 1, replicationFactor: options.replicationFactor ?? 1 });
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    const admin = await this.getAdmin();
    const ends = await admin.endOffsets(topic);
    return new Map(ends.map((end, partition) => [partition, end]));
  }

  async producer(): Promise<LogProducer> {
    const p = await KafkaProducer.create({
      ...this.o.connection,
      ...this.o.producer,
      topic: '',
      logger: this.o.logger ?? silentLogger,
    });
    this.closers.push(() => p.close());
    return {
      send: async (topic: string, records: readonly ProduceRecord[], signal?: AbortSignal) => {
        await p.send(
          records.map((r) => ({ topic, key: r.key ?? null, value: r.value, headers: r.headers })),
          signal,
        );
      },
      close: () => p.close(),
    };
  }

  async consumer(options: ConsumerOptions, signal?: AbortSignal): Promise<LogConsumer> {
    const c = await KafkaConsumer.create({
      ...this.o.connection,
      groupId: options.group,
      topics: [options.topic],
      start: options.start,
      maxBufferedMessages: options.maxBuffered ?? this.o.maxBufferedMessages ?? 1000,
      onAssigned: options.onAssign,
      onRevoked: options.onRevoke,
      logger: this.o.logger,
    });
    await c.start(signal);
    this.closers.push(() => c.close());
    const messages = c.messages(signal);
    return {
      [Symbol.asyncIterator]: () => mapIterator(messages[Symbol.asyncIterator](), toLogRecord),
      commit: (offsets) => c.commit(offsets),
      assignment: () => c.assignment(),
      positions: () => new Map(c.positions().map((p) => [p.partition, p.yielded])),
      lag: () =>
        c.positions().reduce((sum, p) => sum + (p.highWatermark !== undefined && p.highWatermark > p.yielded ? Number(p.highWatermark - p.yielded) : 0), 0),
      close: () => c.close(),
    };
  }

  async close(): Promise<void> {
    const closers = this.closers.splice(0);
    await Promise.allSettled(closers.map((c) => c()));
    if (this.admin) {
      const admin = await this.admin.catch(() => undefined);
      await admin?.close();
      this.admin = undefined;
    }
  }
}

/**
 * Key and value are copied: the adapter's buffers are views into a whole decompressed fetch response, and a
 * stage that holds a few records (a batch waiting for InfluxDB) would otherwise keep every response alive.
 */
function toLogRecord(m: KafkaMessage): LogRecord {
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key === null ? null : Buffer.from(m.key),
    value: m.value === null ? null : Buffer.from(m.value),
    headers: Object.fromEntries(m.headers),
    timestampMs: Number(m.timestamp),
  };
}

function mapIterator<A, B>(it: AsyncIterator<A>, f: (a: A) => B): AsyncIterator<B> {
  return {
    next: async () => {
      const r = await it.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: f(r.value) };
    },
    return: async () => {
      await it.return?.();
      return { done: true, value: undefined };
    },
  };
}
