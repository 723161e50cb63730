import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaAdmin, KafkaConsumer, KafkaProducer } from '../../src/clients/kafka.ts';
import { conn, FAST_GROUP, SKIP, unique } from './kafka-helpers.ts';

/**
 * A 50k-record backlog and a stage that stops pulling: the consumer must stop fetching. The assertion is a
 * bound on what it holds, not a timing; the wait only gives an unbounded consumer the time to show itself.
 */

const TOTAL = 50_000;
const PARTITIONS = 2;
const VALUE_BYTES = 200;
const MAX_BUFFERED = 500;
const FETCH_MAX_BYTES = 64 * 1024;
/** Producer requests (hence record batches) of at most this: a broker always returns a first batch whole. */
const PRODUCE_REQUEST_BYTES = 16 * 1024;
/**
 * At most one fetch response beyond the buffer bound: FETCH_MAX_BYTES of stored batches, plus possibly one
 * whole batch over the limit. Records are uncompressed here so bytes bound records (each > VALUE_BYTES);
 * with compression the same bytes hold more records.
 */
const BOUND = MAX_BUFFERED + Math.ceil((FETCH_MAX_BYTES + PRODUCE_REQUEST_BYTES) / VALUE_BYTES);

describe('kafka consumer backpressure (real broker)', { skip: SKIP }, () => {
  let admin: KafkaAdmin;
  let topic: string;

  before(async () => {
    admin = await KafkaAdmin.create(conn('it-admin'));
    topic = unique('it-backpressure');
    await admin.ensureTopic(topic, { partitions: PARTITIONS, replicationFactor: 1 });
    const producer = await KafkaProducer.create({ ...conn('it-p'), topic, maxRequestBytes: PRODUCE_REQUEST_BYTES });
    try {
      const value = 'v'.repeat(VALUE_BYTES);
      for (let start = 0; start < TOTAL; start += 10_000) {
        await producer.send(Array.from({ length: 10_000 }, (_, i) => ({ key: String(start + i), value, partition: (start + i) % PARTITIONS })));
      }
    } finally {
      await producer.close();
    }
    const ends = await admin.endOffsets(topic);
    assert.equal(ends.reduce((a, b) => a + b, 0n), BigInt(TOTAL));
  });

  after(async () => {
    await admin.deleteTopic(topic);
    await admin.close();
  });

  test('a consumer that stops pulling holds a bounded number of records, then drains everything in order', async (t) => {
    const consumer = await KafkaConsumer.create({
      ...conn('it-bp'),
      ...FAST_GROUP,
      groupId: unique('it-g'),
      topics: [topic],
      untilEnd: true,
      maxBufferedMessages: MAX_BUFFERED,
      fetchMaxBytes: FETCH_MAX_BYTES,
      fetchMaxWaitMs: 100,
    });
    try {
      await consumer.start();
      const it = consumer.messages()[Symbol.asyncIterator]();
      const next = new Map<number, bigint>();
      const take = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) {
          const r = await it.next();
          assert.ok(!r.done);
          const m = r.value;
          assert.equal(m.offset, next.get(m.partition) ?? 0n, `partition ${m.partition} in order, no gap`);
          next.set(m.partition, m.offset + 1n);
        }
      };
      await take(1_000);
      const rssBefore = process.memoryUsage().rss;

      // Stop pulling. Wait until the fetched count has not moved for 1 s (an unbounded consumer would keep
      // fetching the 50k backlog in that time; bounded at 15 s in total).
      let last = -1;
      let stableSince = Date.now();
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if (consumer.fetchedTotal !== last) {
          last = consumer.fetchedTotal;
          stableSince = Date.now();
        } else if (Date.now() - stableSince > 1_000) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      t.diagnostic(`after stopping: buffered=${consumer.buffered} fetched=${consumer.fetchedTotal} pulled=1000 bound=${BOUND} rssDelta=${process.memoryUsage().rss - rssBefore}`);
      assert.ok(consumer.buffered <= BOUND, `buffered ${consumer.buffered} <= ${BOUND}`);
      assert.ok(consumer.fetchedTotal - 1_000 <= BOUND, `fetched ${consumer.fetchedTotal} while only 1000 were pulled`);
      assert.ok(consumer.fetchedTotal < TOTAL / 10);
      // Informative, loose: a 50k backlog of ~250-byte records held in memory would add > 12 MB.
      assert.ok(process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024);

      // Pull again: fetching resumes and every record arrives, in order, exactly once.
      await take(TOTAL - 1_000);
      const done = await it.next();
      assert.equal(done.done, true, 'untilEnd: iteration ends at the end offsets seen at start');
      assert.equal(consumer.fetchedTotal, TOTAL);
      for (let p = 0; p < PARTITIONS; p++) assert.equal(next.get(p), BigInt(TOTAL / PARTITIONS));
    } finally {
      await consumer.close();
    }
  });
});
