import { ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import { PipelineError } from '../core/errors.ts';
import type { TopicPartition } from './kafka-group.ts';
import { partitionKey } from './kafka-records.ts';

/**
 * Where an assigned partition starts. 'committed' (default): the group's committed offset, else the earliest
 * offset; 'earliest' / 'latest': applied the first time this instance gets the partition, ignoring commits
 * (replay / only new records); afterwards the committed offset wins, and without one the position resolved
 * the first time is reused (so a 'latest' consumer reassigned before committing does not jump ahead).
 */

export type StartFrom = 'committed' | 'earliest' | 'latest';

/** Offsets at a timestamp (EARLIEST -2n, LATEST -1n = end, read_committed), keyed `topic:partition`. */
export async function listOffsetMap(
  consumer: Consumer,
  topics: readonly string[],
  timestamp: bigint,
  only?: readonly TopicPartition[],
): Promise<Map<string, bigint>> {
  const partitions: Record<string, number[]> = {};
  for (const tp of only ?? []) (partitions[tp.topic] ??= []).push(tp.partition);
  const res = await consumer.listOffsets({
    topics: only ? Object.keys(partitions) : [...topics],
    ...(only ? { partitions } : {}),
    timestamp,
  });
  const out = new Map<string, bigint>();
  for (const [topic, offsets] of res) offsets.forEach((o, p) => out.set(partitionKey(topic, p), o));
  return out;
}

export class StartPositions {
  private readonly consumer: Consumer;
  private readonly start: StartFrom;
  private readonly seen = new Set<string>();
  private readonly resolved = new Map<string, bigint>();

  constructor(consumer: Consumer, start: StartFrom) {
    this.consumer = consumer;
    this.start = start;
  }

  /** Start position of each partition, keyed `topic:partition`. */
  async resolve(partitions: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    if (partitions.length === 0) return out;
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const committed = await this.consumer.listCommittedOffsets({ topics: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })) });
    const earliest: TopicPartition[] = [];
    const latest: TopicPartition[] = [];
    for (const tp of partitions) {
      const key = partitionKey(tp.topic, tp.partition);
      const first = !this.seen.has(key);
      const c = committed.get(tp.topic)?.[tp.partition];
      if (first && this.start === 'earliest') earliest.push(tp);
      else if (first && this.start === 'latest') latest.push(tp);
      else if (c !== undefined && c >= 0n) out.set(key, c);
      else if (this.resolved.has(key)) out.set(key, this.resolved.get(key) as bigint);
      else (this.start === 'latest' ? latest : earliest).push(tp);
    }
    for (const [list, timestamp] of [[earliest, ListOffsetTimestamps.EARLIEST], [latest, ListOffsetTimestamps.LATEST]] as const) {
      if (list.length === 0) continue;
      const offsets = await listOffsetMap(this.consumer, [], timestamp, list);
      for (const tp of list) {
        const key = partitionKey(tp.topic, tp.partition);
        const o = offsets.get(key);
        if (o === undefined) throw new PipelineError('UNAVAILABLE', 'kafka listOffsets: partition missing from the answer', { details: { partition: key } });
        out.set(key, o);
        this.resolved.set(key, o);
      }
    }
    for (const tp of partitions) this.seen.add(partitionKey(tp.topic, tp.partition));
    return out;
  }

  /** Where to go when the position fell out of the log (retention, recreated topic). */
  get outOfRangePolicy(): bigint {
    return this.start === 'latest' ? ListOffsetTimestamps.LATEST : ListOffsetTimestamps.EARLIEST;
  }
}
