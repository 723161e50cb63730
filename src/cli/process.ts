/**
 * `userpipe process`: Kafka -> InfluxDB (or line-protocol files). Options -> ProcessStageOptions -> stage.
 * run-all reuses PROCESS_OPTIONS, `processStageOptions` and `runProcessStage`.
 */
import { readFileSync } from 'node:fs';
import type { MessageLog } from '../clients/message-log.ts';
import { InfluxWriter } from '../clients/influx-writer.ts';
import { ConfigError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { LpFileWriter } from '../sinks/lp-files.ts';
import type { PointWriter } from '../sinks/point-writer.ts';
import { runProcessStage, type ProcessStageOptions } from '../stages/process.ts';
import { validateMeasurement } from '../transforms/line-protocol.ts';
import { EXIT, type CommandContext } from './context.ts';
import { openKafkaLog } from './log-factory.ts';
import type { OptionSpec, OptionValues } from './option-spec.ts';
import type { CommandDefinition } from './program.ts';
import { KAFKA_OPTIONS, PROGRESS_OPTIONS } from './shared-options.ts';

const G = 'Process:';
const I = 'InfluxDB:';

/** Options of `process` (and of run-all's process part). Keys are unique across commands. */
export const PROCESS_OPTIONS: OptionSpec[] = [
  {
    key: 'processGroup',
    flag: '--group <id>',
    runAllFlag: '--process-group <id>',
    description: 'Kafka consumer group of the process stage',
    type: 'string',
    default: 'userpipe-process',
    group: G,
  },
  {
    key: 'processStart',
    flag: '--start <where>',
    runAllFlag: '--process-start <where>',
    description: 'where to start reading: the group\'s committed offsets (else earliest), earliest or latest',
    type: 'enum',
    choices: ['committed', 'earliest', 'latest'],
    default: 'committed',
    group: G,
  },
  {
    key: 'processDlqTopic',
    flag: '--dlq-topic <name>',
    runAllFlag: '--process-dlq-topic <name>',
    description: 'dead-letter topic for invalid users and points InfluxDB refuses',
    type: 'string',
    defaultLabel: '<topic>.dlq',
    group: G,
  },
  { key: 'measurement', flag: '--measurement <name>', description: 'InfluxDB measurement', type: 'string', default: 'users', group: G },
  {
    key: 'dedupeWindow',
    flag: '--dedupe-window <n>',
    description: 'skip a user whose login.uuid is among the last n seen (0 = off)',
    type: 'integer',
    default: 100_000,
    min: 0,
    max: 10_000_000,
    group: G,
  },
  {
    key: 'processBatchSize',
    flag: '--batch-size <lines>',
    runAllFlag: '--process-batch-size <lines>',
    description: 'points per write request',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 100_000,
    group: G,
  },
  {
    key: 'processBatchBytes',
    flag: '--batch-bytes <size>',
    runAllFlag: '--process-batch-bytes <size>',
    description: 'uncompressed bytes per write request',
    type: 'size',
    default: 8 * 1024 * 1024,
    min: 1024,
    group: G,
  },
  {
    key: 'flushInterval',
    flag: '--flush-interval <duration>',
    description: 'write a partial batch this long after its first point',
    type: 'duration',
    default: 1000,
    min: 1,
    group: G,
  },
  {
    key: 'processMaxInFlight',
    flag: '--max-in-flight <n>',
    runAllFlag: '--process-max-in-flight <n>',
    description: 'write requests at once',
    type: 'integer',
    default: 2,
    min: 1,
    max: 64,
    group: G,
  },
  {
    key: 'lpDir',
    flag: '--lp-dir <dir>',
    description: 'write line-protocol files into this directory instead of InfluxDB',
    type: 'string',
    group: G,
  },
  { key: 'processOnce', flag: '--once', description: 'process up to the end offsets seen at start, write, commit, exit', type: 'boolean', default: false, group: G },
  { key: 'influxUrl', flag: '--influx-url <url>', description: 'InfluxDB base URL (1.8+, 2.x, 3.x, Cloud)', type: 'string', env: ['INFLUX_HOST'], group: I },
  { key: 'influxOrg', flag: '--influx-org <org>', description: 'organization (2.x/Cloud; ignored by 1.8)', type: 'string', env: ['INFLUX_ORG'], group: I },
  {
    key: 'influxBucket',
    flag: '--influx-bucket <bucket>',
    description: 'bucket; on 1.8 "database" or "database/retention-policy"',
    type: 'string',
    default: 'userpipe',
    env: ['INFLUX_BUCKET'],
    group: I,
  },
  {
    key: 'influxToken',
    flag: '--influx-token <token>',
    description: 'API token (1.8 with auth: "user:password"); prefer the environment or --influx-token-file',
    type: 'string',
    env: ['INFLUX_TOKEN'],
    secret: true,
    group: I,
  },
  { key: 'influxTokenFile', flag: '--influx-token-file <file>', description: 'file holding the API token', type: 'string', group: I },
  { key: 'influxTimeout', flag: '--influx-timeout <duration>', description: 'per write request', type: 'duration', default: 30_000, min: 1, group: I },
  {
    key: 'influxMaxWait',
    flag: '--influx-max-wait <duration>',
    description: 'how long one batch waits out InfluxDB errors (429, 5xx, unreachable) before the stage fails',
    type: 'duration',
    default: 600_000,
    min: 1,
    group: I,
  },
];

/** The token: `--influx-token-file` if given (the explicit choice), else INFLUX_TOKEN / the flag. */
function influxToken(v: OptionValues): string | undefined {
  const file = v.influxTokenFile as string | undefined;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read --influx-token-file ${file}: ${errorMessage(err)}`, { key: 'influxTokenFile' });
    }
    // Files written by `echo token > file` end with a newline that is not part of the token.
    const token = text.replace(/\r?\n$/, '');
    if (token === '') throw new ConfigError(`--influx-token-file ${file} is empty`, { key: 'influxTokenFile' });
    return token;
  }
  const token = v.influxToken as string | undefined;
  return token === '' ? undefined : token;
}

/**
 * The destination the options name: InfluxDB (`--influx-url` / INFLUX_HOST) or line-protocol files
 * (`--lp-dir`, or `fallbackLpDir` for run-all's embedded default). Exactly one must be named (exit 2 otherwise).
 * Checked before anything connects; the writer itself is built by the stage (it needs the stage's retry hook).
 */
export function processWriterFactory(v: OptionValues, fallbackLpDir?: string): ProcessStageOptions['makeWriter'] {
  const url = v.influxUrl as string | undefined;
  const lpDir = (v.lpDir as string | undefined) ?? (url ? undefined : fallbackLpDir);
  if (url && lpDir) throw new ConfigError('give either --influx-url (INFLUX_HOST) or --lp-dir, not both', { key: 'lpDir' });
  if (!url && !lpDir) {
    throw new ConfigError('process needs a destination: --influx-url (or INFLUX_HOST) for InfluxDB, or --lp-dir for line-protocol files', {
      key: 'influxUrl',
    });
  }
  const measurement = v.measurement as string;
  if (lpDir) {
    const prefix = /^[A-Za-z0-9._-]+$/.test(measurement) ? measurement : 'points';
    new LpFileWriter({ dir: lpDir, prefix }); // validate now (exit 2), not when the first batch is due
    return () => new LpFileWriter({ dir: lpDir, prefix });
  }
  const influx = {
    url: url as string,
    bucket: v.influxBucket as string,
    timeoutMs: v.influxTimeout as number,
    retry: { maxElapsedMs: v.influxMaxWait as number },
    ...(v.influxOrg ? { org: v.influxOrg as string } : {}),
  };
  const token = influxToken(v);
  new InfluxWriter({ ...influx, ...(token === undefined ? {} : { token }) }); // validates URL, bucket, token
  return ({ onRetry }): PointWriter => new InfluxWriter({ ...influx, ...(token === undefined ? {} : { token }), onRetry });
}

export function processStageOptions(v: OptionValues, log: MessageLog, fallbackLpDir?: string): ProcessStageOptions {
  const measurement = v.measurement as string;
  validateMeasurement(measurement);
  const topic = v.topic as string;
  return {
    log,
    makeWriter: processWriterFactory(v, fallbackLpDir),
    topic,
    dlqTopic: (v.processDlqTopic as string | undefined) || `${topic}.dlq`,
    group: v.processGroup as string,
    start: v.processStart as ProcessStageOptions['start'],
    measurement,
    dedupeWindow: v.dedupeWindow as number,
    batchSize: v.processBatchSize as number,
    batchBytes: v.processBatchBytes as number,
    flushIntervalMs: v.flushInterval as number,
    maxInFlight: v.processMaxInFlight as number,
    once: v.processOnce === true,
  };
}

function destination(v: OptionValues): string {
  if (v.lpDir) return `line-protocol files in ${v.lpDir as string}`;
  const org = v.influxOrg ? ` org ${v.influxOrg as string}` : '';
  return `InfluxDB ${new URL(v.influxUrl as string).origin} bucket ${v.influxBucket as string}${org}`;
}

async function processAction(v: OptionValues, ctx: CommandContext): Promise<number> {
  // Options are checked (exit 2) before Kafka is contacted.
  const log: Logger = ctx.log.child('process');
  const kafka = await openKafkaLog(v, ctx.env, ctx.log);
  try {
    const options = processStageOptions(v, kafka);
    ctx.log.info('process starting', {
      from: `${kafka.description} topic ${options.topic}`,
      to: destination(v),
      group: options.group,
      start: options.start,
      dlq: options.dlqTopic,
      once: options.once,
    });
    const progress = ctx.startProgress(['process']);
    let result;
    try {
      result = await runProcessStage(options, ctx.lifecycle, ctx.stats, log);
    } finally {
      progress.stop();
    }
    ctx.log.info('process done', {
      users: result.users,
      written: result.written,
      deadLettered: result.deadLettered,
      duplicates: result.duplicates,
      ...(result.abandoned > 0 ? { notWritten: result.abandoned } : {}),
    });
    return EXIT.OK;
  } finally {
    await kafka.close();
  }
}

export const PROCESS_COMMAND: CommandDefinition = {
  name: 'process',
  summary: 'write the users of a Kafka topic to InfluxDB as points (or to line-protocol files)',
  description:
    'Replaces the Spark job. Reads both message formats of ingest (one user per message, or a whole response), ' +
    'validates each user (invalid ones go to the DLQ topic with the reason), skips a login.uuid seen among the ' +
    'last --dedupe-window users, and writes one point per user to /api/v2/write (InfluxDB 1.8+, 2.x, 3.x, Cloud) ' +
    'in gzip batches. Tags are low-cardinality only (gender, nat, country, state); uuid, email, names, city, ' +
    'phone are fields; postcode is always a string. Each point\'s timestamp comes from the fetch time and the ' +
    'user\'s position, so a redelivered user overwrites its own point. 429/5xx are retried (Retry-After honoured) ' +
    'while reading pauses; refused lines are isolated and dead-lettered with InfluxDB\'s message; a rejected ' +
    'token or a missing bucket/database stops with exit 1. Offsets are committed only for users written or ' +
    'dead-lettered. Line breaks in strings are written as one space (line protocol cannot carry them).',
  examples: [
    'INFLUX_HOST=http://127.0.0.1:8086 userpipe process --influx-bucket userpipe',
    'INFLUX_TOKEN=... userpipe process --influx-url https://eu-central-1-1.aws.cloud2.influxdata.com --influx-org acme',
    'userpipe process --once --start earliest --group replay-1 --influx-url http://127.0.0.1:8086',
    'userpipe process --lp-dir ./lp --once',
  ],
  specs: [...KAFKA_OPTIONS, ...PROCESS_OPTIONS, ...PROGRESS_OPTIONS],
  action: processAction,
};
