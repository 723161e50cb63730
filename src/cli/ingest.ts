/**
 * `userpipe ingest`: spool directory -> Kafka, with Flume spooldir semantics and nothing lost.
 * Thin on purpose: options -> IngestConfig -> Kafka clients -> ingest stage -> exit code.
 */
import { EXIT, type CommandContext } from './context.ts';
import { INGEST_OPTIONS, parseIngestConfig, type IngestConfig } from './ingest-options.ts';
import { describeBrokers, kafkaConnection } from './kafka-connection.ts';
import type { OptionValues } from './option-spec.ts';
import type { CommandDefinition } from './program.ts';
import { runIngestStage, type IngestLog, type IngestStageOptions } from '../stages/ingest.ts';
import { isAbortError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

export { INGEST_OPTIONS, parseIngestConfig, type IngestConfig } from './ingest-options.ts';

/** IngestConfig + a log -> the stage's options (run-all passes its own log). */
export function ingestStageOptions(c: IngestConfig, log: IngestLog): IngestStageOptions {
  return {
    log,
    topic: c.topic,
    dlqTopic: c.dlqTopic,
    format: c.format,
    maxMessagesInFlight: c.maxMessagesInFlight,
    maxBatchMessages: c.batchMessages,
    maxBatchBytes: c.batchBytes,
    lingerMs: c.lingerMs,
    maxInFlightBatches: 1,
    ...(c.createTopic ? { createTopic: c.createTopic } : {}),
    spool: {
      dir: c.spoolDir,
      completion: c.completion,
      quarantineDir: c.quarantineDir,
      settleTimeMs: c.settleTimeMs,
      pollIntervalMs: c.pollIntervalMs,
      once: c.once,
      maxFilesInFlight: c.maxFilesInFlight,
      maxFileSize: c.maxFileSize,
    },
  };
}

/**
 * Run ingest until the spool directory is drained (`--once`) or a signal stops it. Resolves with the exit code:
 * 0 when --once finished (quarantined files and dead-lettered users included: bad input is not a failure),
 * 130 when stopped by a signal. Throws ConfigError for bad options (exit 2) and a PipelineError when Kafka
 * fails for good (auth, unknown topic: exit 1); nothing is marked done that Kafka did not acknowledge.
 */
export async function runIngest(options: OptionValues, ctx: CommandContext): Promise<number> {
  const config = parseIngestConfig(options);
  const connection = await kafkaConnection(options, ctx.env);
  const log = ctx.log.child('ingest');
  logStart(log, config, describeBrokers(connection));
  // Loaded on use: the Kafka client is large (see log-factory.ts).
  const { openIngestKafka } = await import('./ingest-kafka.ts');
  const kafka = await openIngestKafka(
    connection,
    { topic: config.topic, acks: config.acks, idempotent: config.idempotent, compression: config.compression },
    log,
  );
  const started = Date.now();
  try {
    ctx.startProgress(['ingest']);
    let result;
    try {
      result = await runIngestStage(ingestStageOptions(config, kafka), ctx.lifecycle, ctx.stats, log);
    } catch (err) {
      // Stopped by a signal while still waiting for Kafka at start: an interruption, not a failure.
      if (ctx.lifecycle.stop.aborted && isAbortError(err)) return EXIT.INTERRUPTED;
      throw err;
    }
    const c = ctx.stats.stage('ingest');
    log.info('ingest finished', {
      files: result.filesDone,
      quarantined: result.filesQuarantined,
      users: c.in,
      sent: c.out,
      errors: c.errors,
      retries: c.retries,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    });
  } finally {
    await kafka.close();
  }
  return ctx.lifecycle.stop.aborted ? EXIT.INTERRUPTED : EXIT.OK;
}

function logStart(log: Logger, c: IngestConfig, brokers: string): void {
  log.info('ingest started', {
    from: c.spoolDir,
    brokers,
    topic: c.topic,
    dlqTopic: c.dlqTopic,
    format: c.format,
    mode: c.once ? 'once' : 'watch',
    acks: String(c.acks),
    compression: c.compression,
    done: c.completion.mode === 'move' ? c.completion.dir : c.completion.mode,
  });
  if (c.acks === 0) {
    log.warn('--acks 0: files are marked done without any confirmation from Kafka; a broker failure can lose their data (the .COMPLETED files keep a copy)');
  }
}

export const ingestCommand: CommandDefinition = {
  name: 'ingest',
  summary: 'send spool files to Kafka (Flume spooldir semantics), marking each file done only once Kafka has it all',
  description: [
    'Read the spool dir oldest first: files userpipe fetch wrote are taken at once; files from other writers once ' +
      'unchanged for --settle-time; hidden, *.tmp and *.COMPLETED files never. A file holds one API response (JSON) ' +
      'or NDJSON (one response or one user per line). By default each user becomes one message, key login.uuid, ' +
      'value its JSON, with headers userpipe-fetched-at, -seq, -source and -index, from which later stages derive ' +
      'unique, deterministic timestamps; --message-format response sends each response whole, as the Flume agent did.',
    'Delivery: a file is renamed to <name>.COMPLETED (or deleted, or moved to --done-dir) only after Kafka ' +
      'acknowledged every message from it (--acks all by default, idempotent producer). A crash before that sends the ' +
      'file again on restart: at-least-once, duplicates possible, never a loss. While Kafka is unreachable ingest ' +
      'waits with bounded backoff and logs one line when it goes and one when it is back.',
    'Bad input never stops ingest: a file that is not JSON, empty, not UTF-8, over --max-file-size or of the wrong ' +
      'shape moves to --quarantine-dir with <name>.error.json (reason, line, byte); a single user that fails the ' +
      'schema or has no login.uuid goes to --dlq-topic with the reason in header userpipe-error.',
    'Exit: 0 when --once has sent everything (quarantined input included), 1 when Kafka fails for good (bad ' +
      'credentials, unknown topic without --create-topic), 2 for bad options, 130 when stopped by a signal.',
  ].join('\n\n'),
  examples: [
    'userpipe ingest                                  # watch ./userpipe-data/spool, send to localhost:9092 user_logs',
    'userpipe ingest --once --create-topic --topic user_logs --partitions 3   # for cron',
    'userpipe ingest --brokers k1:9093,k2:9093 --tls-ca-file ca.pem --sasl-mechanism scram-sha-512 --sasl-username ingest --sasl-password-file /run/secrets/kafka',
    'userpipe ingest --message-format response --compression snappy   # messages as the original Flume agent sent them',
    'userpipe ingest --spool-dir /data/incoming --settle-time 10s --done-dir /data/sent',
  ],
  specs: INGEST_OPTIONS,
  action: runIngest,
};
