import { KafkaLog, type KafkaLogOptions } from '../clients/kafka-log.ts';
import type { Logger } from '../core/log.ts';
import { kafkaConnection } from './kafka-connection.ts';
import type { OptionValues } from './option-spec.ts';

/** The real Kafka named by the shared Kafka options, as the MessageLog archive, process and run-all use. */
export async function openKafkaLog(
  v: OptionValues,
  env: NodeJS.ProcessEnv,
  log: Logger,
  producer?: KafkaLogOptions['producer'],
): Promise<KafkaLog> {
  return new KafkaLog({ connection: await kafkaConnection(v, env), logger: log.child('kafka'), ...(producer ? { producer } : {}) });
}
