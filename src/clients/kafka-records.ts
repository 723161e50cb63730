import { IS_CONTROL, type RecordsBatch } from '@platformatic/kafka';

/**
 * Record decoding for the consumer: pure functions from the library's decoded record batches to the
 * messages userpipe stages see, with the offset bookkeeping that makes redelivery and `--once` exact.
 */

/** One Kafka record as the stages see it. Buffers may share memory with the fetch response: copy to keep. */
export interface KafkaMessage {
  topic: string;
  partition: number;
  /** Offset of this record. After processing it, commit `offset + 1n` (the next offset to read). */
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values decoded as UTF-8; a null value becomes ''. With a repeated key, the last one wins. */
  headers: ReadonlyMap<string, string>;
  /** Epoch milliseconds: the producer's CreateTime, or the broker's time on LogAppendTime topics. */
  timestamp: bigint;
}

/** Bit 3 of the batch attributes: the topic stamps records with the broker's append time. */
const LOG_APPEND_TIME = 1 << 3;

export interface DecodedPartition {
  messages: KafkaMessage[];
  /** Next offset to fetch after these batches (past control records and compacted gaps). */
  position: bigint;
  /** True when `end` was reached: nothing at or after it was returned. */
  reachedEnd: boolean;
}

/**
 * Decode the batches of one partition starting at `position`:
 * - batches and records before `position` are skipped (a compressed batch is returned whole even when the
 *   fetch offset points into its middle, and a retried fetch may return what we already have);
 * - control batches (transaction markers) yield nothing but advance the position;
 * - with `end` (the `--once` bound), records at or after it are not returned and the position stops at `end`.
 */
export function decodePartition(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[] | null | undefined,
  position: bigint,
  end?: bigint,
): DecodedPartition {
  const messages: KafkaMessage[] = [];
  let next = position;
  if (end !== undefined && next >= end) return { messages, position: next, reachedEnd: true };
  for (const batch of batches ?? []) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset < next) continue;
    if ((batch.attributes & IS_CONTROL) !== 0) {
      next = end !== undefined && lastOffset + 1n > end ? end : lastOffset + 1n;
      if (end !== undefined && next >= end) return { messages, position: next, reachedEnd: true };
      continue;
    }
    const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < next) continue;
      if (end !== undefined && offset >= end) return { messages, position: end, reachedEnd: true };
      const headers = new Map<string, string>();
      for (const [k, v] of record.headers) headers.set(k ? k.toString('utf8') : '', v ? v.toString('utf8') : '');
      messages.push({
        topic,
        partition,
        offset,
        key: record.key ?? null,
        value: record.value ?? null,
        headers,
        timestamp: logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
      });
    }
    // Past the whole batch, including offsets removed by compaction.
    next = lastOffset + 1n;
    if (end !== undefined && next >= end) return { messages, position: end, reachedEnd: true };
  }
  return { messages, position: next, reachedEnd: end !== undefined && next >= end };
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
