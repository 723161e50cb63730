import type { ClusterMetadata, Consumer, ConnectionPool, FetchOptions } from '@platformatic/kafka';
import { errorTree, kafkaErrorNames } from './kafka-errors.ts';
import { decodePartition, partitionKey, type KafkaMessage } from './kafka-records.ts';

/**
 * One fetch round for the consumer adapter: ask each partition leader for the assigned partitions from our
 * own positions, decode, and report. The consumer owns the positions; this module never keeps state.
 *
 * Why not the library's `MessagesStream`: it keeps its own fetch positions, pushes a whole fetch response
 * past its highWaterMark, resets positions to the committed offsets only for partitions that have one
 * (so dropping buffered records of a revoked partition could skip them), and has no hook before a
 * partition is revoked. Driving `Consumer.fetch` ourselves keeps positions, buffering and revocation exact.
 */

type FetchRequestTopic = FetchOptions<Buffer, Buffer, Buffer, Buffer>['topics'][number];
type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

/** The fetch state of one assigned partition. Owned by the consumer; `position` is updated from rounds. */
export interface PartitionCursor {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /** Next offset to fetch. */
  position: bigint;
  /** `--once`: stop before this offset (the end offset seen at start). */
  readonly end: bigint | undefined;
  /** Last high watermark reported by the leader (lag = highWatermark - committed). */
  highWatermark: bigint | undefined;
}

export interface FetchSettings {
  maxWaitMs: number;
  maxBytes: number;
  /** Lower bound of the per-partition share of maxBytes. */
  minPartitionBytes: number;
}

export interface RoundResult {
  /** Decoded messages per cursor, in partition order; apply only if the cursor is still current. */
  batches: Array<{ cursor: PartitionCursor; messages: KafkaMessage[]; position: bigint; highWatermark: bigint | undefined }>;
  /** Cursors whose position is outside the log (retention deleted it, or the topic was recreated). */
  outOfRange: PartitionCursor[];
  /** The first failure that was not handled here (to back off on), if any. */
  error: unknown;
  /** Partitions whose leader is unknown right now (election in progress). */
  leaderless: number;
}

const OFFSET_OUT_OF_RANGE = 1;

/** Run one round over `cursors`. Never throws for broker-side failures: they come back in `error`. */
export async function fetchRound(
  consumer: Consumer,
  pool: ConnectionPool,
  topics: string[],
  cursors: readonly PartitionCursor[],
  settings: FetchSettings,
): Promise<RoundResult> {
  const result: RoundResult = { batches: [], outOfRange: [], error: undefined, leaderless: 0 };
  let metadata: ClusterMetadata;
  try {
    metadata = await consumer.metadata({ topics });
  } catch (err) {
    result.error = err;
    return result;
  }
  const byNode = groupByLeader(metadata, cursors);
  result.leaderless = byNode.leaderless;
  const topicNames = new Map<string, string>();
  for (const [name, t] of metadata.topics) if (t) topicNames.set(t.id, name);

  const nodes = [...byNode.requests.entries()];
  const settled = await Promise.allSettled(
    nodes.map(([node, list]) =>
      consumer.fetch({
        node,
        topics: toRequestTopics(metadata, list, settings),
        maxWaitTime: settings.maxWaitMs,
        minBytes: 1,
        maxBytes: settings.maxBytes,
        connectionPool: pool,
      }),
    ),
  );
  settled.forEach((outcome, i) => {
    const requested = new Map<string, PartitionCursor>();
    for (const c of (nodes[i] as [number, PartitionCursor[]])[1]) requested.set(c.key, c);
    const response = outcome.status === 'fulfilled' ? outcome.value : lastResponse(outcome.reason);
    let outOfRangeOnly = false;
    if (response) outOfRangeOnly = collect(response, requested, topicNames, result);
    if (outcome.status === 'rejected') {
      const names = kafkaErrorNames(outcome.reason);
      const handled = outOfRangeOnly && names.length > 0 && names.every((n) => n === 'OFFSET_OUT_OF_RANGE');
      if (!handled) result.error ??= outcome.reason;
    }
  });
  if (result.leaderless > 0) consumer.clearMetadata();
  return result;
}

function groupByLeader(
  metadata: ClusterMetadata,
  cursors: readonly PartitionCursor[],
): { requests: Map<number, PartitionCursor[]>; leaderless: number } {
  const requests = new Map<number, PartitionCursor[]>();
  let leaderless = 0;
  for (const c of cursors) {
    const leader = metadata.topics.get(c.topic)?.partitions[c.partition]?.leader;
    if (leader === undefined || leader < 0 || !metadata.brokers.has(leader)) {
      leaderless += 1;
      continue;
    }
    let list = requests.get(leader);
    if (!list) requests.set(leader, (list = []));
    list.push(c);
  }
  return { requests, leaderless };
}

function toRequestTopics(metadata: ClusterMetadata, list: PartitionCursor[], s: FetchSettings): FetchRequestTopic[] {
  // Share maxBytes between partitions so one busy partition cannot starve the others of a round.
  const partitionMaxBytes = Math.max(s.minPartitionBytes, Math.floor(s.maxBytes / list.length));
  const byTopic = new Map<string, FetchRequestTopic>();
  for (const c of list) {
    const topicId = metadata.topics.get(c.topic)?.id as string;
    let t = byTopic.get(topicId);
    if (!t) byTopic.set(topicId, (t = { topicId, partitions: [] }));
    // Epoch -1: we do not track leader epochs (no KIP-320 truncation detection); the broker then skips the check.
    t.partitions.push({ partition: c.partition, fetchOffset: c.position, partitionMaxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1 });
  }
  return [...byTopic.values()];
}

/** Decode a (possibly partially failed) response. Returns true when every failed partition was out of range. */
function collect(
  response: FetchResponse,
  requested: Map<string, PartitionCursor>,
  topicNames: Map<string, string>,
  result: RoundResult,
): boolean {
  let onlyOutOfRange = true;
  for (const t of response.responses ?? []) {
    const topic = topicNames.get(t.topicId) ?? t.topicId;
    for (const p of t.partitions) {
      // A fetch session may answer for partitions this request did not carry: ignore them.
      const cursor = requested.get(partitionKey(topic, p.partitionIndex));
      if (!cursor) continue;
      if (p.errorCode === OFFSET_OUT_OF_RANGE) {
        result.outOfRange.push(cursor);
        continue;
      }
      if (p.errorCode !== 0) {
        onlyOutOfRange = false;
        continue;
      }
      const decoded = decodePartition(topic, p.partitionIndex, p.records, cursor.position, cursor.end);
      const highWatermark = p.highWatermark >= 0n ? p.highWatermark : undefined;
      result.batches.push({ cursor, messages: decoded.messages, position: decoded.position, highWatermark });
    }
  }
  return onlyOutOfRange;
}

/** The response attached to the last failed attempt (the library puts it on its ResponseError). */
function lastResponse(err: unknown): FetchResponse | undefined {
  let found: FetchResponse | undefined;
  for (const node of errorTree(err)) {
    const r = (node as { response?: unknown }).response as FetchResponse | undefined;
    if (r && Array.isArray(r.responses)) found = r;
  }
  return found;
}
