/**
 * The log the stages talk to: real Kafka (`kafka-log.ts`, over the Kafka adapter) or the in-process bounded
 * log that `run-all` uses when no Kafka is named (`memory-log.ts`). Stages depend on these interfaces only,
 * so every stage runs unchanged on either.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A record read from the log. */
export interface LogRecord extends TopicPartition {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker (or append) time, epoch milliseconds. */
  timestampMs: number;
}

/** A record to append. */
export interface ProduceRecord {
  key?: string | Buffer;
  value: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * Appends records. `send` resolves only once the log holds them durably (Kafka: acknowledged with the
 * configured acks; memory log: taken by every consumer group, since memory alone is not durable). It waits
 * while the log is full (bounded) and rejects with a classified PipelineError (retryable when the log is
 * unreachable). Callers ack their own input only after `send` resolved.
 */
export interface LogProducer {
  send(topic: string, records: readonly ProduceRecord[], signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Offsets to commit: `offset` is the NEXT offset to read (last processed + 1), Kafka's convention. */
export interface CommitOffset extends TopicPartition {
  offset: bigint;
}

export interface ConsumerOptions {
  group: string;
  topic: string;
  /** Where to start when the group has no committed offset (`committed` = committed, else earliest). */
  start: 'committed' | 'earliest' | 'latest';
  /** Called before partitions are taken away (rebalance, close): flush and commit what you can. */
  onRevoke?: (partitions: TopicPartition[]) => Promise<void>;
  /** Called when partitions are given to this consumer, before their records are yielded. */
  onAssign?: (partitions: TopicPartition[]) => Promise<void>;
  /** Upper bound on records fetched but not yet pulled by the stage. */
  maxBuffered?: number;
}

/**
 * A group member. Iterating yields records in offset order per partition; a slow loop slows fetching (bounded
 * buffer). Iteration ends after `close()` (or when the signal given to `consume` fires).
 */
export interface LogConsumer extends AsyncIterable<LogRecord> {
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /**
   * Next offset this member will yield, per assigned partition (starts at the committed offset or the
   * `start` position). `--once` compares these with the end offsets seen at start.
   */
  positions(): Map<number, bigint>;
  /** Messages behind the end of the log, summed over assigned partitions (best effort, for metrics). */
  lag(): number;
  close(): Promise<void>;
}

export interface MessageLog {
  /** Human description for the start-up line ("Kafka at host:9092", "in-process log"). */
  readonly description: string;
  ensureTopic(topic: string, options?: { partitions?: number; replicationFactor?: number }): Promise<void>;
  /** High watermarks (next offset to be written) per partition. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  producer(): Promise<LogProducer>;
  consumer(options: ConsumerOptions, signal?: AbortSignal): Promise<LogConsumer>;
  close(): Promise<void>;
}
