/**
 * `userpipe run-all`: fetch, ingest, archive and process in one process. Each part talks to the real system
 * when the user names it (--brokers, --hdfs-url, --influx-url, in flags, env or config file) and otherwise to
 * an embedded stand-in: an in-process bounded log instead of Kafka, local files instead of HDFS and InfluxDB.
 * The order of start and stop lives in stages/run-all.ts; this file resolves options and builds the parts.
 */
import { join } from 'node:path';
import { MemoryLog } from '../clients/memory-log.ts';
import type { MessageLog } from '../clients/message-log.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import { SpoolFileSink } from '../sinks/spool-files.ts';
import { openFetchStage } from '../sources/fetch-stage.ts';
import { runArchiveStage } from '../stages/archive.ts';
import { fromMessageLog, runIngestStage } from '../stages/ingest.ts';
import { runProcessStage } from '../stages/process.ts';
import { runPipeline } from '../stages/run-all.ts';
import { ARCHIVE_OPTIONS, archiveFsFromOptions, archiveStageOptions } from './archive.ts';
import { EXIT, type CommandContext } from './context.ts';
import { FETCH_OPTIONS, parseFetchConfig } from './fetch.ts';
import { INGEST_OPTIONS, ingestStageOptions, parseIngestConfig } from './ingest.ts';
import { openKafkaLog } from './log-factory.ts';
import { startMetricsServer } from './metrics-server.ts';
import type { OptionSpec, OptionValues } from './option-spec.ts';
import { PROCESS_OPTIONS, processStageOptions } from './process.ts';
import type { CommandDefinition } from './program.ts';
import { KAFKA_OPTIONS, PROGRESS_OPTIONS } from './shared-options.ts';

/** Stage options that make no sense inside run-all: it ends by itself when fetch ends and all is drained. */
const EXCLUDED = new Set(['ingestOnce', 'once', 'processOnce', 'fetchStdout']);

/** Defaults that differ in run-all. Undefined = "not named", which selects the embedded stand-in. */
const OVERRIDES: Record<string, Partial<OptionSpec>> = {
  brokers: { default: undefined, defaultLabel: 'none: an in-process bounded log' },
  // Files close soon after input pauses, so a drain (or a stop) does not wait for a 10-minute roll.
  idleTimeout: { default: 5_000 },
  rollCount: { default: undefined, defaultLabel: 'half the in-process log capacity with it, else 0 (off)' },
  hdfsUrl: { defaultLabel: 'none: files under <data-dir>/archive' },
  influxUrl: { defaultLabel: '$INFLUX_HOST, else none: line protocol under <data-dir>/influx' },
  // The source's pace keeps fetch's own flag names: they are what run-all is driven by.
  fetchSource: { runAllFlag: '--source <source>' },
  fetchInterval: { runAllFlag: '--interval <duration>' },
  fetchCount: { runAllFlag: '--count <n>' },
  fetchOnce: { runAllFlag: '--once', description: 'one request (with its retries), then drain everything and exit: for cron' },
};

const RUN_ALL_OWN: OptionSpec[] = [
  {
    key: 'drainTimeout',
    flag: '--drain-timeout <duration>',
    description: 'after SIGINT/SIGTERM, abort if draining takes longer than this',
    type: 'duration',
    default: 30_000,
  },
  {
    key: 'metricsPort',
    flag: '--metrics-port <port>',
    description: 'serve Prometheus /metrics, /healthz and /readyz on 127.0.0.1:<port>',
    type: 'integer',
    min: 0,
    max: 65535,
  },
  {
    key: 'memoryLogCapacity',
    flag: '--memory-log-capacity <n>',
    description: 'records the in-process log holds before ingest waits (used without --brokers)',
    type: 'integer',
    default: 20_000,
    min: 100,
  },
];

function runAllSpecs(): OptionSpec[] {
  const seen = new Set<string>();
  const out: OptionSpec[] = [];
  const byStage: Array<[string | undefined, OptionSpec[]]> = [
    ['fetch', FETCH_OPTIONS],
    [undefined, KAFKA_OPTIONS],
    ['ingest', INGEST_OPTIONS],
    ['archive', ARCHIVE_OPTIONS],
    ['process', PROCESS_OPTIONS],
    [undefined, [...RUN_ALL_OWN, ...PROGRESS_OPTIONS]],
  ];
  for (const [stage, specs] of byStage) {
    for (const spec of specs) {
      if (seen.has(spec.key) || EXCLUDED.has(spec.key)) continue;
      seen.add(spec.key);
      // A stage's section of the config file applies to its options in run-all too.
      out.push({ ...spec, ...(stage ? { stage } : {}), ...OVERRIDES[spec.key] });
    }
  }
  return out;
}

async function runAllAction(v: OptionValues, ctx: CommandContext): Promise<number> {
  const dataDir = v.dataDir as string;
  const topic = v.topic as string;
  const embeddedKafka = v.brokers === undefined;
  const log = ctx.log;
  const values: OptionValues = {
    ...v,
    brokers: v.brokers ?? ['in-process'],
    // An archive file holds its records uncommitted until it closes: in the bounded in-process log it must
    // close before the log fills up, or ingest would wait for the idle timeout.
    rollCount: v.rollCount ?? (embeddedKafka ? Math.floor((v.memoryLogCapacity as number) / 2) : 0),
    fetchStdout: false,
    ingestOnce: false,
    once: false,
    processOnce: false,
  };

  // Everything is checked before anything starts (exit 2 on a bad option).
  const fetchConfig = parseFetchConfig(values);
  const ingestConfig = parseIngestConfig(values);
  const archiveFs = archiveFsFromOptions(values, ctx.lifecycle.abort, log, join(dataDir, 'archive'));

  const lifecycle = new Lifecycle({ parent: ctx.lifecycle, drainTimeoutMs: v.drainTimeout as number });
  const messageLog: MessageLog = embeddedKafka
    ? new MemoryLog({
        capacity: v.memoryLogCapacity as number,
        dir: join(dataDir, 'log'),
        spillDir: join(dataDir, 'dead-letter'),
        groups: { [topic]: [values.archiveGroup as string, values.processGroup as string] },
      })
    : await openKafkaLog(values, ctx.env, log, {
        acks: ingestConfig.acks,
        idempotent: ingestConfig.idempotent,
        compression: ingestConfig.compression,
      });
  const processOptions = processStageOptions(values, messageLog, join(dataDir, 'influx'));
  const archiveOptions = archiveStageOptions(values, messageLog, archiveFs);
  const ingestOptions = ingestStageOptions(ingestConfig, fromMessageLog(messageLog));
  if (!embeddedKafka) {
    ingestOptions.createTopic ??= { partitions: (v.partitions as number | undefined) ?? 1, replicationFactor: (v.replicationFactor as number | undefined) ?? 1 };
  }

  announce(log, {
    fetch: `${fetchConfig.source === 'synthetic' ? 'synthetic users' : fetchConfig.apiUrl} -> spool ${fetchConfig.spoolDir}`,
    ingest: `spool ${ingestConfig.spoolDir} -> ${messageLog.description}, topic ${topic}`,
    archive: `${messageLog.description} -> ${archiveFs.description}, path ${archiveOptions.pathTemplate}`,
    process: `${messageLog.description} -> ${v.influxUrl ? `InfluxDB ${v.influxUrl as string}, bucket ${v.influxBucket as string}` : `line protocol under ${(v.lpDir as string | undefined) ?? join(dataDir, 'influx')}`}`,
  });

  let ready = false;
  const metrics =
    v.metricsPort === undefined ? undefined : await startMetricsServer({ port: v.metricsPort as number, stats: ctx.stats, ready: () => ready });
  if (metrics) log.info('metrics', { url: `http://127.0.0.1:${metrics.port}/metrics` });
  const progress = ctx.startProgress(['fetch', 'ingest', 'archive', 'process']);
  try {
    await runPipeline(
      {
        log: messageLog,
        topic,
        spoolDir: ingestConfig.spoolDir,
        fetch: async (lc) => {
          const counters = ctx.stats.stage('fetch');
          const spool = new SpoolFileSink({ dir: fetchConfig.spoolDir, log: log.child('fetch'), counters });
          await spool.init();
          const stage = await openFetchStage(fetchConfig, { log: log.child('fetch'), counters });
          try {
            await spool.write(stage.source.read(lc.stop), lc.abort);
          } finally {
            await stage.close();
          }
        },
        ingest: async (lc) => {
          await runIngestStage(ingestOptions, lc, ctx.stats, log.child('ingest'));
        },
        consumers: [
          (lc, endOffsets) => runArchiveStage({ ...archiveOptions, endOffsets }, lc, ctx.stats, log.child('archive')),
          async (lc, endOffsets) => {
            await runProcessStage({ ...processOptions, endOffsets, commitIntervalMs: 500 }, lc, ctx.stats, log.child('process'));
          },
        ],
        onStarted: () => {
          ready = true;
        },
      },
      lifecycle,
      log,
    );
  } finally {
    progress.stop();
    lifecycle.dispose();
    await messageLog.close();
    await metrics?.close();
    process.stderr.write(progress.summary());
  }
  return lifecycle.abort.aborted ? EXIT.INTERRUPTED : EXIT.OK;
}

function announce(log: Logger, parts: Record<string, string>): void {
  for (const [part, where] of Object.entries(parts)) log.info(`${part}: ${where}`);
}

export const RUN_ALL_COMMAND: CommandDefinition = {
  name: 'run-all',
  summary: 'run fetch, ingest, archive and process together, with embedded stand-ins for what is not named',
  description:
    'The whole pipeline in one process: fetch -> spool dir -> ingest -> Kafka -> { archive -> HDFS, process -> InfluxDB }. ' +
    'Without --brokers an in-process bounded log replaces Kafka; without --hdfs-url the archive goes under ' +
    '<data-dir>/archive; without --influx-url (or INFLUX_HOST) the points go to line-protocol files under ' +
    '<data-dir>/influx. Each part switches to the real system on its own. The run ends by itself when fetch ' +
    'ends (--count, --max-users, --once) and everything is drained. SIGINT/SIGTERM stops fetching, drains, ' +
    'closes and renames open files, flushes, commits and exits 0 within --drain-timeout; a second signal ' +
    'aborts at once (nothing is lost: what was not committed is redone on the next start).',
  examples: [
    'userpipe run-all',
    'userpipe run-all --source synthetic --results 1000 --interval 0 --max-users 10000',
    'userpipe run-all --brokers localhost:9092 --hdfs-url http://localhost:9870 --influx-url http://localhost:8086 --metrics-port 9464',
  ],
  specs: runAllSpecs(),
  runAllFlags: true,
  action: runAllAction,
};
