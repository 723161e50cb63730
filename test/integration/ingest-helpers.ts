/**
 * Shared by the ingest integration tests and test/scenarios/ingest-crash.ts: spool files made with the
 * synthetic generator, reading a whole topic back from the real Kafka, cleaning topics up.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KafkaAdmin, KafkaConsumer, type KafkaMessage } from '../../src/clients/kafka.ts';
import { formatSpoolName } from '../../src/sinks/spool-name.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { HEADER } from '../../src/transforms/user-message.ts';
import { BROKERS, FAST_GROUP, conn, unique } from './kafka-helpers.ts';

export { BROKERS, unique };

export interface SpoolFixture {
  /** File name -> uuids of its users, in order. */
  files: Map<string, string[]>;
  /** Every uuid written. */
  uuids: Set<string>;
  /** uuid -> the user's JSON as written (compact). */
  values: Map<string, string>;
}

/** Write `count` fetch-named files of `users` users each (one response per file, as fetch writes them). */
export async function writeSpool(
  dir: string,
  count: number,
  users: number,
  seed = unique('ingest-seed'),
  t0 = Date.UTC(2026, 10, 30, 12, 0, 0, 0),
): Promise<SpoolFixture> {
  await mkdir(dir, { recursive: true });
  const fixture: SpoolFixture = { files: new Map(), uuids: new Set(), values: new Map() };
  for (let i = 0; i < count; i++) {
    const name = formatSpoolName(t0 + i * 1000, i % 100, 'itest');
    const resp = generateResponse({ seed, page: i + 1, results: users });
    await writeFile(join(dir, name), JSON.stringify(resp) + '\n');
    const ids = resp.results.map((u) => u.login?.uuid as string);
    fixture.files.set(name, ids);
    resp.results.forEach((u) => {
      fixture.uuids.add(u.login?.uuid as string);
      fixture.values.set(u.login?.uuid as string, JSON.stringify(u));
    });
  }
  return fixture;
}

/** Everything in `topic` up to its end offsets at the time of the call, with a fresh consumer group. */
export async function readTopic(topic: string): Promise<KafkaMessage[]> {
  const consumer = await KafkaConsumer.create({ ...conn('it-ingest-reader'), ...FAST_GROUP, groupId: unique('it-ingest-g'), topics: [topic], start: 'earliest', untilEnd: true });
  const out: KafkaMessage[] = [];
  try {
    await consumer.start();
    for await (const m of consumer.messages()) {
      out.push({ ...m, key: m.key ? Buffer.from(m.key) : null, value: m.value ? Buffer.from(m.value) : null });
    }
  } finally {
    await consumer.close();
  }
  return out;
}

export async function deleteTopics(...topics: string[]): Promise<void> {
  const admin = await KafkaAdmin.create(conn('it-ingest-admin'));
  try {
    for (const t of topics) await admin.deleteTopic(t).catch(() => {});
  } finally {
    await admin.close();
  }
}

export async function createTopic(topic: string, partitions = 3): Promise<void> {
  const admin = await KafkaAdmin.create(conn('it-ingest-admin'));
  try {
    await admin.ensureTopic(topic, { partitions, replicationFactor: 1 });
  } finally {
    await admin.close();
  }
}

/** Arguments every ingest run in the tests shares. */
export function ingestArgs(root: string, topic: string, ...extra: string[]): string[] {
  return ['ingest', '--brokers', BROKERS.join(','), '--topic', topic, '--data-dir', root, '--spool-dir', join(root, 'spool'), '--settle-time', '0', ...extra];
}

export function header(m: KafkaMessage, name: string): string | undefined {
  return m.headers.get(name);
}

/** Count of messages per uuid key, and how many keys appear more than once. */
export function duplicates(messages: readonly KafkaMessage[]): { total: number; distinct: number; duplicates: number } {
  const seen = new Map<string, number>();
  for (const m of messages) {
    const k = m.key?.toString() ?? '';
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return { total: messages.length, distinct: seen.size, duplicates: messages.length - seen.size };
}

export { HEADER };
