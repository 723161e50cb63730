import { readFileSync } from 'node:fs';
import { KafkaLog } from '../clients/kafka-log.ts';
import type { KafkaConnectionOptions, SaslMechanism } from '../clients/kafka.ts';
import { ConfigError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { OptionValues } from './option-spec.ts';

/**
 * Kafka connection from the shared Kafka options (KAFKA_OPTIONS). The SASL password comes from
 * USERPIPE_SASL_PASSWORD or --sasl-password-file, never from a flag (it would show in `ps`).
 */
export function kafkaConnection(v: OptionValues, env: NodeJS.ProcessEnv): KafkaConnectionOptions {
  const conn: KafkaConnectionOptions = {
    brokers: v.brokers as string[],
    clientId: (v.clientId as string | undefined) ?? 'userpipe',
  };
  const caFile = v.tlsCaFile as string | undefined;
  if (caFile) conn.tls = { caFile };
  else if (v.tls === true) conn.tls = true;
  const mechanism = v.saslMechanism as string | undefined;
  if (mechanism) {
    const username = v.saslUsername as string | undefined;
    if (!username) throw new ConfigError('--sasl-mechanism needs --sasl-username', { key: 'saslUsername' });
    let password = env.USERPIPE_SASL_PASSWORD;
    const file = v.saslPasswordFile as string | undefined;
    if (file) {
      try {
        password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new ConfigError(`cannot read --sasl-password-file ${file}: ${errorMessage(err)}`, { key: 'saslPasswordFile' });
      }
    }
    if (!password) throw new ConfigError('SASL needs a password: set USERPIPE_SASL_PASSWORD or --sasl-password-file', { key: 'saslPasswordFile' });
    conn.sasl = { mechanism: mechanism.toUpperCase() as SaslMechanism, username, password };
  }
  return conn;
}

/** The real Kafka, as a MessageLog. */
export async function openKafkaLog(v: OptionValues, env: NodeJS.ProcessEnv, log: Logger): Promise<KafkaLog> {
  return new KafkaLog({ connection: kafkaConnection(v, env), logger: log.child('kafka') });
}
