import { ConnectionPool, Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import { ConfigError, PipelineError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { backoffDelay } from '../core/retry.ts';
import { sleep } from '../core/sleep.ts';
import { classifyKafkaError, isRebalanceError } from './kafka-errors.ts';
import { fetchRound, type PartitionCursor, type RoundResult } from './kafka-fetcher.ts';
import { GroupMembership, type RevokeReason, type TopicPartition } from './kafka-group.ts';
import { resolveBaseOptions, resolveGroupTiming, type GroupTiming, type KafkaConnectionOptions } from './kafka-options.ts';
import { listOffsetMap, StartPositions, type StartFrom } from './kafka-positions.ts';
import { abortable } from './kafka-producer.ts';
import { partitionKey, type KafkaMessage } from './kafka-records.ts';
import { Notifier, retryKafka, withTimeout } from './kafka-util.ts';

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

interface Cursor extends PartitionCursor {
  yielded: bigint;
}

export class KafkaConsumer implements AsyncIterable<KafkaMessage> {
  readonly groupId: string;
  readonly topics: readonly string[];
  private readonly consumer: Consumer;
  private readonly pool: ConnectionPool;
  private readonly options: KafkaConsumerOptions;
  private readonly timing: GroupTiming;
  private readonly logger: Logger;
  private readonly maxBuffered: number;
  private readonly retryMaxMs: number;
  private readonly group: GroupMembership;
  private readonly starts: StartPositions;

  private readonly assigned = new Map<string, Cursor>();
  /** Partitions inside onRevoked: still committable. */
  private readonly revoking = new Map<string, Cursor>();
  private endOffsets = new Map<string, bigint>();
  private queue: KafkaMessage[] = [];
  private head = 0;
  private fetched = 0;
  private commitsInFlight = 0;
  /** Bumped at every revoke/assign: a fetch round started under an older generation is dropped. */
  private generation = 0;
  private rebalancing = true;
  private fatal: PipelineError | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private started = false;
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private readonly fetchWake = new Notifier();
  private readonly dataWake = new Notifier();

  private constructor(consumer: Consumer, pool: ConnectionPool, options: KafkaConsumerOptions, timing: GroupTiming, requestTimeoutMs: number) {
    this.consumer = consumer;
    this.pool = pool;
    this.options = options;
    this.timing = timing;
    this.groupId = options.groupId;
    this.topics = [...options.topics];
    this.logger = options.logger ?? silentLogger;
    this.maxBuffered = options.maxBufferedMessages ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 300_000;
    this.starts = new StartPositions(consumer, options.start ?? 'committed');
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
    this.loop = this.fetchLoop();
  }

  /** The records, in offset order per partition. One iteration at a time. Ends on `signal` or `close()`. */
  messages(signal?: AbortSignal): AsyncIterable<KafkaMessage> {
    return { [Symbol.asyncIterator]: () => this.iterate(signal) };
  }

  [Symbol.asyncIterator](): AsyncIterator<KafkaMessage> {
    return this.iterate(undefined);
  }

  /**
   * Store offsets: each `offset` is the NEXT offset to read (last processed + 1). Refused without asking the
   * broker: partitions this member does not own (`details.rebalance`: the records go to their new owner;
   * do not retry) and offsets beyond what was yielded (INTERNAL: a bug). Broker errors are classified:
   * `details.rebalance` again means the group moved on; retryable = coordinator temporarily unavailable.
   */
  async commit(offsets: readonly CommitOffset[], signal?: AbortSignal): Promise<void> {
    if (offsets.length === 0) return;
    const notOwned: string[] = [];
    for (const o of offsets) {
      const key = partitionKey(o.topic, o.partition);
      const cursor = this.assigned.get(key) ?? this.revoking.get(key);
      if (typeof o.offset !== 'bigint' || o.offset < 0n || (cursor && o.offset > cursor.yielded)) {
        throw new PipelineError('INTERNAL', 'kafka commit: offset invalid or beyond the last yielded record', {
          details: { partition: key, offset: String(o.offset), yielded: cursor ? String(cursor.yielded) : undefined },
        });
      }
      if (!cursor) notOwned.push(key);
    }
    if (notOwned.length > 0) {
      throw new PipelineError('UNAVAILABLE', 'kafka commit: partitions no longer assigned to this member; their records will be redelivered', {
        retryable: false,
        details: { op: 'commit', rebalance: true, partitions: notOwned },
      });
    }
    // Library bug workaround: after the coordinator dropped this member (UNKNOWN_MEMBER_ID) the library clears
    // its member id and would send an OffsetCommit without one, which the broker answers by closing the
    // connection (seen as a retryable network error, three times). The membership is gone: say so at once.
    if (this.consumer.memberId === null) {
      throw new PipelineError('UNAVAILABLE', 'kafka commit: not a group member (membership lost); the records will be redelivered', {
        retryable: false,
        details: { op: 'commit', rebalance: true, group: this.groupId },
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
    return [...this.assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Positions of the assigned partitions (lag, progress logs, tests). */
  positions(): PartitionPosition[] {
    return [...this.assigned.values()].map(({ topic, partition, position, yielded, end, highWatermark }) => ({ topic, partition, position, yielded, end, highWatermark }));
  }

  /** Records fetched and not yet pulled. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** Records fetched since start (tests, stats). */
  get fetchedTotal(): number {
    return this.fetched;
  }

  /** Stop fetching, revoke (onRevoked with 'close': flush and commit there), leave the group, disconnect. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      this.dataWake.notify();
      this.fetchWake.notify();
      await this.group.leave();
      this.stopController.abort();
      await this.pool.close().catch(() => {});
      await withTimeout(this.loop ?? Promise.resolve(), 5_000).catch(() => {});
    })();
    return this.closed;
  }

  // ---- rebalance hooks (called in order by GroupMembership) ----------------------------------------------

  private async revokeAll(reason: RevokeReason): Promise<void> {
    this.rebalancing = true;
    this.generation += 1;
    this.queue = [];
    this.head = 0;
    if (this.assigned.size === 0) return;
    const partitions = this.assignment();
    for (const [k, c] of this.assigned) this.revoking.set(k, c);
    this.assigned.clear();
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
    if (this.assigned.size > 0) await this.revokeAll('rebalance'); // eager protocol: normally already empty
    const generation = ++this.generation;
    this.rebalancing = true;
    const positions = await retryKafka('listOffsets', () => this.starts.resolve(partitions), {
      maxElapsedMs: this.retryMaxMs,
      signal: this.stopController.signal,
      logger: this.logger,
      what: 'kafka offsets lookup',
      fields: { group: this.groupId },
    });
    if (this.closing || generation !== this.generation) return;
    for (const tp of partitions) {
      const key = partitionKey(tp.topic, tp.partition);
      const position = positions.get(key) as bigint;
      const end = this.options.untilEnd ? (this.endOffsets.get(key) ?? position) : undefined;
      this.assigned.set(key, { ...tp, key, position, yielded: position, end, highWatermark: undefined });
    }
    this.logger.info('kafka partitions assigned', {
      group: this.groupId,
      partitions: describe(partitions),
      positions: partitions.map((tp) => `${tp.partition}@${positions.get(partitionKey(tp.topic, tp.partition))}`).join(','),
    });
    if (this.options.onAssigned) await this.options.onAssigned(partitions);
    if (generation !== this.generation) return;
    this.rebalancing = false;
    this.fetchWake.notify();
    this.dataWake.notify();
  }

  private fail(error: PipelineError): void {
    if (this.closing) return;
    this.fatal ??= error;
    this.logger.error('kafka consumer failed', { group: this.groupId, code: error.code, error: error.message });
    this.dataWake.notify();
    this.fetchWake.notify();
  }

  // ---- fetching and iteration ------------------------------------------------------------------------

  private async fetchLoop(): Promise<void> {
    let failingSince: number | undefined;
    let attempt = 0;
    while (!this.closing && !this.fatal) {
      const cursors = this.rebalancing || this.buffered >= this.maxBuffered ? [] : this.fetchable();
      if (cursors.length === 0) {
        await this.fetchWake.wait(this.stopController.signal);
        continue;
      }
      const generation = this.generation;
      const round = await fetchRound(this.consumer, this.pool, [...this.topics], cursors, {
        maxWaitMs: this.options.fetchMaxWaitMs ?? 500,
        maxBytes: this.options.fetchMaxBytes ?? 1024 * 1024,
        minPartitionBytes: 32 * 1024,
      });
      if (this.closing) break;
      if (generation === this.generation) {
        this.apply(round.batches);
        if (round.outOfRange.length > 0) await this.resetOutOfRange(round.outOfRange, generation);
      }
      if (round.error === undefined) {
        if (failingSince !== undefined) this.logger.info('kafka fetch recovered', { group: this.groupId, attempts: attempt });
        failingSince = undefined;
        attempt = 0;
        if (round.leaderless > 0) await sleep(200, this.stopController.signal).catch(() => {});
        continue;
      }
      const error = classifyKafkaError(round.error, 'fetch', { group: this.groupId });
      failingSince ??= Date.now();
      attempt += 1;
      // start() saw the topics exist: an unknown partition now is a leader move or a recreation in progress
      // more often than a deletion, so it gets the same bounded patience as an unreachable broker.
      const transient = error.retryable || error.code === 'NOT_FOUND';
      if (!transient || Date.now() - failingSince > this.retryMaxMs) {
        this.fail(transient ? new PipelineError(error.code, `${error.message} (gave up after ${attempt} attempts)`, { cause: error, retryable: error.retryable, details: error.details }) : error);
        break;
      }
      const delayMs = backoffDelay(attempt, 200, 10_000, Math.random);
      if (attempt === 1 || attempt % 10 === 0) this.logger.warn('kafka fetch failed, retrying', { group: this.groupId, attempt, delayMs, error: error.message });
      await sleep(delayMs, this.stopController.signal).catch(() => {});
    }
  }

  private fetchable(): Cursor[] {
    return [...this.assigned.values()].filter((c) => c.end === undefined || c.position < c.end);
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
    if (added > 0 || this.options.untilEnd) this.dataWake.notify();
  }

  private async resetOutOfRange(cursors: PartitionCursor[], generation: number): Promise<void> {
    try {
      const offsets = await listOffsetMap(this.consumer, this.topics, this.starts.outOfRangePolicy, cursors);
      for (const c of cursors) {
        const to = offsets.get(c.key);
        if (to === undefined || generation !== this.generation || this.assigned.get(c.key) !== c) continue;
        this.logger.warn('kafka offset out of range, resetting', { group: this.groupId, partition: c.key, from: c.position, to });
        c.position = to;
        (c as Cursor).yielded = to;
      }
    } catch (err) {
      this.logger.warn('kafka offset reset failed', { group: this.groupId, error: classifyKafkaError(err, 'listOffsets').message });
    }
  }

  private async *iterate(signal: AbortSignal | undefined): AsyncGenerator<KafkaMessage> {
    while (true) {
      if (signal?.aborted || this.closing) return;
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
        if (this.buffered < this.maxBuffered) this.fetchWake.notify();
        yield m;
        continue;
      }
      if (this.fatal) throw this.fatal;
      if (this.options.untilEnd && this.started && !this.rebalancing && this.fetchable().length === 0) return;
      await this.dataWake.wait(signal);
    }
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
