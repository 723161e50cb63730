import type { Consumer } from '@platformatic/kafka';
import type { PipelineError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import type { GroupTiming } from './kafka-options.ts';
import { retryKafka, withTimeout } from './kafka-util.ts';

/**
 * Consumer-group membership on top of @platformatic/kafka's classic-protocol `Consumer` (eager round-robin
 * assignment): join, rebalance callbacks in a strict order, recovery when the library gives up, leave.
 *
 * What the library offers and what we build on (checked in its 2.12 source):
 * - it heartbeats and rejoins by itself when the coordinator answers REBALANCE_IN_PROGRESS, and emits
 *   `consumer:group:join` with the new assignment after every successful join;
 * - it has no "partitions revoked" callback. But it awaits the `protocolsMetadata` option before every
 *   JoinGroup request, and with the eager protocol every owned partition is given up at JoinGroup. So that
 *   callback is our pre-revocation hook: the group is waiting for this member, the generation is still
 *   valid, and commits made there succeed (the coordinator accepts commits while preparing a rebalance);
 * - while the hook runs the library sends no heartbeat, so the hook is bounded well below the session
 *   timeout (`revokeTimeoutMs`);
 * - when a rejoin fails (broker down past its retries) the library emits `error` and stops heartbeating for
 *   good; a failed rejoin inside `commit` does not even emit. We rejoin ourselves in both cases.
 *
 * All rebalance work (revoke, assign) runs through one queue so it never overlaps.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** rebalance: the group is rebalancing; lost: membership lost (commits will fail); close: we are leaving. */
export type RevokeReason = 'rebalance' | 'lost' | 'close';

export interface GroupHooks {
  /** Give up every owned partition (awaited before the library rejoins). Must not throw. */
  revoke(reason: RevokeReason): Promise<void>;
  /** The group assigned these partitions (possibly none) to this member. */
  assign(partitions: TopicPartition[]): Promise<void>;
  /** Consuming cannot go on. */
  fail(error: PipelineError): void;
  /** A commit is waiting on the library (which may rejoin from inside it). */
  commitInFlight(): boolean;
}

export interface GroupSettings {
  groupId: string;
  topics: readonly string[];
  timing: GroupTiming;
  requestTimeoutMs: number;
  retryMaxMs: number;
  logger: Logger;
}

const EMPTY = Buffer.alloc(0);

export class GroupMembership {
  private readonly consumer: Consumer;
  private readonly settings: GroupSettings;
  private readonly hooks: GroupHooks;
  private readonly stopController = new AbortController();
  private chain: Promise<void> = Promise.resolve();
  private joined = false;
  /** A rebalance task is executing (not merely queued). */
  private running = false;
  private leaving = false;
  private rejoining = false;
  private inactiveSince: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(consumer: Consumer, settings: GroupSettings, hooks: GroupHooks) {
    this.consumer = consumer;
    this.settings = settings;
    this.hooks = hooks;
    const { groupId, logger } = settings;
    consumer.on('consumer:group:join', (payload) => {
      const partitions: TopicPartition[] = [];
      for (const a of payload.assignments ?? []) {
        if (settings.topics.includes(a.topic)) for (const partition of a.partitions) partitions.push({ topic: a.topic, partition });
      }
      this.rejoining = false;
      void this.enqueue(() => this.hooks.assign(partitions));
    });
    // Without a listener an 'error' event would crash the process.
    consumer.on('error', (err: unknown) => {
      logger.warn('kafka consumer group error', { group: groupId, error: classifyKafkaError(err, 'group').message });
      this.checkMembership(true);
    });
    consumer.on('consumer:heartbeat:error', (p) => logger.debug('kafka heartbeat failed', { group: groupId, error: p.error }));
    consumer.on('consumer:heartbeat:stalled', (p) => logger.warn('kafka heartbeats stalled', { group: groupId, stalledMs: p.stalledFor }));
  }

  /** The library's `protocolsMetadata` option: awaited before every JoinGroup. Never rejects. */
  beforeJoin(): Promise<Buffer> {
    // The library clears its member id when the coordinator no longer knows this member (session expired,
    // removed by an admin): the partitions are already someone else's, commits will fail.
    const reason: RevokeReason = this.joined && this.consumer.memberId === null ? 'lost' : 'rebalance';
    const revoked = this.enqueue(() => this.hooks.revoke(reason));
    // The library also rejoins from inside a failed commit. If that commit is awaited by the task running now
    // (onRevoked committing, say), waiting here would deadlock until the revoke timeout. The membership is
    // already invalid in that case, so there is nothing left to do before joining: let the join go on.
    if (this.running && this.hooks.commitInFlight()) return Promise.resolve(EMPTY);
    return revoked.then(() => EMPTY);
  }

  /**
   * Check the topics exist (an unknown topic fails at once, NOT_FOUND), subscribe and join; resolves once the
   * first assignment was handled. An unreachable broker is retried for up to `retryMaxMs`.
   */
  async join(signal?: AbortSignal): Promise<void> {
    const { groupId, topics, retryMaxMs, logger } = this.settings;
    await retryKafka(
      'join',
      async () => {
        await this.consumer.metadata({ topics: [...topics], forceUpdate: true });
        this.consumer.topics.trackAll(...topics.filter((t) => !this.consumer.topics.has(t)));
        await this.consumer.joinGroup({});
      },
      { maxElapsedMs: retryMaxMs, signal: anySignal(signal, this.stopController.signal), logger, what: 'kafka join', fields: { group: groupId } },
    );
    await this.chain;
    this.joined = true;
    this.watchdog = setInterval(() => this.checkMembership(), Math.max(5_000, this.settings.timing.heartbeatIntervalMs));
    this.watchdog.unref();
  }

  /** Serialise rebalance work; a failing task stops consuming (hooks.fail) instead of rejecting. */
  enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain
      .then(async () => {
        this.running = true;
        try {
          await task();
        } finally {
          this.running = false;
        }
      })
      .catch((err: unknown) => this.hooks.fail(classifyKafkaError(err, 'rebalance')));
    this.chain = run;
    return run;
  }

  /**
   * Rejoin when the library gave up on the group: it then sends no heartbeat and never recovers by itself.
   * A normal rejoin also looks inactive for up to the rebalance timeout, hence the grace period unless `now`.
   */
  checkMembership(now = false): void {
    if (this.leaving || !this.joined || this.rejoining) return;
    if (this.consumer.isActive()) {
      this.inactiveSince = undefined;
      return;
    }
    this.inactiveSince ??= Date.now();
    const grace = this.settings.timing.rebalanceTimeoutMs + this.settings.requestTimeoutMs;
    if (!now && Date.now() - this.inactiveSince < grace) return;
    this.rejoining = true;
    this.inactiveSince = undefined;
    const { groupId, retryMaxMs, logger } = this.settings;
    logger.warn('kafka group membership lost, rejoining', { group: groupId });
    // Re-check inside the queue: the library may have rejoined (and we were assigned) in the meantime.
    void this.enqueue(async () => {
      if (!this.consumer.isActive()) await this.hooks.revoke('lost');
    })
      .then(() =>
        retryKafka(
          'join',
          async () => {
            if (!this.consumer.isActive()) await this.consumer.joinGroup({});
          },
          { maxElapsedMs: retryMaxMs, signal: this.stopController.signal, logger, what: 'kafka rejoin', fields: { group: groupId } },
        ),
      )
      .catch((err: unknown) => this.hooks.fail(classifyKafkaError(err, 'join', { group: groupId })))
      .finally(() => {
        this.rejoining = false;
      });
  }

  /**
   * Revoke with reason 'close' (after any rebalance in progress, while still a member, so the stage's commits
   * land), then leave the group so the others take over at once, and close the client. Bounded.
   */
  async leave(): Promise<void> {
    this.leaving = true;
    if (this.watchdog) clearInterval(this.watchdog);
    const { timing, requestTimeoutMs, groupId, logger } = this.settings;
    await withTimeout(this.enqueue(() => this.hooks.revoke('close')), timing.revokeTimeoutMs + 1_000).catch(() => {
      logger.warn('kafka revoke on close timed out', { group: groupId });
    });
    this.stopController.abort();
    try {
      await withTimeout(this.consumer.close(true), requestTimeoutMs);
    } catch (err) {
      logger.warn('kafka consumer close failed', { group: groupId, error: classifyKafkaError(err, 'close').message });
    }
  }
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}
