import type { KafkaLog, KafkaLogOptions } from '../clients/kafka-log.ts';
import type { Logger } from '../core/log.ts';
import { kafkaConnection } from './kafka-connection.ts';
import type { OptionValues } from './option-spec.ts';

/**
 * The real Kafka named by the shared Kafka options, as the MessageLog archive, process and run-all use.
 * The Kafka client is loaded only here, when a broker is named: it is about 60 MB of code that run-all's
 * embedded mode never needs.
 */
export async function openKafkaLog(
  v: OptionValues,
  env: NodeJS.ProcessEnv,
  log: Logger,
  producer?: KafkaLogOptions['producer'],
): Promise<KafkaLog> {
  const { KafkaLog } = await import('../clients/kafka-log.ts');
  return new KafkaLog({ connection: await kafkaConnection(v, env), logger: log.child('kafka'), ...(producer ? { producer } : {}) });
}
