/**
 * How fast userpipe's Kafka consumer alone reads a topic to its end (records pulled and dropped): the part
 * of archive and process that is Kafka reading, to split their time between reading and writing.
 */
import { KafkaLog } from '../../src/clients/kafka-log.ts';
import { readRecords } from '../../src/sources/log-reader.ts';

export async function readProbe(brokers: string, topic: string, group: string, direct: boolean): Promise<{ records: number; seconds: number }> {
  const log = new KafkaLog({ connection: { brokers: brokers.split(','), clientId: 'userpipe-bench-read' } });
  try {
    const stopAt = await log.endOffsets(topic);
    const consumer = await log.consumer({ group, topic, start: 'earliest' });
    const total = [...stopAt.values()].reduce((a, b) => a + b, 0n);
    let n = 0;
    const t0 = performance.now();
    if (direct) {
      // The consumer's own iterator, without the stage's reader around it.
      for await (const _r of consumer) {
        n += 1;
        if (BigInt(n) >= total) break;
      }
    } else {
      const stop = new AbortController();
      for await (const _r of readRecords(consumer, { stop: stop.signal, stopAt })) n += 1;
    }
    const seconds = (performance.now() - t0) / 1000;
    await consumer.close();
    return { records: n, seconds };
  } finally {
    await log.close();
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const [brokers, topic, mode] = process.argv.slice(2);
  const r = await readProbe(brokers ?? '127.0.0.1:9092', topic ?? '', `bench-read-${Date.now()}`, mode === 'direct');
  process.stdout.write(`${JSON.stringify(r)} ${(r.records / r.seconds).toFixed(0)} rec/s\n`);
}
