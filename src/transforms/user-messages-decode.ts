/**
 * Kafka message -> the users it carries, each with the origin that gives it a unique, deterministic timestamp
 * (`userTimestampNs`). Pure: the same record always decodes to the same users and origins, so a redelivered
 * message overwrites its own points instead of adding new ones. The other side of `user-messages.ts`.
 *
 * Format: the `userpipe-format` header (`user` or `response`); without it (messages from another producer,
 * e.g. the original Flume agent) the value is sniffed: an object whose `results` is an array is a response,
 * any other object is one user.
 *
 * Origin, in order of preference:
 * - from the headers `ingest` writes: `userpipe-fetched-at`, `userpipe-seq` (default 0) and, for the per-user
 *   format, `userpipe-index` (a response's users are numbered by their position in `results`);
 * - else from the log itself, which is just as stable on redelivery: the record's timestamp is the
 *   millisecond, and the sub-millisecond part is derived from the offset. Per-user messages use
 *   (offset mod 10,000) x 100 + (partition mod 100), unique unless one partition holds over 10,000 messages,
 *   or two partitions congruent mod 100 hold messages, with the same millisecond timestamp (and the same tag set). Responses
 *   use seq = offset mod 100 and index = position: unique unless 100 responses share a millisecond.
 * A response of more than 10,000 users carries positions p as index p mod 10,000 and seq + floor(p / 10,000),
 * as `ingest` does for large files.
 *
 * Users are NOT validated here (the stage validates each one and dead-letters the bad ones alone).
 */
import type { LogRecord } from '../clients/message-log.ts';
import { HEADER, type MessageFormat, type UserOrigin } from './user-message.ts';

export interface DecodedUser {
  /** As parsed; validate before use. */
  user: unknown;
  origin: UserOrigin;
}

export type DecodedMessage =
  | {
      ok: true;
      format: MessageFormat;
      /** Where the origins came from: the ingest headers, or the record's timestamp and offset. */
      originFrom: 'headers' | 'log';
      users: DecodedUser[];
    }
  /** The message as a whole is unusable (not UTF-8, not JSON, not an object): dead-letter it with `reason`. */
  | { ok: false; reason: string };

/** Users per sequence step of a timestamp (index is 0..9,999 in `userTimestampNs`). */
const INDEX_SPAN = 10_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A non-negative decimal integer header (at most 15 digits, so it is a safe integer). */
function headerInt(headers: Record<string, string>, name: string): number | undefined {
  const v = headers[name];
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of the value, or why it has none. */
export function recordText(record: LogRecord): { ok: true; text: string } | { ok: false; reason: string } {
  if (record.value === null || record.value.length === 0) return { ok: false, reason: 'empty message (null or zero-length value)' };
  try {
    return { ok: true, text: utf8.decode(record.value) };
  } catch {
    return { ok: false, reason: 'message value is not valid UTF-8' };
  }
}

export function decodeUserMessage(record: LogRecord): DecodedMessage {
  const declared = record.headers[HEADER.format];
  if (declared !== undefined && declared !== 'user' && declared !== 'response') {
    return { ok: false, reason: `unknown ${HEADER.format} header ${JSON.stringify(declared.slice(0, 40))} (expected user or response)` };
  }
  const text = recordText(record);
  if (!text.ok) return text;
  let value: unknown;
  try {
    value = JSON.parse(text.text);
  } catch (err) {
    return { ok: false, reason: `message value is not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(value)) {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    return { ok: false, reason: `message value is ${kind}, not a user or a response object` };
  }
  const format: MessageFormat = declared ?? (Array.isArray(value.results) ? 'response' : 'user');
  if (format === 'user') {
    const fromHeaders = headerOrigin(record, true);
    const origin = fromHeaders ?? logOrigin(record, undefined);
    return { ok: true, format, originFrom: fromHeaders ? 'headers' : 'log', users: [{ user: value, origin }] };
  }
  const results = value.results;
  if (!Array.isArray(results)) return { ok: false, reason: 'response message has no "results" array' };
  const base = headerOrigin(record, false);
  const users: DecodedUser[] = new Array<DecodedUser>(results.length);
  for (let p = 0; p < results.length; p++) {
    users[p] = { user: results[p] as unknown, origin: base ? atPosition(base, p) : logOrigin(record, p) };
  }
  return { ok: true, format, originFrom: base ? 'headers' : 'log', users };
}

/** The origin the ingest headers give; undefined when they are missing or malformed. */
function headerOrigin(record: LogRecord, needIndex: boolean): UserOrigin | undefined {
  const h = record.headers;
  const fetchedAtMs = headerInt(h, HEADER.fetchedAt);
  if (fetchedAtMs === undefined) return undefined;
  const index = headerInt(h, HEADER.index);
  // Without its index, per-user messages of one response would all share one timestamp.
  if (needIndex && index === undefined) return undefined;
  const origin: UserOrigin = { fetchedAtMs, seq: headerInt(h, HEADER.seq) ?? 0, index: index ?? 0 };
  const source = h[HEADER.source];
  if (source !== undefined && source !== '') origin.source = source;
  return origin;
}

/** The user at position `p` of a response whose origin is `base`. */
function atPosition(base: UserOrigin, p: number): UserOrigin {
  return { ...base, seq: base.seq + Math.floor(p / INDEX_SPAN), index: p % INDEX_SPAN };
}

/** Origin from the record's place in the log (position `p` in a response, undefined for a per-user message). */
function logOrigin(record: LogRecord, p: number | undefined): UserOrigin {
  const fetchedAtMs = Number.isFinite(record.timestampMs) && record.timestampMs > 0 ? Math.trunc(record.timestampMs) : 0;
  if (p === undefined) {
    const v = Number(record.offset % 10_000n) * 100 + (record.partition % 100);
    return { fetchedAtMs, seq: Math.floor(v / INDEX_SPAN), index: v % INDEX_SPAN };
  }
  return atPosition({ fetchedAtMs, seq: Number(record.offset % 100n), index: 0 }, p);
}
