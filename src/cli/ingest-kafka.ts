/**
 * Kafka as ingest's log, over the adapter (`clients/kafka.ts`): topics through KafkaAdmin, messages through
 * one KafkaProducer built with ingest's producer settings (acks, idempotence, compression).
 */
import { KafkaAdmin, KafkaProducer, type Acks, type Compression, type KafkaConnectionOptions } from '../clients/kafka.ts';
import type { LogProducer } from '../clients/message-log.ts';
import type { Logger } from '../core/log.ts';
import type { IngestLog } from '../stages/ingest.ts';

export interface IngestProducerSettings {
  topic: string;
  acks: Acks;
  idempotent: boolean;
  compression: Compression;
}

export interface IngestKafka extends IngestLog {
  close(): Promise<void>;
}

/** Build the clients (no connection yet: the first request connects, and waits out a broker that is down). */
export async function openIngestKafka(connection: KafkaConnectionOptions, settings: IngestProducerSettings, logger: Logger): Promise<IngestKafka> {
  const admin = await KafkaAdmin.create({ ...connection, logger });
  const producers: KafkaProducer[] = [];
  return {
    description: `Kafka at ${connection.brokers.join(',')}`,
    ensureTopic: async (topic, options) => {
      await admin.ensureTopic(topic, options);
    },
    checkTopic: async (topic) => {
      await admin.partitionCount(topic);
    },
    producer: async (): Promise<LogProducer> => {
      const producer = await KafkaProducer.create({ ...connection, ...settings, logger });
      producers.push(producer);
      return {
        send: async (topic, records, signal) => {
          await producer.send(records.map((r) => ({ ...r, topic })), signal);
        },
        close: () => producer.close(),
      };
    },
    close: async () => {
      await Promise.all([admin.close(), ...producers.map((p) => p.close())]);
    },
  };
}
