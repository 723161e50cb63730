import type { OptionSpec } from './option-spec.ts';

/**
 * Option groups shared by several commands. Keys are unique across the whole CLI (see option-spec.ts), so a
 * stage that needs a differently-meant option of the same flag name (e.g. `--group`) uses its own key with a
 * `runAllFlag` that disambiguates it in run-all.
 */

export const PROGRESS_OPTIONS: OptionSpec[] = [
  {
    key: 'progressInterval',
    flag: '--progress-interval <duration>',
    description: 'when not on a terminal, log a progress line this often',
    type: 'duration',
    default: 10_000,
  },
];

export const KAFKA_OPTIONS: OptionSpec[] = [
  {
    key: 'brokers',
    flag: '--brokers <list>',
    description: 'Kafka bootstrap brokers, comma-separated host:port',
    type: 'list',
    default: ['localhost:9092'],
    group: 'Kafka:',
  },
  { key: 'topic', flag: '--topic <name>', description: 'Kafka topic of user records', type: 'string', default: 'user_logs', group: 'Kafka:' },
  { key: 'clientId', flag: '--client-id <id>', description: 'Kafka client id', type: 'string', default: 'userpipe', group: 'Kafka:' },
  { key: 'tls', flag: '--tls', description: 'connect to Kafka over TLS', type: 'boolean', default: false, group: 'Kafka:' },
  {
    key: 'tlsCaFile',
    flag: '--tls-ca-file <file>',
    description: 'PEM file of the CA that signed the brokers\' certificates (implies --tls)',
    type: 'string',
    group: 'Kafka:',
  },
  {
    key: 'saslMechanism',
    flag: '--sasl-mechanism <mechanism>',
    description: 'SASL mechanism for Kafka',
    type: 'enum',
    choices: ['plain', 'scram-sha-256', 'scram-sha-512'],
    group: 'Kafka:',
  },
  { key: 'saslUsername', flag: '--sasl-username <user>', description: 'SASL user name', type: 'string', group: 'Kafka:' },
  {
    key: 'saslPasswordFile',
    flag: '--sasl-password-file <file>',
    description: 'file holding the SASL password (or set USERPIPE_SASL_PASSWORD; never a flag)',
    type: 'string',
    group: 'Kafka:',
  },
];

/**
 * Where userpipe keeps its files. `spoolDir` is shared by fetch (writes) and ingest (reads): one config key moves
 * both. Without it, the spool dir is `<data-dir>/spool` (see `resolveSpoolDir`).
 */
export const DATA_DIR_OPTION: OptionSpec = {
  key: 'dataDir',
  flag: '--data-dir <dir>',
  description: 'directory for state (cursors, offsets), spool and quarantine files',
  type: 'string',
  default: './userpipe-data',
  group: 'Files:',
};

export const SPOOL_DIR_OPTION: OptionSpec = {
  key: 'spoolDir',
  flag: '--spool-dir <dir>',
  description: 'spool directory of response files (fetch writes it, ingest reads it)',
  type: 'string',
  defaultLabel: '<data-dir>/spool',
  group: 'Files:',
};

/** The spool dir from resolved options: `--spool-dir`, else `<data-dir>/spool`. */
export function resolveSpoolDir(values: Record<string, unknown>): string {
  if (typeof values.spoolDir === 'string' && values.spoolDir !== '') return values.spoolDir;
  const dataDir = typeof values.dataDir === 'string' && values.dataDir !== '' ? values.dataDir : './userpipe-data';
  return `${dataDir.replace(/\/+$/, '')}/spool`;
}
