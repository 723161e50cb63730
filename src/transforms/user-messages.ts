/**
 * Spool records -> Kafka messages, following the contract in `user-message.ts`. Pure: the file's origin
 * (fetch time, sequence, name) comes in as data, so the same file always maps to the same messages, byte for
 * byte, and a redelivered file gives downstream the same keys and timestamps.
 *
 * Positions (what `userTimestampNs` turns into a unique timestamp):
 * - a file holding one API response (what `fetch` writes): seq from the file, index = the user's position in
 *   `results`;
 * - an NDJSON file: users are numbered across the whole file (p = 0, 1, ...). Since a timestamp has room for
 *   10,000 users per sequence step, index = p mod 10,000 and seq = file seq + floor(p / 10,000): positions stay
 *   unique for up to 1,000,000 users per file (a 64 MiB file holds about 60,000).
 *
 * `response` format sends each response as one message (its own line when the file had it on one line, as the
 * Flume agent did); a bare user line is sent as a one-user response. Users inside are not checked here:
 * consumers of that format validate them, as they did with the original pipeline.
 */
import { HEADER, type MessageFormat } from './user-message.ts';
import { validateUser } from './user-schema.ts';
import type { SpoolLayout, SpoolRecord } from './spool-format.ts';

/** Where a spool file's data came from. */
export interface FileOrigin {
  /** Base name of the spool file. */
  source: string;
  /** From the name for files `fetch` wrote; the file's mtime for foreign files. */
  fetchedAtMs: number;
  /** From the name for files `fetch` wrote; 0 for foreign files. */
  seq: number;
}

export interface OutMessage {
  topic: string;
  key?: string;
  value: string;
  headers: Record<string, string>;
  /** Users this message carries: 1, or the size of a response's `results`. */
  users: number;
  /** Sent to the dead-letter topic (with the reason in `userpipe-error`). */
  dead: boolean;
}

export interface MessageOptions {
  format: MessageFormat;
  topic: string;
  dlqTopic: string;
}

/** Users per sequence step in `userTimestampNs` (index is 0..9,999). */
const INDEX_SPAN = 10_000;

export function buildMessages(layout: SpoolLayout, records: readonly SpoolRecord[], origin: FileOrigin, opts: MessageOptions): OutMessage[] {
  return opts.format === 'response' ? responseMessages(records, origin, opts) : userMessages(layout, records, origin, opts);
}

function userMessages(layout: SpoolLayout, records: readonly SpoolRecord[], origin: FileOrigin, opts: MessageOptions): OutMessage[] {
  const out: OutMessage[] = [];
  let p = 0;
  for (const record of records) {
    const users: readonly unknown[] = record.kind === 'response' ? record.response.results : [record.user];
    for (let i = 0; i < users.length; i++, p++) {
      const user = users[i];
      const [seq, index] = layout === 'response' ? [origin.seq, i] : [origin.seq + Math.floor(p / INDEX_SPAN), p % INDEX_SPAN];
      const headers: Record<string, string> = {
        [HEADER.format]: 'user',
        [HEADER.fetchedAt]: String(origin.fetchedAtMs),
        [HEADER.seq]: String(seq),
        [HEADER.source]: origin.source,
        [HEADER.index]: String(index),
      };
      const value = record.kind === 'user' ? record.raw : JSON.stringify(user);
      const problem = userProblem(user);
      const uuid = uuidOf(user);
      if (problem === undefined && uuid !== undefined) {
        out.push({ topic: opts.topic, key: uuid, value, headers, users: 1, dead: false });
      } else {
        headers[HEADER.error] = problem ?? 'no login.uuid: the message cannot be keyed';
        headers[HEADER.stage] = 'ingest';
        out.push({ topic: opts.dlqTopic, ...(uuid === undefined ? {} : { key: uuid }), value, headers, users: 1, dead: true });
      }
    }
  }
  return out;
}

function responseMessages(records: readonly SpoolRecord[], origin: FileOrigin, opts: MessageOptions): OutMessage[] {
  return records.map((record, r) => {
    const headers: Record<string, string> = {
      [HEADER.format]: 'response',
      [HEADER.fetchedAt]: String(origin.fetchedAtMs),
      [HEADER.seq]: String(origin.seq + r),
      [HEADER.source]: origin.source,
    };
    const value = record.kind === 'response' ? record.raw : `{"results":[${record.raw}]}`;
    const users = record.kind === 'response' ? record.response.results.length : 1;
    return { topic: opts.topic, value, headers, users, dead: false };
  });
}

function userProblem(user: unknown): string | undefined {
  const v = validateUser(user);
  return v.ok ? undefined : v.reason;
}

function uuidOf(user: unknown): string | undefined {
  const uuid = (user as { login?: { uuid?: unknown } } | null)?.login?.uuid;
  return typeof uuid === 'string' && uuid !== '' ? uuid : undefined;
}
