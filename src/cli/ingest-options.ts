/**
 * The options of `userpipe ingest` (reused by run-all) and their translation into a checked IngestConfig.
 * Generic names carry an `ingest`/`kafka` prefix in their key and a prefixed flag in run-all, so they cannot
 * collide with another stage's option of the same flag (archive's `--compression`, fetch's `--once`).
 */
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { COMPRESSIONS, parseAcks, resolveIdempotent, type Acks, type Compression } from '../clients/kafka-options.ts';
import type { Completion } from '../sources/spool-disposal.ts';
import type { MessageFormat } from '../transforms/user-message.ts';
import type { OptionSpec, OptionValues } from './option-spec.ts';
import { DATA_DIR_OPTION, KAFKA_OPTIONS, PROGRESS_OPTIONS, SPOOL_DIR_OPTION, resolveSpoolDir } from './shared-options.ts';

const SPOOL = 'Spool directory:';
const TOPIC = 'Kafka topics and messages:';
const PRODUCER = 'Kafka producer:';

export const INGEST_OPTIONS: OptionSpec[] = [
  DATA_DIR_OPTION,
  SPOOL_DIR_OPTION,
  {
    key: 'ingestOnce',
    flag: '--once',
    runAllFlag: '--ingest-once',
    description: 'send the files present at start (waiting for foreign ones to settle), then exit: for cron',
    type: 'boolean',
    default: false,
    group: SPOOL,
  },
  {
    key: 'ingestPollInterval',
    flag: '--poll-interval <duration>',
    runAllFlag: '--ingest-poll-interval <duration>',
    description: 'how often the spool directory is scanned when it had nothing new',
    type: 'duration',
    default: 1000,
    min: 1,
    group: SPOOL,
  },
  {
    key: 'settleTime',
    flag: '--settle-time <duration>',
    description: 'a file not named by userpipe fetch (a foreign writer) is taken only once unchanged for this long',
    type: 'duration',
    default: 2000,
    group: SPOOL,
  },
  {
    key: 'deleteCompleted',
    flag: '--delete-completed',
    description: 'delete a file once Kafka acknowledged all of it, instead of renaming it to <name>.COMPLETED',
    type: 'boolean',
    default: false,
    group: SPOOL,
  },
  {
    key: 'doneDir',
    flag: '--done-dir <dir>',
    description: 'move a file here once Kafka acknowledged all of it, instead of renaming it to <name>.COMPLETED',
    type: 'string',
    group: SPOOL,
  },
  {
    key: 'quarantineDir',
    flag: '--quarantine-dir <dir>',
    description: 'where bad input goes: files that are not JSON, empty, not UTF-8, too large or of the wrong shape, each with <name>.error.json (reason, position)',
    type: 'string',
    defaultLabel: '<data-dir>/quarantine',
    group: SPOOL,
  },
  {
    key: 'maxFileSize',
    flag: '--max-file-size <size>',
    description: 'larger files are quarantined unread; files in flight stay under this many bytes together',
    type: 'size',
    default: 16 * 1024 * 1024,
    min: 1,
    group: SPOOL,
  },
  {
    key: 'maxFilesInFlight',
    flag: '--max-files-in-flight <n>',
    description: 'files read and not yet acknowledged by Kafka (memory is about this times the file size)',
    type: 'integer',
    default: 4,
    min: 1,
    max: 1000,
    group: SPOOL,
  },
  ...KAFKA_OPTIONS,
  {
    key: 'createTopic',
    flag: '--create-topic',
    description: 'create the topic and the dead-letter topic if missing (an existing topic is left as it is)',
    type: 'boolean',
    default: false,
    group: TOPIC,
  },
  { key: 'partitions', flag: '--partitions <n>', description: 'partitions of topics made by --create-topic', type: 'integer', default: 3, min: 1, group: TOPIC },
  {
    key: 'replicationFactor',
    flag: '--replication-factor <n>',
    description: 'replication factor of topics made by --create-topic',
    type: 'integer',
    default: 1,
    min: 1,
    group: TOPIC,
  },
  {
    key: 'dlqTopic',
    flag: '--dlq-topic <name>',
    description: 'dead-letter topic: single users that fail the schema or have no login.uuid, with the reason in header userpipe-error',
    type: 'string',
    defaultLabel: '<topic>.dlq',
    group: TOPIC,
  },
  {
    key: 'messageFormat',
    flag: '--message-format <format>',
    description: 'user: one message per user, key login.uuid; response: one message per API response, as the Flume agent sent it',
    type: 'enum',
    choices: ['user', 'response'],
    default: 'user',
    group: TOPIC,
  },
  {
    key: 'acks',
    flag: '--acks <acks>',
    description: 'all: every in-sync replica has the data before a file is marked done; 1: the leader only; 0: no confirmation at all (refused with --delete-completed)',
    type: 'enum',
    choices: ['all', '1', '0'],
    default: 'all',
    group: PRODUCER,
  },
  {
    key: 'idempotent',
    flag: '--no-idempotent',
    description: 'turn off the idempotent producer (on by default with --acks all: retries inside the client write no duplicates)',
    type: 'boolean',
    defaultLabel: 'on with --acks all',
    group: PRODUCER,
  },
  {
    key: 'kafkaCompression',
    flag: '--compression <codec>',
    runAllFlag: '--kafka-compression <codec>',
    description: 'compression of Kafka record batches (the original Flume agent used snappy)',
    type: 'enum',
    choices: [...COMPRESSIONS],
    default: 'snappy',
    group: PRODUCER,
  },
  {
    key: 'linger',
    flag: '--linger <duration>',
    description: 'wait this long for more messages before sending a partial batch',
    type: 'duration',
    default: 5,
    group: PRODUCER,
  },
  {
    key: 'batchSize',
    flag: '--batch-size <size>',
    description: 'bytes of messages per send (the client splits a send into requests the broker accepts)',
    type: 'size',
    default: 1024 * 1024,
    min: 1,
    group: PRODUCER,
  },
  {
    key: 'batchMessages',
    flag: '--batch-messages <n>',
    description: 'messages per send',
    type: 'integer',
    default: 5000,
    min: 1,
    group: PRODUCER,
  },
  {
    key: 'maxMessagesInFlight',
    flag: '--max-messages-in-flight <n>',
    description: 'messages made from files and not yet acknowledged by Kafka',
    type: 'integer',
    default: 20_000,
    min: 1,
    group: PRODUCER,
  },
  ...PROGRESS_OPTIONS,
];

export interface IngestConfig {
  spoolDir: string;
  quarantineDir: string;
  completion: Completion;
  once: boolean;
  pollIntervalMs: number;
  settleTimeMs: number;
  maxFileSize: number;
  maxFilesInFlight: number;
  topic: string;
  dlqTopic: string;
  createTopic?: { partitions: number; replicationFactor: number };
  format: MessageFormat;
  acks: Acks;
  idempotent: boolean;
  compression: Compression;
  lingerMs: number;
  batchBytes: number;
  batchMessages: number;
  maxMessagesInFlight: number;
}

/** Resolved option values -> IngestConfig. Throws ConfigError (exit 2) for combinations that make no sense. */
export function parseIngestConfig(values: OptionValues): IngestConfig {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' && values[k] !== '' ? (values[k] as string) : undefined);
  const num = (k: string, d: number): number => (typeof values[k] === 'number' ? (values[k] as number) : d);
  const dataDir = str('dataDir') ?? './userpipe-data';
  const topic = str('topic') ?? 'user_logs';
  const dlqTopic = str('dlqTopic') ?? `${topic}.dlq`;
  if (dlqTopic === topic) throw new ConfigError('--dlq-topic must differ from --topic', { key: 'dlqTopic' });
  const acks = parseAcks(str('acks') ?? 'all');
  const deleteCompleted = values.deleteCompleted === true;
  const doneDir = str('doneDir');
  if (deleteCompleted && doneDir) throw new ConfigError('--delete-completed and --done-dir exclude each other', { key: 'doneDir' });
  if (deleteCompleted && acks === 0) {
    throw new ConfigError('--acks 0 with --delete-completed could lose data: with acks 0 nothing confirms that Kafka has it before the file is deleted', {
      key: 'acks',
    });
  }
  let idempotent: boolean;
  try {
    idempotent = resolveIdempotent(acks, typeof values.idempotent === 'boolean' ? values.idempotent : undefined);
  } catch {
    throw new ConfigError('the idempotent producer needs --acks all (or pass --no-idempotent)', { key: 'idempotent' });
  }
  const spoolDir = resolveSpoolDir(values);
  return {
    spoolDir,
    quarantineDir: str('quarantineDir') ?? join(dataDir, 'quarantine'),
    completion: deleteCompleted ? { mode: 'delete' } : doneDir ? { mode: 'move', dir: doneDir } : { mode: 'rename' },
    once: values.ingestOnce === true,
    pollIntervalMs: num('ingestPollInterval', 1000),
    settleTimeMs: num('settleTime', 2000),
    maxFileSize: num('maxFileSize', 16 * 1024 * 1024),
    maxFilesInFlight: num('maxFilesInFlight', 4),
    topic,
    dlqTopic,
    ...(values.createTopic === true
      ? { createTopic: { partitions: num('partitions', 3), replicationFactor: num('replicationFactor', 1) } }
      : {}),
    format: values.messageFormat === 'response' ? 'response' : 'user',
    acks,
    idempotent,
    compression: (str('kafkaCompression') ?? 'snappy') as Compression,
    lingerMs: num('linger', 5),
    batchBytes: num('batchSize', 1024 * 1024),
    batchMessages: num('batchMessages', 5000),
    maxMessagesInFlight: num('maxMessagesInFlight', 20_000),
  };
}
