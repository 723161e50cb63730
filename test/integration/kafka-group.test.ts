import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '@platformatic/kafka';
import { PipelineError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/core/log.ts';
import { isRebalanceError, KafkaAdmin, KafkaConsumer, KafkaProducer, type RevokeReason, type TopicPartition } from '../../src/clients/kafka.ts';
import { BROKERS, conn, FAST_GROUP, SKIP, unique, waitFor } from './kafka-helpers.ts';

/**
 * Two members of one group on a 4-partition topic: they split the partitions; revocation runs before the
 * partitions move, so commits made in onRevoked land and the next owner starts exactly there; when one
 * member closes the other takes everything; no record is lost.
 */

const PARTITIONS = 4;
/** Simulated flush time inside onRevoked (well under FAST_GROUP.revokeTimeoutMs). */
const FLUSH_MS = 500;

interface Member {
  name: string;
  consumer: KafkaConsumer;
  /** Offsets seen, per partition. */
  seen: Map<number, bigint[]>;
  /** Next offset to commit per partition: last processed + 1. */
  processed: Map<number, bigint>;
  revocations: Array<{ reason: RevokeReason; partitions: number[]; commitError?: unknown }>;
  assignments: number[][];
  loop: Promise<void>;
}

describe('kafka consumer group (real broker)', { skip: SKIP }, () => {
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topic: string;
  const started: Member[] = [];

  before(async () => {
    admin = await KafkaAdmin.create(conn('it-admin'));
    topic = unique('it-group');
    await admin.ensureTopic(topic, { partitions: PARTITIONS, replicationFactor: 1 });
    producer = await KafkaProducer.create({ ...conn('it-p'), topic });
  });

  after(async () => {
    // Also after a failed assertion: an open consumer would keep the test process alive.
    for (const m of started) await m.consumer.close();
    await producer.close();
    await admin.deleteTopic(topic);
    await admin.close();
  });

  /** `n` records on every partition, values `${round}-${i}`. */
  async function produceRound(round: number, n: number): Promise<void> {
    const msgs = [];
    for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < n; i++) msgs.push({ value: `${round}-${i}`, partition: p });
    await producer.send(msgs);
  }

  async function startMember(name: string, groupId: string): Promise<Member> {
    const member = {
      name,
      seen: new Map<number, bigint[]>(),
      processed: new Map<number, bigint>(),
      revocations: [],
      assignments: [],
    } as unknown as Member;
    member.consumer = await KafkaConsumer.create({
      ...conn(`it-${name}`),
      ...FAST_GROUP,
      groupId,
      topics: [topic],
      ...(process.env.USERPIPE_TEST_DEBUG ? { logger: createLogger({ level: 'debug', component: name }) } : {}),
      onAssigned: (tps: TopicPartition[]) => {
        member.assignments.push(tps.map((tp) => tp.partition).sort());
      },
      // The stage's job at revocation: commit what it processed, while the group still waits for us.
      onRevoked: async (tps: TopicPartition[], { reason }) => {
        const entry: Member['revocations'][number] = { reason, partitions: tps.map((tp) => tp.partition).sort() };
        member.revocations.push(entry);
        // A stage flushes its files before committing: take that time, so the test shows the group waits.
        await new Promise((r) => setTimeout(r, FLUSH_MS));
        const offsets = tps.filter((tp) => member.processed.has(tp.partition)).map((tp) => ({ ...tp, offset: member.processed.get(tp.partition) as bigint }));
        try {
          await member.consumer.commit(offsets);
        } catch (err) {
          entry.commitError = err;
        }
      },
    });
    started.push(member);
    await member.consumer.start();
    // Processing is synchronous here: a record counts as processed as soon as it is seen. No commits in
    // the loop on purpose: only onRevoked commits, so where the next owner starts proves it ran in time.
    member.loop = (async () => {
      for await (const m of member.consumer.messages()) {
        const list = member.seen.get(m.partition) ?? [];
        list.push(m.offset);
        member.seen.set(m.partition, list);
        member.processed.set(m.partition, m.offset + 1n);
      }
    })();
    return member;
  }

  function owned(m: Member): number[] {
    return m.consumer.assignment().map((tp) => tp.partition).sort();
  }

  function seenCount(members: Member[], perPartition: number): boolean {
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = new Set(members.flatMap((m) => m.seen.get(p) ?? []));
      if (offsets.size < perPartition) return false;
    }
    return true;
  }

  test('two members split the partitions, revocation commits land before the move, close hands everything over', async () => {
    const groupId = unique('it-g');
    await produceRound(1, 25);

    const a = await startMember('a', groupId);
    assert.deepEqual(owned(a), [0, 1, 2, 3]);
    await waitFor('a to read round 1', () => seenCount([a], 25));

    const b = await startMember('b', groupId);
    await waitFor('the partitions to be split', () => owned(a).length === 2 && owned(b).length === 2);
    assert.deepEqual([...owned(a), ...owned(b)].sort(), [0, 1, 2, 3], 'disjoint and complete');
    assert.equal(a.revocations[0]?.reason, 'rebalance');
    assert.deepEqual(a.revocations[0]?.partitions, [0, 1, 2, 3]);
    assert.equal(a.revocations[0]?.commitError, undefined, 'commit inside onRevoked succeeded');
    assert.deepEqual(await admin.committedOffsets(groupId, topic), [25n, 25n, 25n, 25n]);

    await produceRound(2, 25);
    await waitFor('round 2', () => seenCount([a, b], 50));
    // b started on its partitions exactly where a committed at revocation: nothing read twice.
    for (const p of owned(b)) assert.equal(b.seen.get(p)?.[0], 25n, `b starts partition ${p} at a's commit`);

    const bBefore = owned(b);
    const aHad = owned(a);
    await a.consumer.close();
    await a.loop;
    const last = a.revocations.at(-1);
    assert.equal(last?.reason, 'close');
    assert.deepEqual(last?.partitions, aHad);
    assert.equal(last?.commitError, undefined, 'commit on close succeeded');
    await waitFor('b to take every partition', () => owned(b).length === PARTITIONS);
    assert.ok(b.revocations.some((r) => r.reason === 'rebalance' && r.commitError === undefined));

    await produceRound(3, 25);
    await waitFor('round 3', () => seenCount([a, b], 75));
    // b resumed a's former partitions exactly after a's last processed record.
    for (const p of aHad) {
      const firstOnTakeover = b.seen.get(p)?.[0];
      assert.equal(firstOnTakeover, a.processed.get(p), `b continues partition ${p} after a`);
    }
    assert.ok(bBefore.every((p) => owned(b).includes(p)));

    // No loss: every offset of every partition was seen by someone; and with commits at revocation, none twice.
    for (let p = 0; p < PARTITIONS; p++) {
      const all = [...(a.seen.get(p) ?? []), ...(b.seen.get(p) ?? [])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      assert.deepEqual(all, Array.from({ length: 75 }, (_, i) => BigInt(i)), `partition ${p}: 0..74 exactly once`);
    }
    // The stage commits at the end (here: through a last close); the group's offsets then cover everything.
    await b.consumer.close();
    await b.loop;
    assert.deepEqual(await admin.committedOffsets(groupId, topic), [75n, 75n, 75n, 75n]);
    await assert.rejects(
      b.consumer.commit([{ topic, partition: 0, offset: 75n }]),
      (err: unknown) => err instanceof PipelineError && err.details.rebalance === true,
    );
  });

  test('a member removed by the coordinator rejoins by itself; commits made meanwhile fail safely; nothing is lost', async (t) => {
    const groupId = unique('it-g');
    const kickTopic = unique('it-kick');
    await admin.ensureTopic(kickTopic, { partitions: 2, replicationFactor: 1 });
    t.after(() => admin.deleteTopic(kickTopic));
    const p = await KafkaProducer.create({ ...conn('it-p'), topic: kickTopic });
    t.after(() => p.close());
    const seen = new Map<number, bigint[]>();
    const processed = new Map<number, bigint>();
    const revocations: Array<{ reason: RevokeReason; commitError?: unknown; ms: number }> = [];
    const consumer = await KafkaConsumer.create({
      ...conn('it-kicked'),
      ...FAST_GROUP,
      groupId,
      topics: [kickTopic],
      ...(process.env.USERPIPE_TEST_DEBUG ? { logger: createLogger({ level: 'debug', component: 'kicked' }) } : {}),
      onRevoked: async (tps, { reason }) => {
        const started = Date.now();
        const entry: (typeof revocations)[number] = { reason, ms: 0 };
        revocations.push(entry);
        try {
          await consumer.commit(tps.filter((tp) => processed.has(tp.partition)).map((tp) => ({ ...tp, offset: processed.get(tp.partition) as bigint })));
        } catch (err) {
          entry.commitError = err;
        }
        entry.ms = Date.now() - started;
      },
    });
    t.after(() => consumer.close());
    await consumer.start();
    const loop = (async () => {
      for await (const m of consumer.messages()) {
        seen.set(m.partition, [...(seen.get(m.partition) ?? []), m.offset]);
        processed.set(m.partition, m.offset + 1n);
      }
    })();
    await p.send(Array.from({ length: 40 }, (_, i) => ({ value: `a${i}`, partition: i % 2 })));
    await waitFor('first half', () => (seen.get(0)?.length ?? 0) + (seen.get(1)?.length ?? 0) >= 40);

    // The coordinator forgets the member (as after a session timeout): its next heartbeat gets UNKNOWN_MEMBER_ID.
    const raw = new Admin({ clientId: 'it-kicker', bootstrapBrokers: [...BROKERS] });
    try {
      await raw.removeMembersFromConsumerGroup({ groupId, members: null });
    } finally {
      await raw.close();
    }
    await waitFor('the revocation', () => revocations.length > 0);
    await waitFor('the member to be assigned again', () => consumer.assignment().length === 2);
    const r = revocations[0];
    assert.ok(r);
    t.diagnostic(`revocation: ${r.reason} in ${r.ms} ms, commit error: ${(r.commitError as Error | undefined)?.message ?? 'none'}`);
    assert.equal(r.reason, 'lost');
    // Its commit cannot use the dead membership: refused at once as a rebalance error, no stall.
    assert.ok(isRebalanceError(r.commitError), String(r.commitError));
    assert.ok(r.ms < 1_000, `onRevoked took ${r.ms} ms`);

    await p.send(Array.from({ length: 40 }, (_, i) => ({ value: `b${i}`, partition: i % 2 })));
    await waitFor('second half', () => [0, 1].every((part) => new Set(seen.get(part) ?? []).size >= 40));
    for (const part of [0, 1]) {
      const unique_ = [...new Set(seen.get(part))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      assert.deepEqual(unique_, Array.from({ length: 40 }, (_, i) => BigInt(i)), `partition ${part}: nothing lost`);
    }
    await consumer.close();
    await loop;
  });
});
