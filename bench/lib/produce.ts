/**
 * Fill a topic fast with N unique synthetic users, as ingest would have written them (same keys, values and
 * headers, via the same pure transform), but without the spool directory: the memory run needs a backlog of
 * a million records in a few minutes, not another ingest measurement. Uses userpipe's producer adapter with
 * acks=1, no idempotence, a few sends in flight.
 */
import { KafkaProducer } from '../../src/clients/kafka.ts';
import type { Compression } from '../../src/clients/kafka-options.ts';
import { formatSpoolName } from '../../src/sinks/spool-name.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { buildMessages } from '../../src/transforms/user-messages.ts';

export async function produceUsers(opts: {
  brokers: string;
  topic: string;
  users: number;
  codec: string;
  seed: string;
  perResponse?: number;
  inFlight?: number;
  onProgress?: (sent: number) => void;
}): Promise<number> {
  const producer = await KafkaProducer.create({
    brokers: opts.brokers.split(','),
    clientId: 'userpipe-bench-producer',
    topic: opts.topic,
    acks: 1,
    idempotent: false,
    compression: opts.codec as Compression,
  });
  const per = opts.perResponse ?? 1000;
  const inFlight = opts.inFlight ?? 3;
  const t0 = Date.UTC(2026, 0, 1);
  let sent = 0;
  let page = 0;
  const sends = new Set<Promise<void>>();
  try {
    while (page * per < opts.users) {
      const results = Math.min(per, opts.users - page * per);
      page += 1;
      const response = generateResponse({ seed: opts.seed, page, results });
      const source = formatSpoolName(t0 + page, 0, 'bench');
      const messages = buildMessages('response', [{ kind: 'response', response, raw: '', line: 1 }], { source, fetchedAtMs: t0 + page, seq: 0 }, {
        format: 'user',
        topic: opts.topic,
        dlqTopic: `${opts.topic}.dlq`,
      });
      const p: Promise<void> = producer
        .send(messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers })))
        .then(() => {
          sent += messages.length;
          opts.onProgress?.(sent);
        })
        .finally(() => sends.delete(p));
      sends.add(p);
      if (sends.size >= inFlight) await Promise.race(sends);
    }
    await Promise.all(sends);
  } finally {
    await producer.close();
  }
  return sent;
}
