/**
 * Shared by the process integration tests and scenarios: the real Kafka and InfluxDB of test/stack, users
 * produced in ingest's formats through the MessageLog producer (ingest's own `buildMessages`), InfluxQL reads.
 */
import { KafkaAdmin } from '../../src/clients/kafka.ts';
import { KafkaLog } from '../../src/clients/kafka-log.ts';
import { InfluxWriter, type InfluxQueryResponse } from '../../src/clients/influx-writer.ts';
import type { ProduceRecord } from '../../src/clients/message-log.ts';
import type { RandomUser } from '../../src/transforms/randomuser-types.ts';
import { buildMessages } from '../../src/transforms/user-messages.ts';

export const BROKERS = process.env.USERPIPE_TEST_BROKERS ?? '127.0.0.1:9092';
export const INFLUX_URL = process.env.USERPIPE_TEST_INFLUX_URL ?? 'http://127.0.0.1:8086';
export const SKIP = process.env.USERPIPE_SKIP_INTEGRATION === '1' ? 'USERPIPE_SKIP_INTEGRATION=1' : false;
export const FETCHED_AT = Date.UTC(2026, 10, 30, 7, 0, 0);

export function unique(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export function kafkaLog(): KafkaLog {
  return new KafkaLog({ connection: { brokers: BROKERS.split(','), clientId: 'process-it' } });
}

export async function kafkaAdmin(): Promise<KafkaAdmin> {
  return KafkaAdmin.create({ brokers: BROKERS.split(','), clientId: 'process-it-admin' });
}

/** `users` split into "spool files" of `perFile`, as ingest sends them in `format`. */
export function ingestMessages(users: readonly RandomUser[], format: 'user' | 'response', topic: string, perFile = 500): ProduceRecord[] {
  const out: ProduceRecord[] = [];
  for (let f = 0; f * perFile < users.length; f++) {
    const chunk = users.slice(f * perFile, (f + 1) * perFile);
    const raw = JSON.stringify({ results: chunk });
    const origin = { source: `spool-${f}.json`, fetchedAtMs: FETCHED_AT + f * 1000, seq: 0 };
    for (const m of buildMessages('response', [{ kind: 'response', response: { results: [...chunk] }, raw, line: 1 }], origin, {
      format,
      topic,
      dlqTopic: `${topic}.dlq`,
    })) {
      out.push({ ...(m.key === undefined ? {} : { key: m.key }), value: m.value, headers: m.headers });
    }
  }
  return out;
}

export async function produceAll(log: KafkaLog, topic: string, records: readonly ProduceRecord[]): Promise<void> {
  const producer = await log.producer();
  try {
    for (let i = 0; i < records.length; i += 1000) await producer.send(topic, records.slice(i, i + 1000));
  } finally {
    await producer.close();
  }
}

export type Row = Record<string, unknown>;

export function rows(res: InfluxQueryResponse): Row[] {
  const out: Row[] = [];
  for (const r of res.results) {
    for (const s of r.series ?? []) {
      for (const v of s.values) out.push(Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
    }
  }
  return out;
}

export function influxAdmin(url = INFLUX_URL, token?: string): InfluxWriter {
  return new InfluxWriter({ url, bucket: 'unused', retry: { maxAttempts: 1 }, ...(token ? { token } : {}) });
}

export async function countPoints(admin: InfluxWriter, db: string, measurement = 'users'): Promise<number> {
  const r = rows(await admin.query(`SELECT COUNT("uuid") FROM "${measurement}"`, db));
  return (r[0]?.count as number | undefined) ?? 0;
}

/** `userpipe process` arguments for a run against the stack. */
export function processArgs(o: { topic: string; group: string; db: string; extra?: string[]; url?: string }): string[] {
  return [
    'process',
    '--brokers',
    BROKERS,
    '--topic',
    o.topic,
    '--group',
    o.group,
    '--influx-url',
    o.url ?? INFLUX_URL,
    '--influx-bucket',
    o.db,
    '--log-format',
    'json',
    ...(o.extra ?? []),
  ];
}
