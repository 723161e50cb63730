/**
 * The contract between `ingest` (which writes Kafka messages) and `archive`/`process` (which read them).
 *
 * Two message formats travel on the topic:
 * - `user` (default): one user per message, key `login.uuid`, value the user's compact JSON;
 * - `response`: one whole API response per message, as the original Flume agent sent it.
 * Headers carry where the data came from, so downstream stages derive deterministic, unique timestamps and
 * names that are identical on redelivery (at-least-once delivery makes redelivery normal).
 */

export const HEADER = {
  /** `user` or `response`. Absent on foreign messages: sniffed from the value instead. */
  format: 'userpipe-format',
  /** Fetch time of the response, epoch milliseconds as a decimal string. */
  fetchedAt: 'userpipe-fetched-at',
  /** Sequence of the response within its fetch millisecond (0..99), from the spool file name. */
  seq: 'userpipe-seq',
  /** Spool file the data came from (base name). */
  source: 'userpipe-source',
  /** 0-based position of the user in its response (per-user format only). */
  index: 'userpipe-index',
  /** Dead-letter reason, on DLQ messages only. */
  error: 'userpipe-error',
  /** Stage that dead-lettered the message, on DLQ messages only. */
  stage: 'userpipe-stage',
} as const;

export type MessageFormat = 'user' | 'response';

/** Where a user came from: enough to give it a unique, deterministic timestamp. */
export interface UserOrigin {
  fetchedAtMs: number;
  seq: number;
  index: number;
  source?: string;
}

/**
 * Nanosecond timestamp unique per user and identical on every redelivery:
 * fetch millisecond, then the response's sequence in that millisecond, then the user's position.
 * A response holds at most 5,000 users (< 10,000) and a millisecond at most 100 responses.
 */
export function userTimestampNs(origin: UserOrigin): bigint {
  const seq = BigInt(Math.max(0, Math.min(99, Math.trunc(origin.seq))));
  const index = BigInt(Math.max(0, Math.min(9_999, Math.trunc(origin.index))));
  return BigInt(Math.trunc(origin.fetchedAtMs)) * 1_000_000n + seq * 10_000n + index;
}
