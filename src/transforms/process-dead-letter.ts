/**
 * Dead-letter messages of the process stage (pure). What goes to `<topic>.dlq`:
 * - a message that is unusable as a whole (not UTF-8, not JSON, not an object): its value unchanged;
 * - a user that is invalid (API 1.4 schema, no `login.uuid`, a point that cannot be rendered): the user's JSON
 *   alone, in the per-user format, with the headers of its origin;
 * - a user whose line InfluxDB refused: the LINE (`userpipe-dlq-value: line-protocol`), keyed by its uuid,
 *   with the headers of its origin. Not the user's JSON: keeping every user's message until its batch is
 *   written would hold one fetch response per few hundred users in flight (memory); the original is still in
 *   the source topic at `userpipe-from-partition` / `-offset` (and `userpipe-index` within a response).
 *
 * Headers: the message's own headers, then `userpipe-error` (the reason: the schema's words or InfluxDB's
 * message) and `userpipe-stage: process`, plus where it was read (`userpipe-from-topic`, `-partition`,
 * `-offset`) so an operator can find the original. A user's DLQ message carries `userpipe-format: user` and
 * its origin (`userpipe-fetched-at`, `-seq`, `-index`): produced back to the topic after a fix, it gets the
 * same timestamp it would have had, so a replay never duplicates a point.
 */
import type { LogRecord } from '../clients/message-log.ts';
import { HEADER, type UserOrigin } from './user-message.ts';

export const DLQ_HEADER = {
  fromTopic: 'userpipe-from-topic',
  fromPartition: 'userpipe-from-partition',
  fromOffset: 'userpipe-from-offset',
  /** `line-protocol` when the value is the refused line rather than the user's JSON. */
  value: 'userpipe-dlq-value',
} as const;

/** Longest reason kept in the header (a Kafka header is not the place for a megabyte of InfluxDB text). */
export const MAX_REASON_CHARS = 2_000;

export interface DeadLetter {
  topic: string;
  key?: string | Buffer;
  value: string | Buffer;
  headers: Record<string, string>;
}

function clip(s: string): string {
  return s.length <= MAX_REASON_CHARS ? s : `${s.slice(0, MAX_REASON_CHARS)}...`;
}

/** Where a record was read: what a dead letter names so an operator can find the original. */
export type RecordCoordinates = Pick<LogRecord, 'topic' | 'partition' | 'offset' | 'headers'>;

function baseHeaders(record: RecordCoordinates, reason: string): Record<string, string> {
  return {
    ...record.headers,
    [HEADER.error]: clip(reason),
    [HEADER.stage]: 'process',
    [DLQ_HEADER.fromTopic]: record.topic,
    [DLQ_HEADER.fromPartition]: String(record.partition),
    [DLQ_HEADER.fromOffset]: record.offset.toString(),
  };
}

function originHeaders(headers: Record<string, string>, origin: UserOrigin): void {
  headers[HEADER.format] = 'user';
  headers[HEADER.fetchedAt] = String(origin.fetchedAtMs);
  headers[HEADER.seq] = String(origin.seq);
  headers[HEADER.index] = String(origin.index);
  if (origin.source !== undefined) headers[HEADER.source] = origin.source;
}

/** What a user in flight keeps to be dead-lettered if InfluxDB refuses its line (small: no message bytes). */
export interface RefusalSource {
  record: RecordCoordinates;
  origin: UserOrigin;
  uuid: string;
}

/** A line InfluxDB refused: the line itself, keyed by the user's uuid, with its origin and the reason. */
export function deadLetterRefused(source: RefusalSource, line: string, reason: string, dlqTopic: string): DeadLetter {
  const headers = baseHeaders(source.record, reason);
  originHeaders(headers, source.origin);
  headers[DLQ_HEADER.value] = 'line-protocol';
  return { topic: dlqTopic, key: source.uuid, value: line, headers };
}

/** The whole message, unchanged, with the reason. */
export function deadLetterMessage(record: LogRecord, reason: string, dlqTopic: string): DeadLetter {
  const out: DeadLetter = { topic: dlqTopic, value: record.value ?? Buffer.alloc(0), headers: baseHeaders(record, reason) };
  if (record.key !== null) out.key = record.key;
  return out;
}

/**
 * One user of a message, as a per-user message at its origin, with the reason. `alone`: the message carried
 * only this user (per-user format), so its value is kept byte for byte instead of re-serialized.
 */
export function deadLetterUser(
  record: LogRecord,
  user: unknown,
  origin: UserOrigin,
  reason: string,
  dlqTopic: string,
  alone: boolean,
): DeadLetter {
  const headers = baseHeaders(record, reason);
  originHeaders(headers, origin);
  let value: string | Buffer;
  if (alone && record.value !== null) value = record.value;
  else {
    try {
      value = JSON.stringify(user) ?? 'null';
    } catch {
      value = 'null'; // JSON.parse output always serializes; this is for callers passing something else
    }
  }
  const out: DeadLetter = { topic: dlqTopic, value, headers };
  const uuid = (user as { login?: { uuid?: unknown } } | null)?.login?.uuid;
  if (typeof uuid === 'string' && uuid !== '') out.key = uuid;
  else if (record.key !== null) out.key = record.key;
  return out;
}
