import { Admin } from '@platformatic/kafka';
import { PipelineError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { sleep } from '../core/sleep.ts';
import { classifyKafkaError, kafkaErrorNames } from './kafka-errors.ts';
import { resolveBaseOptions, type KafkaConnectionOptions } from './kafka-options.ts';

/**
 * Admin operations the stages and tests need: make sure a topic exists, read end offsets (`--once`) and
 * committed offsets (lag metric, tests), delete topics (tests). Offsets are Kafka's: an end offset is the
 * offset the next record will get; a committed offset is the next offset the group will read.
 * Every method throws classified PipelineErrors (see kafka-errors.ts).
 */

export interface TopicSpec {
  partitions: number;
  replicationFactor: number;
  /** Topic configs, e.g. { 'retention.ms': '604800000' }. */
  configs?: Record<string, string>;
}

export interface PartitionLag {
  partition: number;
  /** Offset the next record will get (last stable offset: what a read_committed consumer can reach). */
  end: bigint;
  /** Next offset the group will read; null when the group never committed on this partition. */
  committed: bigint | null;
  /** end - committed, or end - start offset when nothing is committed. */
  lag: bigint;
}

export class KafkaAdmin {
  private readonly admin: Admin;
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;

  private constructor(admin: Admin, logger: Logger) {
    this.admin = admin;
    this.logger = logger;
  }

  static async create(options: KafkaConnectionOptions & { logger?: Logger }): Promise<KafkaAdmin> {
    const admin = new Admin(await resolveBaseOptions(options));
    const logger = options.logger ?? silentLogger;
    admin.on('error', (err: unknown) => logger.debug('kafka admin client error', { error: err as Error }));
    return new KafkaAdmin(admin, logger);
  }

  /**
   * Create the topic unless it exists (then it is left as is, even if its partition count differs: the
   * returned count says what there is). Resolves once every partition has a leader, so a producer or
   * consumer started right after does not race the creation. Bounded by `timeoutMs` (default 30 s).
   */
  async ensureTopic(name: string, spec: TopicSpec, timeoutMs = 30_000): Promise<{ created: boolean; partitions: number }> {
    if (!(Number.isInteger(spec.partitions) && spec.partitions > 0) || !(Number.isInteger(spec.replicationFactor) && spec.replicationFactor > 0)) {
      throw new PipelineError('CONFIG', 'kafka ensureTopic: partitions and replication factor must be positive integers', {
        retryable: false,
        details: { topic: name, ...spec },
      });
    }
    let created = true;
    try {
      await this.admin.createTopics({
        topics: [name],
        partitions: spec.partitions,
        replicas: spec.replicationFactor,
        configs: Object.entries(spec.configs ?? {}).map(([configName, value]) => ({ name: configName, value })),
      });
    } catch (err) {
      if (!kafkaErrorNames(err).includes('TOPIC_ALREADY_EXISTS')) throw classifyKafkaError(err, 'createTopics', { topic: name });
      created = false;
    }
    const partitions = await this.waitForLeaders(name, timeoutMs);
    if (!created && partitions !== spec.partitions) {
      this.logger.warn('kafka topic exists with another partition count', { topic: name, partitions, wanted: spec.partitions });
    }
    return { created, partitions };
  }

  /** Delete a topic; a topic that does not exist is fine. */
  async deleteTopic(name: string): Promise<void> {
    try {
      await this.admin.deleteTopics({ topics: [name] });
    } catch (err) {
      if (kafkaErrorNames(err).includes('UNKNOWN_TOPIC_OR_PARTITION')) return;
      throw classifyKafkaError(err, 'deleteTopics', { topic: name });
    }
  }

  /** Number of partitions; NOT_FOUND when the topic does not exist. */
  async partitionCount(topic: string): Promise<number> {
    try {
      const md = await this.admin.metadata({ topics: [topic], forceUpdate: true });
      const t = md.topics.get(topic);
      if (!t) throw new PipelineError('NOT_FOUND', 'kafka: unknown topic', { retryable: false, details: { topic } });
      return t.partitionsCount;
    } catch (err) {
      throw classifyKafkaError(err, 'metadata', { topic });
    }
  }

  /** End offset per partition (index = partition): the offset the next record will get (read_committed). */
  endOffsets(topic: string): Promise<bigint[]> {
    return this.listOffsets(topic, -1n);
  }

  /** First offset still in the log per partition (index = partition). */
  startOffsets(topic: string): Promise<bigint[]> {
    return this.listOffsets(topic, -2n);
  }

  /** Committed offset of `group` per partition (index = partition); null where nothing was committed. */
  async committedOffsets(group: string, topic: string): Promise<Array<bigint | null>> {
    const n = await this.partitionCount(topic);
    const out: Array<bigint | null> = Array.from({ length: n }, () => null);
    try {
      const res = await this.admin.listConsumerGroupOffsets({
        groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: out.map((_, i) => i) }] }],
      });
      for (const g of res) {
        for (const t of g.topics) {
          if (t.name !== topic) continue;
          for (const p of t.partitions) if (p.partitionIndex < n && p.committedOffset >= 0n) out[p.partitionIndex] = p.committedOffset;
        }
      }
      return out;
    } catch (err) {
      throw classifyKafkaError(err, 'listConsumerGroupOffsets', { group, topic });
    }
  }

  /** Per-partition lag of `group` on `topic` (for the lag metric and `status`). */
  async consumerLag(group: string, topic: string): Promise<PartitionLag[]> {
    const [end, start, committed] = await Promise.all([this.endOffsets(topic), this.startOffsets(topic), this.committedOffsets(group, topic)]);
    return end.map((e, partition) => {
      const c = committed[partition] ?? null;
      const from = c ?? start[partition] ?? 0n;
      return { partition, end: e, committed: c, lag: e > from ? e - from : 0n };
    });
  }

  close(): Promise<void> {
    this.closing ??= this.admin.close().catch((err: unknown) => this.logger.debug('kafka admin close failed', { error: err as Error }));
    return this.closing;
  }

  private async listOffsets(topic: string, timestamp: bigint): Promise<bigint[]> {
    const n = await this.partitionCount(topic);
    try {
      const res = await this.admin.listOffsets({
        topics: [{ name: topic, partitions: Array.from({ length: n }, (_, partitionIndex) => ({ partitionIndex, timestamp })) }],
        isolationLevel: 1, // READ_COMMITTED: the last stable offset, the end a consumer can actually reach
      });
      const out: bigint[] = Array.from({ length: n }, () => 0n);
      for (const t of res) for (const p of t.partitions) out[p.partitionIndex] = p.offset;
      return out;
    } catch (err) {
      throw classifyKafkaError(err, 'listOffsets', { topic });
    }
  }

  private async waitForLeaders(topic: string, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const md = await this.admin.metadata({ topics: [topic], forceUpdate: true });
        const t = md.topics.get(topic);
        if (t && t.partitionsCount > 0 && t.partitions.every((p) => p && p.leader >= 0)) return t.partitionsCount;
      } catch (err) {
        lastError = err;
      }
      await sleep(100);
    }
    throw new PipelineError('TIMEOUT', 'kafka ensureTopic: partitions have no leader yet', {
      cause: lastError,
      details: { topic, timeoutMs },
    });
  }
}
