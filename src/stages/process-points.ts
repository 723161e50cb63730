/**
 * The transform half of the process stage: envelopes of Kafka messages -> one PointItem per user to write.
 * Lockstep (an async generator): nothing is read while the batcher downstream does not ask for more.
 *
 * Per message: decode (both formats), split its ack over its users; per user:
 * - invalid (API 1.4 schema), no `login.uuid`, or a point that cannot be rendered: dead-lettered with the
 *   reason, its ack settled by the DLQ;
 * - its `login.uuid` is in the dedupe window: skipped, and its ack is settled when the FIRST occurrence's
 *   is (at once if that one is already written). Settling it earlier could commit this offset while the
 *   original, in another partition or redelivered after a rebalance, is still unwritten;
 * - otherwise: rendered to one line of line protocol and yielded.
 * A message unusable as a whole (not UTF-8, not JSON, not an object) is dead-lettered unchanged.
 */
import type { LogRecord } from '../clients/message-log.ts';
import { splitAck, type Ack, type Envelope } from '../core/envelope.ts';
import { errorMessage } from '../core/errors.ts';
import type { StageCounters } from '../core/stats.ts';
import { DedupeWindow } from '../transforms/dedupe-window.ts';
import { renderPoint } from '../transforms/line-protocol.ts';
import { deadLetterMessage, deadLetterUser } from '../transforms/process-dead-letter.ts';
import type { RandomUser } from '../transforms/randomuser-types.ts';
import { decodeUserMessage } from '../transforms/user-messages-decode.ts';
import type { UserOrigin } from '../transforms/user-message.ts';
import { userToPoint } from '../transforms/user-point.ts';
import { validateUser } from '../transforms/user-schema.ts';
import type { DeadLetterFn, PointItem } from './process-writes.ts';

export interface PointCounts {
  /** Users taken in (a message unusable as a whole counts as one). */
  users: number;
  /** Users (or whole messages) sent to the DLQ before writing: invalid, unrenderable, undecodable. */
  invalid: number;
  /** Users skipped by the dedupe window. */
  duplicates: number;
}

export interface PointItemsOptions {
  measurement: string;
  dlqTopic: string;
  dedupeWindow: number;
  counters: StageCounters;
  counts: PointCounts;
  deadLetter: DeadLetterFn;
}

/**
 * The settling of the first occurrence of a uuid, which its duplicates follow. Only success is passed on: if
 * the original fails, the stage is failing, and the duplicates stay unsettled (not committed). Once written,
 * the window keeps the shared WRITTEN instead (no object per remembered uuid).
 */
class FirstOccurrence {
  private followers: Ack[] | undefined;

  /** Wrap the original's ack so that its settling releases the followers (and marks it written). */
  wrap(ack: Ack, written: () => void): Ack {
    return async (error) => {
      await ack(error);
      const followers = this.followers;
      this.followers = undefined;
      if (error) return;
      written();
      if (followers) for (const f of followers) await f();
    };
  }

  async follow(ack: Ack): Promise<void> {
    (this.followers ??= []).push(ack);
  }
}

const WRITTEN = 'written';
type Remembered = FirstOccurrence | typeof WRITTEN;

/**
 * V8 keeps a string built by `+=` (as renderPoint builds a line) as a rope of its ~60 pieces, about 3 KB per
 * line, until something reads it; converting it to a number flattens it in place to about 0.6 KB. Lines are
 * held until written, 15,000 of them through an outage with the defaults: this is 35 MB. (The number itself
 * is NaN and unused; the `| 0` form is what the `flatstr` package uses.)
 */
export function flatten(s: string): string {
  // eslint-disable-next-line @typescript-eslint/no-unused-expressions -- the conversion is the point
  (s as unknown as number) | 0;
  return s;
}

function uuidOf(user: unknown): string | undefined {
  const uuid = (user as { login?: { uuid?: unknown } } | null)?.login?.uuid;
  return typeof uuid === 'string' && uuid !== '' ? uuid : undefined;
}

export async function* toPointItems(input: AsyncIterable<Envelope<LogRecord>>, o: PointItemsOptions): AsyncGenerator<PointItem> {
  const window = new DedupeWindow<Remembered>(o.dedupeWindow);
  const pointOptions = { measurement: o.measurement };
  // No closure is made in this loop: one would keep the loop's scope, with the record and its whole fetch
  // response, alive for as long as the user is in flight (acks live that long).
  for await (const env of input) {
    const record = env.payload;
    const decoded = decodeUserMessage(record);
    if (!decoded.ok) {
      o.counters.in += 1;
      o.counts.users += 1;
      o.counts.invalid += 1;
      await o.deadLetter(deadLetterMessage(record, decoded.reason, o.dlqTopic), env.ack);
      continue;
    }
    const alone = decoded.format === 'user';
    if (decoded.users.length === 0) {
      await env.ack(); // a response without users: nothing to write
      continue;
    }
    const acks = splitAck(env.ack, decoded.users.length);
    // Coordinates and headers only, shared by the message's users: never the record (see above).
    const coordinates = { topic: record.topic, partition: record.partition, offset: record.offset, headers: record.headers };
    for (let position = 0; position < decoded.users.length; position++) {
      const { user, origin } = decoded.users[position] as (typeof decoded.users)[number];
      let ack = acks[position] as Ack;
      o.counters.in += 1;
      o.counts.users += 1;
      const valid = validateUser(user);
      const uuid = valid.ok ? uuidOf(user) : undefined;
      if (uuid === undefined) {
        const reason = valid.ok ? 'invalid user: no login.uuid' : `invalid user: ${valid.reason}`;
        await rejectUser(o, record, user, origin, alone, reason, ack);
        continue;
      }
      if (window.capacity > 0) {
        const first = new FirstOccurrence();
        const original = window.check(uuid, first);
        if (original !== undefined) {
          o.counts.duplicates += 1;
          if (original === WRITTEN) await ack();
          else await original.follow(ack);
          continue;
        }
        ack = first.wrap(ack, markWritten(window, uuid));
      }
      let line: string;
      try {
        line = flatten(renderPoint(userToPoint(user as RandomUser, origin, pointOptions)));
      } catch (err) {
        await rejectUser(o, record, user, origin, alone, `cannot make a point: ${errorMessage(err)}`, ack);
        continue;
      }
      yield { line, ack, source: { record: coordinates, origin, uuid } };
    }
  }
}

/** Dead-letter an invalid user with the reason; the DLQ settles `ack`. A function, not a closure (see above). */
async function rejectUser(o: PointItemsOptions, record: LogRecord, user: unknown, origin: UserOrigin, alone: boolean, reason: string, ack: Ack): Promise<void> {
  o.counts.invalid += 1;
  await o.deadLetter(deadLetterUser(record, user, origin, reason, o.dlqTopic, alone), ack);
}

/** Outside toPointItems on purpose: a closure made there would keep the record alive (see there). */
function markWritten(window: DedupeWindow<Remembered>, uuid: string): () => void {
  return () => {
    window.update(uuid, WRITTEN);
  };
}
