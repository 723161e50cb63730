import { ConnectionPool, Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import { ConfigError, PipelineError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { backoffDelay, retry } from '../core/retry.ts';
import { sleep } from '../core/sleep.ts';
import { classifyKafkaError, isRebalanceError } from './kafka-errors.ts';
import { fetchRound, type PartitionCursor } from './kafka-fetcher.ts';
import { resolveBaseOptions, resolveGroupTiming, type GroupTiming, type KafkaConnectionOptions } from './kafka-options.ts';
import { abortable } from './kafka-producer.ts';
import { partitionKey, type KafkaMessage } from './kafka-records.ts';
import { Notifier, withTimeout } from './kafka-util.ts';

/**
 * Consumer-group adapter for `archive` and `process`: group membership, exact positions, bounded buffering,
 * manual commits, and rebalance callbacks that run *before* partitions move.
 *
 * Contract:
 * - Messages come from `messages()` (an async iterable; one iteration at a time), in offset order per
 *   partition. At most `maxBufferedMessages` (+ one fetch response, <= `fetchMaxBytes` per broker) are held:
 *   when the stage stops pulling, fetching stops.
 * - Nothing is committed automatically. `commit([{topic, partition, offset}])` takes Kafka's convention:
 *   `offset` is the NEXT offset to read, i.e. last processed offset + 1. It resolves once the group
 *   coordinator stored it. Commit only what is durable downstream; everything not committed is redelivered
 *   (to this member or another) after a restart or rebalance: at-least-once.
 * - Rebalance (classic protocol, eager round-robin): before this member rejoins the group, every assigned
 *   partition is revoked: the adapter stops yielding their messages, drops what it buffered for them and
 *   awaits `onRevoked(partitions, {reason: 'rebalance'})` (bounded by `revokeTimeoutMs`). The group is then
 *   still waiting for this member, so commits made inside `onRevoked` use the current generation and succeed.
 *   After the group assigned partitions, `onAssigned(partitions)` is awaited before any of their messages
 *   is yielded. Positions of (re)assigned partitions come from the group's committed offsets, so records
 *   dropped at revocation are re-read. `reason: 'lost'`: the membership was lost (session expired, broker
 *   gone); commits will be refused. `reason: 'close'`: `close()` is leaving the group.
 *   The hook is @platformatic/kafka's `protocolsMetadata` callback, which the library awaits before every
 *   JoinGroup: the only point where it lets us act before revocation.
 * - `start`: where a partition begins the first time this instance gets it: 'committed' (default: the
 *   group's offset, else the earliest), 'earliest' (replay, ignoring commits), 'latest' (only new records).
 *   Later assignments always resume from the committed offset.
 * - `untilEnd` (`--once`): end offsets are read at `start()`; iteration ends once every assigned partition
 *   reached its end offset (records at or after it are not yielded).
 * - Errors: `messages()` throws a PipelineError when consuming cannot go on (AUTH, NOT_FOUND, or the broker
 *   unreachable for longer than `retryMaxMs`); transient fetch failures are retried with backoff and logged.
 * - Cancellation: the iteration ends (without error) when its `signal` fires or `close()` is called.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Kafka convention: `offset` = the next offset to read = last processed offset + 1. */
export interface CommitOffset extends TopicPartition {
  offset: bigint;
}

export type StartFrom = 'committed' | 'earliest' | 'latest';
export type RevokeReason = 'rebalance' | 'lost' | 'close';

export interface KafkaConsumerOptions extends KafkaConnectionOptions, Partial<GroupTiming> {
  groupId: string;
  topics: string[];
  start?: StartFrom;
  untilEnd?: boolean;
  /** Bound on messages fetched but not yet pulled. Default 1000. */
  maxBufferedMessages?: number;
  /** Bytes asked of one broker per fetch. Default 1 MiB. */
  fetchMaxBytes?: number;
  /** How long a broker may hold a fetch waiting for data. Default 500 ms. */
  fetchMaxWaitMs?: number;
  /** Keep retrying an unreachable broker (join, fetch) this long before failing. Default 5 minutes. */
  retryMaxMs?: number;
  onAssigned?: (partitions: TopicPartition[]) => void | Promise<void>;
  onRevoked?: (partitions: TopicPartition[], info: { reason: RevokeReason }) => void | Promise<void>;
  logger?: Logger;
}

export interface PartitionPosition extends TopicPartition {
  /** Next offset the adapter will fetch. */
  position: bigint;
  /** Offset after the last message yielded to the stage (what a commit may go up to). */
  yielded: bigint;
  end: bigint | undefined;
  highWatermark: bigint | undefined;
}

interface Cursor extends PartitionCursor {
  /** Offset after the last message handed to the stage. Commits beyond it would skip unread records. */
  yielded: bigint;
}

const EMPTY = Buffer.alloc(0);

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
  private readonly requestTimeoutMs: number;

  private readonly assigned = new Map<string, Cursor>();
  /** Partitions inside onRevoked: still committable. */
  private readonly revoking = new Map<string, Cursor>();
  /** Partitions this instance was assigned at least once (the `start` policy applies only the first time). */
  private readonly seen = new Set<string>();
  /** Start positions resolved from earliest/latest, reused while the group has no commit for the partition. */
  private readonly startPositions = new Map<string, bigint>();
  private endOffsets = new Map<string, bigint>();

  private queue: KafkaMessage[] = [];
  private head = 0;
  private fetched = 0;
  private generation = 0;
  private rebalancing = true;
  private fatal: PipelineError | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private started = false;
  private chain: Promise<void> = Promise.resolve();
  private rejoining = false;
  private inactiveSince: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private readonly fetchWake = new Notifier();
  private readonly dataWake = new Notifier();

  private constructor(consumer: Consumer, pool: ConnectionPool, options: KafkaConsumerOptions, timing: GroupTiming, requestTimeoutMs: number) {
    this.consumer = consumer;
    this.pool = pool;
    this.options = options;
    this.timing = timing;
    this.requestTimeoutMs = requestTimeoutMs;
    this.groupId = options.groupId;
    this.topics = [...options.topics];
    this.logger = options.logger ?? silentLogger;
    this.maxBuffered = options.maxBufferedMessages ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 300_000;
  }

  /** Validate options and build the client. Nothing touches the network before `start()`. */
  static async create(options: KafkaConsumerOptions): Promise<KafkaConsumer> {
    if (!options.groupId || !/^\S+$/.test(options.groupId)) throw configError('groupId must be a non-empty string without spaces', 'groupId');
    if (!Array.isArray(options.topics) || options.topics.length === 0) throw configError('at least one topic is required', 'topics');
    for (const [k, v] of [['maxBufferedMessages', options.maxBufferedMessages], ['fetchMaxBytes', options.fetchMaxBytes], ['fetchMaxWaitMs', options.fetchMaxWaitMs], ['retryMaxMs', options.retryMaxMs]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw configError(`${k} must be a positive integer`, k);
    }
    if (options.start !== undefined && !['committed', 'earliest', 'latest'].includes(options.start)) throw configError('start must be committed, earliest or latest', 'start');
    const timing = resolveGroupTiming(options);
    const base = await resolveBaseOptions(options);
    // JoinGroup legitimately blocks up to the rebalance timeout; a shorter request timeout would abort it.
    const requestTimeoutMs = Math.max(base.requestTimeout ?? 0, timing.rebalanceTimeoutMs + 5_000, (options.fetchMaxWaitMs ?? 500) + 10_000);
    const ref: { adapter?: KafkaConsumer } = {};
    const consumer = new Consumer({
      ...base,
      requestTimeout: requestTimeoutMs,
      groupId: options.groupId,
      autocommit: false,
      sessionTimeout: timing.sessionTimeoutMs,
      rebalanceTimeout: timing.rebalanceTimeoutMs,
      heartbeatInterval: timing.heartbeatIntervalMs,
      // Awaited by the library before every JoinGroup: our "before revocation" hook. Must never reject.
      protocolsMetadata: () => (ref.adapter ? ref.adapter.beforeJoin() : Promise.resolve(EMPTY)),
    });
    // Fetches get their own connections: a long-poll fetch must not delay heartbeats and commits queued on
    // the coordinator connection (a broker serves one request per connection at a time).
    const pool = new ConnectionPool(options.clientId, { ...base, requestTimeout: requestTimeoutMs });
    const adapter = new KafkaConsumer(consumer, pool, options, timing, requestTimeoutMs);
    ref.adapter = adapter;
    adapter.listen();
    return adapter;
  }

  /**
   * Check the topics exist, read end offsets (untilEnd), join the group and wait for the first assignment
   * to be processed (onAssigned done). Retries an unreachable broker with backoff for up to `retryMaxMs`.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    this.started = true;
    const onRetry = (info: { attempt: number; delayMs: number; error: PipelineError }): void =>
      this.logger.warn('kafka consumer start failed, retrying', { group: this.groupId, attempt: info.attempt, delayMs: info.delayMs, error: info.error.message });
    const anySignal = signal ? AbortSignal.any([signal, this.stopController.signal]) : this.stopController.signal;
    await retry(
      async () => {
        try {
          await this.consumer.metadata({ topics: [...this.topics], forceUpdate: true });
          if (this.options.untilEnd) this.endOffsets = await this.listOffsets(ListOffsetTimestamps.LATEST);
          this.consumer.topics.trackAll(...this.topics.filter((t) => !this.consumer.topics.has(t)));
          await this.consumer.joinGroup({});
        } catch (err) {
          throw classifyKafkaError(err, 'join', { group: this.groupId });
        }
      },
      { maxAttempts: Infinity, maxElapsedMs: this.retryMaxMs, baseDelayMs: 500, maxDelayMs: 10_000, signal: anySignal, onRetry },
    );
    await this.chain;
    this.loop = this.fetchLoop();
    this.watchdog = setInterval(() => this.checkMembership(), Math.max(5_000, this.timing.heartbeatIntervalMs));
    this.watchdog.unref();
  }

  /** The messages, in offset order per partition. One iteration at a time. Ends on `signal` or `close()`. */
  messages(signal?: AbortSignal): AsyncIterable<KafkaMessage> {
    return { [Symbol.asyncIterator]: () => this.iterate(signal) };
  }

  [Symbol.asyncIterator](): AsyncIterator<KafkaMessage> {
    return this.iterate(undefined);
  }

  /**
   * Commit offsets: each `offset` is the NEXT offset to read (last processed + 1). Resolves when stored.
   * Refuses (without asking the broker) partitions this member does not own any more and offsets beyond what
   * was yielded. Errors: `details.rebalance` = the group moved on, the records will be redelivered, do not
   * retry; retryable = coordinator temporarily unavailable.
   */
  async commit(offsets: readonly CommitOffset[], signal?: AbortSignal): Promise<void> {
    if (offsets.length === 0) return;
    const notOwned: string[] = [];
    for (const o of offsets) {
      if (typeof o.offset !== 'bigint' || o.offset < 0n || !Number.isInteger(o.partition) || o.partition < 0) {
        throw new PipelineError('INTERNAL', 'kafka commit: invalid offset', { details: { topic: o.topic, partition: o.partition, offset: String(o.offset) } });
      }
      const key = partitionKey(o.topic, o.partition);
      const cursor = this.assigned.get(key) ?? this.revoking.get(key);
      if (!cursor) {
        notOwned.push(key);
        continue;
      }
      if (o.offset > cursor.yielded) {
        throw new PipelineError('INTERNAL', 'kafka commit: offset beyond the last yielded message', {
          details: { topic: o.topic, partition: o.partition, offset: String(o.offset), yielded: String(cursor.yielded) },
        });
      }
    }
    if (notOwned.length > 0) {
      throw new PipelineError('UNAVAILABLE', 'kafka commit: partitions no longer assigned to this member; their records will be redelivered', {
        retryable: false,
        details: { op: 'commit', rebalance: true, partitions: notOwned },
      });
    }
    try {
      await abortable(
        this.consumer.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: -1 })) }),
        signal,
      );
    } catch (err) {
      const error = classifyKafkaError(err, 'commit', { group: this.groupId });
      if (isRebalanceError(error)) this.checkMembership();
      throw error;
    }
  }

  /** Partitions currently assigned (empty during a rebalance). */
  assignment(): TopicPartition[] {
    return [...this.assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Fetch/yield positions of the assigned partitions (lag, progress logs, tests). */
  positions(): PartitionPosition[] {
    return [...this.assigned.values()].map((c) => ({
      topic: c.topic,
      partition: c.partition,
      position: c.position,
      yielded: c.yielded,
      end: c.end,
      highWatermark: c.highWatermark,
    }));
  }

  /** Messages fetched and not yet pulled. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** Messages fetched since start (tests, stats). */
  get fetchedTotal(): number {
    return this.fetched;
  }

  /**
   * Stop fetching, revoke every partition (`onRevoked(..., {reason: 'close'})`, where the stage flushes and
   * commits), leave the group so the others take over at once, close connections. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  // ---- internals ------------------------------------------------------------------------------------

  private listen(): void {
    // Assignments arrive with the library's join event (first join and every rejoin).
    this.consumer.on('consumer:group:join', (payload) => {
      const assigned: TopicPartition[] = [];
      for (const a of payload.assignments ?? []) {
        if (!this.topics.includes(a.topic)) continue;
        for (const partition of a.partitions) assigned.push({ topic: a.topic, partition });
      }
      this.rejoining = false;
      void this.enqueue(() => this.assign(assigned));
    });
    // Emitted when a rejoin after a failed heartbeat failed: we are no member any more.
    this.consumer.on('error', (err: unknown) => {
      this.logger.warn('kafka consumer group error', { group: this.groupId, error: classifyKafkaError(err, 'group').message });
      this.checkMembership(true);
    });
    this.consumer.on('consumer:heartbeat:error', (payload) => {
      this.logger.debug('kafka heartbeat failed', { group: this.groupId, error: payload.error });
    });
  }

  /** Serialise rebalance work: a revoke and the following assignment never overlap. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task).catch((err: unknown) => this.fail(classifyKafkaError(err, 'rebalance')));
    this.chain = run;
    return run;
  }

  private beforeJoin(): Promise<Buffer> {
    return this.enqueue(() => this.revokeAll('rebalance')).then(() => EMPTY);
  }

  private async revokeAll(reason: RevokeReason): Promise<void> {
    this.rebalancing = true;
    this.generation += 1;
    this.clearQueue();
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
    if (this.assigned.size > 0) await this.revokeAll('rebalance');
    this.rebalancing = true;
    const generation = ++this.generation;
    const positions = await retry(
      async () => {
        try {
          return await this.resolvePositions(partitions);
        } catch (err) {
          throw classifyKafkaError(err, 'listOffsets', { group: this.groupId });
        }
      },
      {
        maxAttempts: Infinity,
        maxElapsedMs: this.retryMaxMs,
        baseDelayMs: 500,
        maxDelayMs: 10_000,
        signal: this.stopController.signal,
        onRetry: (info) => this.logger.warn('kafka offsets lookup failed, retrying', { group: this.groupId, attempt: info.attempt, delayMs: info.delayMs, error: info.error.message }),
      },
    );
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

  /** Start position of each partition: committed offset, or the `start` policy the first time. */
  private async resolvePositions(partitions: TopicPartition[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    if (partitions.length === 0) return out;
    const start = this.options.start ?? 'committed';
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const committed = await this.consumer.listCommittedOffsets({ topics: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })) });
    const needEarliest: TopicPartition[] = [];
    const needLatest: TopicPartition[] = [];
    for (const tp of partitions) {
      const key = partitionKey(tp.topic, tp.partition);
      const first = !this.seen.has(key);
      const c = committed.get(tp.topic)?.[tp.partition];
      if (first && start === 'earliest') needEarliest.push(tp);
      else if (first && start === 'latest') needLatest.push(tp);
      else if (c !== undefined && c >= 0n) out.set(key, c);
      else if (this.startPositions.has(key)) out.set(key, this.startPositions.get(key) as bigint);
      else (start === 'latest' ? needLatest : needEarliest).push(tp);
    }
    for (const [list, ts] of [[needEarliest, ListOffsetTimestamps.EARLIEST], [needLatest, ListOffsetTimestamps.LATEST]] as const) {
      if (list.length === 0) continue;
      const offsets = await this.listOffsets(ts, list);
      for (const tp of list) {
        const key = partitionKey(tp.topic, tp.partition);
        const o = offsets.get(key);
        if (o === undefined) throw new PipelineError('UNAVAILABLE', 'kafka listOffsets: partition missing from the answer', { details: { partition: key } });
        out.set(key, o);
        this.startPositions.set(key, o);
      }
    }
    for (const tp of partitions) this.seen.add(partitionKey(tp.topic, tp.partition));
    return out;
  }

  private async listOffsets(timestamp: bigint, only?: TopicPartition[]): Promise<Map<string, bigint>> {
    const partitions: Record<string, number[]> = {};
    for (const tp of only ?? []) (partitions[tp.topic] ??= []).push(tp.partition);
    const topics = only ? Object.keys(partitions) : [...this.topics];
    const res = await this.consumer.listOffsets({ topics, ...(only ? { partitions } : {}), timestamp });
    const out = new Map<string, bigint>();
    for (const [topic, offsets] of res) offsets.forEach((o, p) => out.set(partitionKey(topic, p), o));
    return out;
  }

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
      if (generation === this.generation) this.apply(round.batches);
      if (round.outOfRange.length > 0 && generation === this.generation) await this.resetOutOfRange(round.outOfRange, generation);
      if (round.error === undefined) {
        if (failingSince !== undefined) this.logger.info('kafka fetch recovered', { group: this.groupId, attempts: attempt });
        failingSince = undefined;
        attempt = 0;
        if (round.leaderless > 0) await sleep(200, this.stopController.signal).catch(() => {});
        continue;
      }
      const error = classifyKafkaError(round.error, 'fetch', { group: this.groupId });
      if (!error.retryable) {
        this.fail(error);
        break;
      }
      failingSince ??= Date.now();
      attempt += 1;
      if (Date.now() - failingSince > this.retryMaxMs) {
        this.fail(new PipelineError(error.code, `kafka fetch: giving up after ${attempt} attempts: ${error.message}`, { cause: error, retryable: true, details: error.details }));
        break;
      }
      const delayMs = backoffDelay(attempt, 200, 10_000, Math.random);
      if (attempt === 1 || attempt % 10 === 0) this.logger.warn('kafka fetch failed, retrying', { group: this.groupId, attempt, delayMs, error: error.message });
      await sleep(delayMs, this.stopController.signal).catch(() => {});
    }
  }

  private fetchable(): Cursor[] {
    const out: Cursor[] = [];
    for (const c of this.assigned.values()) if (c.end === undefined || c.position < c.end) out.push(c);
    return out;
  }

  private apply(batches: Awaited<ReturnType<typeof fetchRound>>['batches']): void {
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
    const policy = this.options.start === 'latest' ? ListOffsetTimestamps.LATEST : ListOffsetTimestamps.EARLIEST;
    try {
      const offsets = await this.listOffsets(policy, cursors);
      if (generation !== this.generation) return;
      for (const c of cursors) {
        const to = offsets.get(c.key);
        if (to === undefined || this.assigned.get(c.key) !== c) continue;
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
        this.queue[this.head] = undefined as unknown as KafkaMessage;
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

  private clearQueue(): void {
    this.queue = [];
    this.head = 0;
  }

  private fail(error: PipelineError): void {
    if (this.closing) return;
    this.fatal ??= error;
    this.logger.error('kafka consumer failed', { group: this.groupId, code: error.code, error: error.message });
    this.dataWake.notify();
    this.fetchWake.notify();
  }

  /**
   * Rejoin when the library gave up on the group (failed rejoin after a heartbeat or commit error): it then
   * sends no heartbeat and never recovers by itself. `now`: do not wait for the inactivity grace period.
   */
  private checkMembership(now = false): void {
    if (this.closing || !this.started || this.rejoining || this.fatal) return;
    if (this.consumer.isActive()) {
      this.inactiveSince = undefined;
      return;
    }
    // A normal rejoin is inactive too, for up to the rebalance timeout: give it that long.
    this.inactiveSince ??= Date.now();
    if (!now && Date.now() - this.inactiveSince < this.timing.rebalanceTimeoutMs + this.requestTimeoutMs) return;
    this.rejoining = true;
    this.inactiveSince = undefined;
    // Re-check inside the queue: the library may have rejoined (and we assigned) in the meantime.
    void this.enqueue(async () => {
      if (!this.consumer.isActive()) await this.revokeAll('lost');
    })
      .then(() =>
        retry(
          async () => {
            try {
              if (!this.consumer.isActive()) await this.consumer.joinGroup({});
            } catch (err) {
              throw classifyKafkaError(err, 'join', { group: this.groupId });
            }
          },
          { maxAttempts: Infinity, maxElapsedMs: this.retryMaxMs, baseDelayMs: 500, maxDelayMs: 10_000, signal: this.stopController.signal },
        ),
      )
      .catch((err: unknown) => this.fail(classifyKafkaError(err, 'join')))
      .finally(() => {
        this.rejoining = false;
      });
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.dataWake.notify();
    this.fetchWake.notify();
    // onRevoked may commit: do it while still a member, after any rebalance in progress.
    await withTimeout(this.enqueue(() => this.revokeAll('close')), this.timing.revokeTimeoutMs + 1_000).catch(() => {});
    this.stopController.abort();
    try {
      await withTimeout(this.consumer.close(true), this.requestTimeoutMs);
    } catch (err) {
      this.logger.warn('kafka consumer close failed', { group: this.groupId, error: classifyKafkaError(err, 'close').message });
    }
    await this.pool.close().catch(() => {});
    await withTimeout(this.loop ?? Promise.resolve(), 5_000).catch(() => {});
  }
}

function describe(partitions: TopicPartition[]): string {
  return partitions.map((p) => `${p.topic}:${p.partition}`).join(',');
}

function configError(message: string, field: string): ConfigError {
  return new ConfigError(`kafka: ${message}`, { field });
}
