/**
 * KAFKA_OPTIONS values (flags > env > config file > defaults, already resolved) -> the Kafka adapter's
 * connection options. Shared by every command that talks to Kafka (ingest, archive, process, run-all).
 *
 * The SASL password never comes from a flag (it would show in `ps` and shell history): it is read from the
 * environment (`USERPIPE_SASL_PASSWORD`) or from `--sasl-password-file`, in that order. Problems are
 * ConfigErrors naming the option, raised before anything connects (exit code 2).
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, errorMessage } from '../core/errors.ts';
import type { KafkaConnectionOptions, SaslMechanism } from '../clients/kafka-options.ts';
import type { OptionValues } from './option-spec.ts';

export const SASL_PASSWORD_ENV = 'USERPIPE_SASL_PASSWORD';

const MECHANISMS: Record<string, SaslMechanism> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

export interface ReadText {
  (path: string): Promise<string>;
}

const readText: ReadText = (path) => readFile(path, 'utf8');

export async function kafkaConnection(values: OptionValues, env: NodeJS.ProcessEnv, read: ReadText = readText): Promise<KafkaConnectionOptions> {
  const brokers = Array.isArray(values.brokers) ? values.brokers.map(String) : [];
  if (brokers.length === 0) throw new ConfigError('--brokers: at least one broker (host:port) is required', { key: 'brokers' });
  const out: KafkaConnectionOptions = {
    brokers,
    clientId: typeof values.clientId === 'string' ? values.clientId : 'userpipe',
  };
  const caFile = str(values.tlsCaFile);
  if (caFile) out.tls = { caFile };
  else if (values.tls === true) out.tls = true;

  const mechanismName = str(values.saslMechanism);
  const username = str(values.saslUsername);
  if (!mechanismName) {
    if (username) throw new ConfigError('--sasl-username needs --sasl-mechanism (plain, scram-sha-256 or scram-sha-512)', { key: 'saslMechanism' });
    return out;
  }
  const mechanism = MECHANISMS[mechanismName.toLowerCase()];
  if (!mechanism) throw new ConfigError(`--sasl-mechanism: unknown mechanism ${JSON.stringify(mechanismName)}`, { key: 'saslMechanism' });
  if (!username) throw new ConfigError('--sasl-mechanism needs --sasl-username', { key: 'saslUsername' });
  out.sasl = { mechanism, username, password: await saslPassword(values, env, read) };
  return out;
}

async function saslPassword(values: OptionValues, env: NodeJS.ProcessEnv, read: ReadText): Promise<string> {
  const fromEnv = env[SASL_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const file = str(values.saslPasswordFile);
  if (!file) {
    throw new ConfigError(`SASL needs a password: set ${SASL_PASSWORD_ENV} or --sasl-password-file`, { key: 'saslPasswordFile' });
  }
  let text: string;
  try {
    text = await read(file);
  } catch (err) {
    throw new ConfigError(`--sasl-password-file: cannot read ${file}: ${errorMessage(err)}`, { key: 'saslPasswordFile' });
  }
  // Files written by `echo secret > file` end with a newline that is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new ConfigError(`--sasl-password-file: ${file} is empty`, { key: 'saslPasswordFile' });
  return password;
}

/** "127.0.0.1:9092,127.0.0.2:9092" for log lines; never includes credentials. */
export function describeBrokers(connection: KafkaConnectionOptions): string {
  return connection.brokers.join(',');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
