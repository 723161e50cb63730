import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../../src/core/errors.ts';
import { KafkaAdmin, KafkaConsumer, KafkaProducer, type Compression, type KafkaMessage } from '../../src/clients/kafka.ts';
import { conn, FAST_GROUP, SKIP, unique } from './kafka-helpers.ts';

/** Produce/consume against the real broker: codecs, offsets, commits and resume, start modes, bad records. */

describe('kafka adapter (real broker)', { skip: SKIP }, () => {
  let admin: KafkaAdmin;
  const topics: string[] = [];

  before(async () => {
    admin = await KafkaAdmin.create(conn('it-admin'));
  });

  after(async () => {
    for (const t of topics) await admin.deleteTopic(t);
    await admin.close();
  });

  async function newTopic(partitions: number): Promise<string> {
    const name = unique('it-kafka');
    topics.push(name);
    const res = await admin.ensureTopic(name, { partitions, replicationFactor: 1 });
    assert.deepEqual(res, { created: true, partitions });
    return name;
  }

  /** Read everything up to the end offsets seen at start, with a fresh group. */
  async function readAll(topic: string, groupId = unique('it-g'), extra: { start?: 'committed' | 'earliest' | 'latest' } = {}): Promise<KafkaMessage[]> {
    const consumer = await KafkaConsumer.create({ ...conn('it-reader'), ...FAST_GROUP, groupId, topics: [topic], untilEnd: true, ...extra });
    const out: KafkaMessage[] = [];
    try {
      await consumer.start();
      for await (const m of consumer.messages()) out.push(m);
    } finally {
      await consumer.close();
    }
    return out;
  }

  test('ensureTopic is idempotent; endOffsets matches what was produced', async () => {
    const topic = await newTopic(3);
    assert.deepEqual(await admin.ensureTopic(topic, { partitions: 3, replicationFactor: 1 }), { created: false, partitions: 3 });
    assert.deepEqual(await admin.endOffsets(topic), [0n, 0n, 0n]);
    const producer = await KafkaProducer.create({ ...conn('it-p'), topic });
    try {
      const counts = [7, 0, 12];
      const msgs = counts.flatMap((n, partition) => Array.from({ length: n }, (_, i) => ({ value: `p${partition}-${i}`, partition })));
      await producer.send(msgs);
      assert.deepEqual(await admin.endOffsets(topic), [7n, 0n, 12n]);
      assert.deepEqual(await admin.startOffsets(topic), [0n, 0n, 0n]);
      assert.equal(await admin.partitionCount(topic), 3);
    } finally {
      await producer.close();
    }
    await assert.rejects(admin.partitionCount(unique('it-missing')), (err: unknown) => err instanceof PipelineError && err.code === 'NOT_FOUND');
  });

  test('every codec: keys, values and headers come back identical', async () => {
    const topic = await newTopic(3);
    const codecs: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    const sent = new Map<string, { value: string; headers: Record<string, string> }>();
    for (const compression of codecs) {
      const producer = await KafkaProducer.create({ ...conn(`it-p-${compression}`), topic, compression });
      try {
        const batch = Array.from({ length: 120 }, (_, i) => {
          const key = `${compression}-${i}`;
          const value = JSON.stringify({ codec: compression, i, text: 'é✓ '.repeat(20 + (i % 7)) });
          const headers = { 'userpipe-format': 'user', 'userpipe-seq': String(i), codec: compression };
          sent.set(key, { value, headers });
          return { key, value, headers };
        });
        const res = await producer.send(batch);
        assert.ok(res.offsets.length > 0, `${compression}: broker acknowledged`);
      } finally {
        await producer.close();
      }
    }
    const got = await readAll(topic);
    assert.equal(got.length, sent.size);
    const partitionOfKey = new Map<string, number>();
    for (const m of got) {
      const key = String(m.key);
      const want = sent.get(key);
      assert.ok(want, `unexpected key ${key}`);
      assert.equal(String(m.value), want.value, key);
      assert.deepEqual(Object.fromEntries(m.headers), want.headers, key);
      assert.equal(typeof m.timestamp, 'bigint');
      partitionOfKey.set(key, m.partition);
    }
    assert.equal(new Set(got.map((m) => String(m.key))).size, sent.size, 'no duplicates');
    // Keyed messages spread over partitions (murmur2 of the key), and offsets are contiguous per partition.
    assert.equal(new Set(partitionOfKey.values()).size, 3);
    for (let p = 0; p < 3; p++) {
      const offsets = got.filter((m) => m.partition === p).map((m) => m.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => BigInt(i)), `partition ${p} in order, no gaps`);
    }
  });

  test('commit, then a new member of the same group resumes after the committed offset', async () => {
    const topic = await newTopic(1);
    const groupId = unique('it-g');
    const producer = await KafkaProducer.create({ ...conn('it-p'), topic, compression: 'lz4' });
    await producer.send(Array.from({ length: 100 }, (_, i) => ({ value: String(i) })));
    await producer.close();

    const first = await KafkaConsumer.create({ ...conn('it-c1'), ...FAST_GROUP, groupId, topics: [topic] });
    try {
      await first.start();
      for await (const m of first.messages()) {
        if (m.offset === 39n) {
          // Kafka convention: commit the NEXT offset to read.
          await first.commit([{ topic, partition: 0, offset: m.offset + 1n }]);
          break;
        }
      }
      // Committing past what was yielded would skip records: refused.
      await assert.rejects(first.commit([{ topic, partition: 0, offset: 90n }]), (err: unknown) => err instanceof PipelineError && err.code === 'INTERNAL');
      // A partition this member does not own: refused without asking the broker, flagged as rebalance.
      await assert.rejects(first.commit([{ topic, partition: 5, offset: 1n }]), (err: unknown) => err instanceof PipelineError && err.details.rebalance === true);
    } finally {
      await first.close();
    }
    assert.deepEqual(await admin.committedOffsets(groupId, topic), [40n]);
    assert.deepEqual(await admin.consumerLag(groupId, topic), [{ partition: 0, end: 100n, committed: 40n, lag: 60n }]);

    const resumed = await readAll(topic, groupId);
    assert.equal(resumed[0]?.offset, 40n);
    assert.equal(resumed.length, 60);
    assert.equal(String(resumed[59]?.value), '99');
  });

  test('start: earliest replays despite commits; latest only sees records produced after joining', async () => {
    const topic = await newTopic(2);
    const groupId = unique('it-g');
    const producer = await KafkaProducer.create({ ...conn('it-p'), topic });
    try {
      await producer.send(Array.from({ length: 20 }, (_, i) => ({ value: `old-${i}`, partition: i % 2 })));
      assert.equal((await readAll(topic, groupId)).length, 20);
      assert.deepEqual(await admin.committedOffsets(groupId, topic), [null, null], 'reading alone commits nothing');
      // Commit everything, then replay from the beginning with start: earliest.
      const committer = await KafkaConsumer.create({ ...conn('it-c'), ...FAST_GROUP, groupId, topics: [topic], start: 'earliest', untilEnd: true });
      await committer.start();
      const seen: KafkaMessage[] = [];
      for await (const m of committer.messages()) seen.push(m);
      await committer.commit(committer.positions().map((p) => ({ topic, partition: p.partition, offset: p.yielded })));
      await committer.close();
      assert.equal(seen.length, 20);
      assert.deepEqual(await admin.committedOffsets(groupId, topic), [10n, 10n]);
      const replay = await readAll(topic, groupId, { start: 'earliest' });
      assert.equal(replay.length, 20, 'earliest ignores the committed offsets');
      assert.equal((await readAll(topic, groupId)).length, 0, 'committed resumes at the end');

      const latest = await KafkaConsumer.create({ ...conn('it-c'), ...FAST_GROUP, groupId: unique('it-g'), topics: [topic], start: 'latest' });
      try {
        await latest.start();
        assert.deepEqual(latest.positions().map((p) => p.position).sort(), [10n, 10n]);
        await producer.send(Array.from({ length: 6 }, (_, i) => ({ value: `new-${i}`, partition: i % 2 })));
        const fresh: string[] = [];
        for await (const m of latest.messages()) {
          fresh.push(String(m.value));
          if (fresh.length === 6) break;
        }
        assert.deepEqual(fresh.sort(), ['new-0', 'new-1', 'new-2', 'new-3', 'new-4', 'new-5']);
      } finally {
        await latest.close();
      }
    } finally {
      await producer.close();
    }
  });

  test('records the broker refuses are INVALID_INPUT; an unknown topic is NOT_FOUND; the producer keeps working', async () => {
    const topic = await newTopic(1);
    const producer = await KafkaProducer.create({ ...conn('it-p'), topic, maxMessageBytes: 8 * 1024 * 1024 });
    try {
      await assert.rejects(producer.send([{ value: 'fine' }, { value: Buffer.alloc(2 * 1024 * 1024, 1) }]), (err: unknown) => {
        assert.ok(err instanceof PipelineError);
        assert.equal(err.code, 'INVALID_INPUT', err.message);
        assert.equal(err.retryable, false);
        assert.equal(err.details.index, 1);
        return true;
      });
      await assert.rejects(producer.send([{ value: 'x', topic: unique('it-missing') }]), (err: unknown) => {
        assert.ok(err instanceof PipelineError);
        assert.equal(err.code, 'NOT_FOUND', err.message);
        assert.equal(err.retryable, false);
        return true;
      });
      await producer.send([{ value: 'after' }]);
      const got = await readAll(topic);
      assert.deepEqual(got.map((m) => String(m.value)), ['fine', 'after']);
    } finally {
      await producer.close();
    }
  });

  test('acks=1 and acks=0 producers write too (acks=0 resolves without a broker answer)', async () => {
    const topic = await newTopic(1);
    for (const acks of [1, 0] as const) {
      const p = await KafkaProducer.create({ ...conn(`it-p-acks${acks}`), topic, acks });
      await p.send([{ value: `acks-${acks}` }]);
      await p.close();
    }
    // acks=0 gives no durability point: wait for the end offset instead of assuming.
    const deadline = Date.now() + 10_000;
    while ((await admin.endOffsets(topic))[0] !== 2n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await readAll(topic)).map((m) => String(m.value)), ['acks-1', 'acks-0']);
    await assert.rejects(KafkaProducer.create({ ...conn('it-p'), topic, acks: 1, idempotent: true }), /idempotent producer needs acks=all/);
  });
});
