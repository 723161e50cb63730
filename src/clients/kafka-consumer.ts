import { ConnectionPool, Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import { ConfigError, PipelineError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { classifyKafkaError, isRebalanceError } from './kafka-errors.ts';
import { MessageBuffer, type Cursor } from './kafka-buffer.ts';
import { GroupMembership, type RevokeReason, type TopicPartition } from './kafka-group.ts';
import { resolveBaseOptions, resolveGroupTiming, type GroupTiming, type KafkaConnectionOptions } from './kafka-options.ts';
import { listOffsetMap, StartPositions, type StartFrom } from './kafka-positions.ts';
import { abortable } from './kafka-producer.ts';
import { partitionKey, type KafkaMessage } from './kafka-records.ts';
import { retryKafka, withTimeout } from './kafka-util.ts';

export type { RevokeReason, StartFrom, TopicPartition };

/**
 * Consumer adapter for `archive` and `process`: a group member with exact positions, a bounded buffer,
 * manual commits, and rebalance callbacks that run *before* partitions move (see kafka-group.ts for how).
 *
 * Contract:
 * - `messages()` yields records in offset order per partition (one iteration at a time). At most
 *   `maxBufferedMessages` plus one fetch response are held (a response is <= `fetchMaxBytes` per broker of
 *   stored, possibly compressed batches, and always holds at least one whole batch): when the stage stops
 *   pulling, fetching stops.
 * - Nothing is committed automatically. `commit([{topic, partition, offset}])` takes Kafka's convention:
 *   `offset` = the NEXT offset to read = last processed offset + 1. It resolves once the coordinator stored
 *   it. Commit only what is durable downstream; anything uncommitted is redelivered after a restart or
 *   rebalance (at-least-once). Await a commit before the next one for the same partition.
 * - Rebalance (eager: every rebalance revokes everything, then assigns): before this member rejoins, its
 *   messages stop, what it buffered is dropped, and `onRevoked(partitions, {reason})` is awaited (bounded by
 *   `revokeTimeoutMs`, default min(30 s, 2/3 of the session timeout)). The group is still waiting for this
 *   member then, so commits made inside `onRevoked` succeed and the next owner starts exactly there.
 *   `onAssigned(partitions)` is awaited before any message of them is yielded (clean up leftovers there; keep
 *   it shorter than the rebalance timeout). Reassigned partitions resume from the committed offset, so
 *   records dropped at revocation are read again. reason 'lost': membership was lost, commits will fail;
 *   'close': `close()` is leaving the group.
 * - `start` (see kafka-positions.ts): 'committed' (default; else earliest), 'earliest', 'latest'.
 * - `untilEnd` (`--once`): end offsets are read at `start()`; iteration ends once every assigned partition
 *   reached its end (records at or after it are not yielded).
 * - Errors: `messages()` throws a PipelineError when consuming cannot go on (AUTH, NOT_FOUND, a broker
 *   unreachable for longer than `retryMaxMs`); transient fetch failures are retried with backoff and logged.
 * - Cancellation: iteration ends without error when its `signal` fires or `close()` is called.
 */

export interface CommitOffset extends TopicPartition {
  /** The next offset to read: last processed offset + 1. */
  offset: bigint;
}

export interface KafkaConsumerOptions extends KafkaConnectionOptions, Partial<GroupTiming> {
  groupId: string;
  topics: string[];
  start?: StartFrom;
  untilEnd?: boolean;
  /** Bound on records fetched but not yet pulled. Default 1000. */
  maxBufferedMessages?: number;
  /** Bytes asked of one broker per fetch. Default 1 MiB. */
  fetchMaxBytes?: number;
  /** How long a broker may hold a fetch waiting for data. Default 500 ms. */
  fetchMaxWaitMs?: number;
  /** Keep retrying an unreachable broker (join, fetch, offsets) this long before failing. Default 5 min. */
  retryMaxMs?: number;
  onAssigned?: (partitions: TopicPartition[]) => void | Promise<void>;
  onRevoked?: (partitions: TopicPartition[], info: { reason: RevokeReason }) => void | Promise<void>;
  logger?: Logger;
}

export interface PartitionPosition extends TopicPartition {
  /** Next offset to fetch. */
  position: bigint;
  /** Offset after the last record yielded: the highest offset a commit may carry. */
  yielded: bigint;
  /** untilEnd: the end offset seen at start. */
  end: bigint | undefined;
  /** Last high watermark the leader reported (lag = highWatermark - committed). */
  highWatermark: bigint | undefined;
}

export class KafkaConsumer implements AsyncIterable<KafkaMessage> {
  readonly groupId: string;
  readonly topics: readonly string[];
  private readonly consumer: Consumer;
  private readonly pool: ConnectionPool;
  private readonly options: KafkaConsumerOptions;
  private readonly timing: GroupTiming;
  private readonly logger: Logger;
  private readonly retryMaxMs: number;
  private readonly group: GroupMembership;
  private readonly starts: StartPositions;
  private readonly buffer: MessageBuffer;
  /** Partitions inside onRevoked: still committable. */
  private readonly revoking = new Map<string, Cursor>();
  private endOffsets = new Map<string, bigint>();
  private commitsInFlight = 0;
  private started = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly stopController = new AbortController();

  private constructor(consumer: Consumer, pool: ConnectionPool, options: KafkaConsumerOptions, timing: GroupTiming, requestTimeoutMs: number) {
    this.consumer = consumer;
    this.pool = pool;
    this.options = options;
    this.timing = timing;
    this.groupId = options.groupId;
    this.topics = [...options.topics];
    this.logger = options.logger ?? silentLogger;
    this.retryMaxMs = options.retryMaxMs ?? 300_000;
    this.starts = new StartPositions(consumer, options.start ?? 'committed');
    this.buffer = new MessageBuffer(consumer, pool, {
      groupId: this.groupId,
      topics: this.topics,
      maxBuffered: options.maxBufferedMessages ?? 1000,
      fetchMaxBytes: options.fetchMaxBytes ?? 1024 * 1024,
      fetchMaxWaitMs: options.fetchMaxWaitMs ?? 500,
      retryMaxMs: this.retryMaxMs,
      untilEnd: options.untilEnd ?? false,
      outOfRangePolicy: this.starts.outOfRangePolicy,
      logger: this.logger,
    });
    this.group = new GroupMembership(
      consumer,
      { groupId: this.groupId, topics: this.topics, timing, requestTimeoutMs, retryMaxMs: this.retryMaxMs, logger: this.logger },
      {
        revoke: (reason) => this.revokeAll(reason),
        assign: (partitions) => this.assign(partitions),
        fail: (error) => this.fail(error),
        commitInFlight: () => this.commitsInFlight > 0,
      },
    );
  }

  /** Validate options and build the client. Nothing touches the network before `start()`. */
  static async create(options: KafkaConsumerOptions): Promise<KafkaConsumer> {
    validateConsumerOptions(options);
    const timing = resolveGroupTiming(options);
    const base = await resolveBaseOptions(options);
    // JoinGroup legitimately blocks up to the rebalance timeout; a shorter request timeout would abort it.
    const requestTimeoutMs = Math.max(base.requestTimeout ?? 0, timing.rebalanceTimeoutMs + 5_000);
    const ref: { adapter?: KafkaConsumer } = {};
    const consumer = new Consumer({
      ...base,
      requestTimeout: requestTimeoutMs,
      groupId: options.groupId,
      autocommit: false,
      sessionTimeout: timing.sessionTimeoutMs,
      rebalanceTimeout: timing.rebalanceTimeoutMs,
      heartbeatInterval: timing.heartbeatIntervalMs,
      protocolsMetadata: () => (ref.adapter ? ref.adapter.group.beforeJoin() : Promise.resolve(Buffer.alloc(0))),
    });
    // Fetches get their own connections: a long-poll fetch must not delay heartbeats and commits queued on
    // the coordinator connection (a broker serves one request per connection at a time).
    const pool = new ConnectionPool(options.clientId, { ...base, requestTimeout: requestTimeoutMs });
    ref.adapter = new KafkaConsumer(consumer, pool, options, timing, requestTimeoutMs);
    return ref.adapter;
  }

  /** Read end offsets (untilEnd), join the group, wait until the first assignment was handled. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.options.untilEnd) {
      this.endOffsets = await retryKafka('listOffsets', () => listOffsetMap(this.consumer, this.topics, ListOffsetTimestamps.LATEST), {
        maxElapsedMs: this.retryMaxMs,
        signal: signal ? AbortSignal.any([signal, this.stopController.signal]) : this.stopController.signal,
        logger: this.logger,
        what: 'kafka end offsets',
        fields: { group: this.groupId },
      });
    }
    await this.group.join(signal);
    this.buffer.start();
  }

  /** The records, in offset order per partition. One iteration at a time. Ends on `signal` or `close()`. */
  messages(signal?: AbortSignal): AsyncIterable<KafkaMessage> {
    return { [Symbol.asyncIterator]: () => this.buffer.iterate(signal) };
  }

  [Symbol.asyncIterator](): AsyncIterator<KafkaMessage> {
    return this.buffer.iterate(undefined);
  }

  /**
   * Store offsets: each `offset` is the NEXT offset to read (last processed + 1). Refused without asking the
   * broker: partitions this member does not own, or no membership at all (`details.rebalance`: the records
   * go to their owner; do not retry), and offsets beyond what was yielded (INTERNAL: a bug). Broker errors
   * are classified: `details.rebalance` again means the group moved on; retryable = coordinator unavailable.
   */
  async commit(offsets: readonly CommitOffset[], signal?: AbortSignal): Promise<void> {
    if (offsets.length === 0) return;
    const notOwned: string[] = [];
    for (const o of offsets) {
      const key = partitionKey(o.topic, o.partition);
      const cursor = this.buffer.assigned.get(key) ?? this.revoking.get(key);
      if (typeof o.offset !== 'bigint' || o.offset < 0n || (cursor && o.offset > cursor.yielded)) {
        throw new PipelineError('INTERNAL', 'kafka commit: offset invalid or beyond the last yielded record', {
          details: { partition: key, offset: String(o.offset), yielded: cursor ? String(cursor.yielded) : undefined },
        });
      }
      if (!cursor) notOwned.push(key);
    }
    // Library bug workaround: after the coordinator dropped this member (UNKNOWN_MEMBER_ID) the library clears
    // its member id and would send an OffsetCommit without one, which the broker answers by closing the
    // connection (seen as a retryable network error, three times). The membership is gone: say so at once.
    if (notOwned.length > 0 || this.consumer.memberId === null) {
      throw new PipelineError('UNAVAILABLE', 'kafka commit: not the owner any more (rebalanced or membership lost); the records will be redelivered', {
        retryable: false,
        details: { op: 'commit', rebalance: true, group: this.groupId, partitions: notOwned },
      });
    }
    this.commitsInFlight += 1;
    try {
      const withEpoch = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: -1 }));
      await abortable(this.consumer.commit({ offsets: withEpoch }), signal);
    } catch (err) {
      const error = classifyKafkaError(err, 'commit', { group: this.groupId });
      if (isRebalanceError(error)) this.group.checkMembership();
      throw error;
    } finally {
      this.commitsInFlight -= 1;
    }
  }

  /** Partitions currently assigned (empty during a rebalance). */
  assignment(): TopicPartition[] {
    return [...this.buffer.assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Positions of the assigned partitions (lag, progress logs, tests). */
  positions(): PartitionPosition[] {
    return [...this.buffer.assigned.values()].map(({ topic, partition, position, yielded, end, highWatermark }) => ({ topic, partition, position, yielded, end, highWatermark }));
  }

  /** Records fetched and not yet pulled. */
  get buffered(): number {
    return this.buffer.buffered;
  }

  /** Records fetched since start (tests, stats). */
  get fetchedTotal(): number {
    return this.buffer.fetchedTotal;
  }

  /** Stop fetching, revoke (onRevoked with 'close': flush and commit there), leave the group, disconnect. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      const stopping = this.buffer.stop();
      await this.group.leave();
      this.stopController.abort();
      await this.pool.close().catch(() => {});
      await stopping;
    })();
    return this.closed;
  }

  // ---- rebalance hooks, called in order by GroupMembership -----------------------------------------------

  private async revokeAll(reason: RevokeReason): Promise<void> {
    const revoked = this.buffer.revokeAll();
    if (revoked.length === 0) return;
    for (const c of revoked) this.revoking.set(c.key, c);
    const partitions = revoked.map(({ topic, partition }) => ({ topic, partition }));
    this.logger.info('kafka partitions revoked', { group: this.groupId, reason, partitions: describe(partitions) });
    try {
      if (this.options.onRevoked) await withTimeout(Promise.resolve(this.options.onRevoked(partitions, { reason })), this.timing.revokeTimeoutMs);
    } catch (err) {
      this.logger.warn('kafka onRevoked failed or timed out', { group: this.groupId, reason, error: err as Error });
    } finally {
      this.revoking.clear();
    }
  }

  private async assign(partitions: TopicPartition[]): Promise<void> {
    if (this.closing) return;
    if (this.buffer.assigned.size > 0) await this.revokeAll('rebalance'); // eager protocol: normally already empty
    const generation = this.buffer.beginAssignment();
    const positions = await retryKafka('listOffsets', () => this.starts.resolve(partitions), {
      maxElapsedMs: this.retryMaxMs,
      signal: this.stopController.signal,
      logger: this.logger,
      what: 'kafka offsets lookup',
      fields: { group: this.groupId },
    });
    if (this.closing) return;
    const cursors: Cursor[] = partitions.map((tp) => {
      const key = partitionKey(tp.topic, tp.partition);
      const position = positions.get(key) as bigint;
      const end = this.options.untilEnd ? (this.endOffsets.get(key) ?? position) : undefined;
      return { ...tp, key, position, yielded: position, end, highWatermark: undefined };
    });
    if (!this.buffer.install(generation, cursors)) return;
    this.logger.info('kafka partitions assigned', {
      group: this.groupId,
      partitions: describe(partitions),
      positions: cursors.map((c) => `${c.partition}@${c.position}`).join(','),
    });
    if (this.options.onAssigned) await this.options.onAssigned(partitions);
    this.buffer.release(generation);
  }

  private fail(error: PipelineError): void {
    if (this.closing) return;
    this.logger.error('kafka consumer failed', { group: this.groupId, code: error.code, error: error.message });
    this.buffer.fail(error);
  }
}

function validateConsumerOptions(o: KafkaConsumerOptions): void {
  const bad = (message: string, field: string): never => {
    throw new ConfigError(`kafka: ${message}`, { field });
  };
  if (!o.groupId || !/^\S+$/.test(o.groupId)) bad('groupId must be a non-empty string without spaces', 'groupId');
  if (!Array.isArray(o.topics) || o.topics.length === 0) bad('at least one topic is required', 'topics');
  for (const [k, v] of Object.entries({ maxBufferedMessages: o.maxBufferedMessages, fetchMaxBytes: o.fetchMaxBytes, fetchMaxWaitMs: o.fetchMaxWaitMs, retryMaxMs: o.retryMaxMs })) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) bad(`${k} must be a positive integer`, k);
  }
  if (o.start !== undefined && !['committed', 'earliest', 'latest'].includes(o.start)) bad('start must be committed, earliest or latest', 'start');
}

function describe(partitions: TopicPartition[]): string {
  return partitions.map((p) => `${p.topic}:${p.partition}`).join(',');
}
