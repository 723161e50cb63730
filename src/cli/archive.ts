import { join } from 'node:path';
import { WebHdfsClient, defaultHdfsUser } from '../clients/webhdfs.ts';
import { ConfigError } from '../core/errors.ts';
import { HdfsArchiveFs, LocalArchiveFs, type ArchiveFs } from '../sinks/archive-fs.ts';
import { runArchiveStage, type ArchiveStageOptions } from '../stages/archive.ts';
import type { Logger } from '../core/log.ts';
import type { MessageLog } from '../clients/message-log.ts';
import { checkPathTemplate } from '../transforms/archive-path.ts';
import { EXIT, type CommandContext } from './context.ts';
import { openKafkaLog } from './log-factory.ts';
import type { OptionSpec, OptionValues } from './option-spec.ts';
import type { CommandDefinition } from './program.ts';
import { KAFKA_OPTIONS, PROGRESS_OPTIONS } from './shared-options.ts';

const G = 'Archive:';

/** Options of `archive` (and of run-all's archive part). */
export const ARCHIVE_OPTIONS: OptionSpec[] = [
  {
    key: 'archiveGroup',
    flag: '--group <id>',
    runAllFlag: '--archive-group <id>',
    description: 'Kafka consumer group of the archive',
    type: 'string',
    default: 'userpipe-archive',
    group: G,
  },
  {
    key: 'archiveStart',
    flag: '--start <where>',
    runAllFlag: '--archive-start <where>',
    description: 'where a group without committed offsets starts',
    type: 'enum',
    choices: ['committed', 'earliest', 'latest'],
    default: 'committed',
    group: G,
  },
  {
    key: 'hdfsUrl',
    flag: '--hdfs-url <urls>',
    description: 'WebHDFS NameNode URL(s), comma-separated for HA (a standby or unreachable one is skipped)',
    type: 'list',
    group: G,
  },
  {
    key: 'hdfsUser',
    flag: '--hdfs-user <name>',
    description: 'HDFS user (user.name)',
    type: 'string',
    defaultLabel: '$HADOOP_USER_NAME, else the OS user',
    env: ['HADOOP_USER_NAME'],
    group: G,
  },
  {
    key: 'archiveDir',
    flag: '--archive-dir <dir>',
    description: 'write the same layout under this local directory instead of HDFS',
    type: 'string',
    group: G,
  },
  {
    key: 'archivePath',
    flag: '--path <template>',
    runAllFlag: '--archive-path <template>',
    description: 'path template: Flume escapes %Y %m %d %H %M %S, %{topic}, %{partition}; by event time, UTC',
    type: 'string',
    default: '/final_project/%Y-%m-%d/%H%M',
    group: G,
  },
  { key: 'filePrefix', flag: '--file-prefix <prefix>', description: 'file name prefix', type: 'string', default: 'events-', group: G },
  { key: 'round', flag: '--round <duration>', description: 'event times are rounded down to this for the path', type: 'duration', default: 600_000, group: G },
  { key: 'rollInterval', flag: '--roll-interval <duration>', description: 'close a file this long after it opened (0 = off)', type: 'duration', default: 600_000, group: G },
  { key: 'rollSize', flag: '--roll-size <size>', description: 'close a file at this many (uncompressed) bytes (0 = off)', type: 'size', default: 128 * 1024 * 1024, group: G },
  { key: 'rollCount', flag: '--roll-count <n>', description: 'close a file at this many records (0 = off)', type: 'integer', default: 0, min: 0, group: G },
  { key: 'idleTimeout', flag: '--idle-timeout <duration>', description: 'close a file with no new record for this long (0 = off)', type: 'duration', default: 0, group: G },
  {
    key: 'archiveCompression',
    flag: '--compression <codec>',
    runAllFlag: '--archive-compression <codec>',
    description: 'file compression (gzip writes .jsonl.gz)',
    type: 'enum',
    choices: ['none', 'gzip'],
    default: 'none',
    group: G,
  },
  {
    key: 'archiveDedupeWindow',
    flag: '--dedupe-window <n>',
    runAllFlag: '--archive-dedupe-window <n>',
    description: 'source files remembered per partition, to skip the copies ingest sends again after a crash (0 = off)',
    type: 'integer',
    default: 4096,
    min: 0,
    group: G,
  },
  { key: 'dataDir', flag: '--data-dir <dir>', description: 'local state (open files are buffered under <data-dir>/archive-buffer)', type: 'string', default: './userpipe-data', group: G },
  { key: 'once', flag: '--once', description: 'archive up to the end offsets seen at start, close all files, commit, exit', type: 'boolean', default: false },
];

/** Build the storage the options name: HDFS when `--hdfs-url` is set, else the local `--archive-dir`. */
export function archiveFsFromOptions(v: OptionValues, signal: AbortSignal, log: Logger, fallbackDir?: string): ArchiveFs {
  const urls = (v.hdfsUrl as string[] | undefined) ?? [];
  if (urls.length > 0) {
    const client = new WebHdfsClient({
      urls,
      user: (v.hdfsUser as string | undefined) ?? defaultHdfsUser(),
      signal,
      onNameNodeSkipped: (info) => log.debug('NameNode skipped', { ...info }),
    });
    return new HdfsArchiveFs(client, `HDFS ${urls.join(',')}`);
  }
  const dir = (v.archiveDir as string | undefined) ?? fallbackDir;
  if (!dir) throw new ConfigError('archive needs --hdfs-url (WebHDFS) or --archive-dir (local directory)', { key: 'hdfsUrl' });
  return new LocalArchiveFs(dir);
}

export function archiveStageOptions(v: OptionValues, log: MessageLog, fs: ArchiveFs): ArchiveStageOptions {
  const problem = checkPathTemplate(v.archivePath as string);
  if (problem) throw new ConfigError(`invalid --path: ${problem}`, { key: 'archivePath' });
  return {
    log,
    fs,
    topic: v.topic as string,
    group: v.archiveGroup as string,
    start: v.archiveStart as ArchiveStageOptions['start'],
    pathTemplate: v.archivePath as string,
    filePrefix: v.filePrefix as string,
    roundMs: v.round as number,
    rollIntervalMs: v.rollInterval as number,
    rollSizeBytes: v.rollSize as number,
    rollCount: v.rollCount as number,
    idleTimeoutMs: v.idleTimeout as number,
    gzip: v.archiveCompression === 'gzip',
    bufferDir: join(v.dataDir as string, 'archive-buffer'),
    once: v.once === true,
    dedupeWindow: v.archiveDedupeWindow as number,
  };
}

async function archiveAction(v: OptionValues, ctx: CommandContext): Promise<number> {
  const fs = archiveFsFromOptions(v, ctx.lifecycle.abort, ctx.log);
  const kafka = await openKafkaLog(v, ctx.env, ctx.log);
  const options = archiveStageOptions(v, kafka, fs);
  ctx.log.info('archive starting', { from: `${kafka.description} topic ${options.topic}`, to: fs.description, path: options.pathTemplate, group: options.group });
  const progress = ctx.startProgress(['archive']);
  try {
    await runArchiveStage(options, ctx.lifecycle, ctx.stats, ctx.log.child('archive'));
  } finally {
    await kafka.close();
    progress.stop();
  }
  const c = ctx.stats.stage('archive');
  ctx.log.info('archive done', { records: c.out, rejected: c.errors, bytes: c.bytes });
  return EXIT.OK;
}

export const ARCHIVE_COMMAND: CommandDefinition = {
  name: 'archive',
  summary: 'copy Kafka records into time-bucketed files on HDFS (WebHDFS) or local disk, each record exactly once',
  description:
    'Replaces the Flume Kafka->HDFS agent. Records are bucketed by their event time (the fetch time they carry, ' +
    'else the Kafka timestamp) into --path, written as one compact JSON line each. A file is "<name>.tmp" while ' +
    'open and renamed on close (roll interval, size, count, idle timeout, or a bucket change). Offsets are ' +
    'committed only for records whose file is renamed; after a crash the leftovers are removed and rewritten ' +
    'under the same names, so each record is archived exactly once. Messages that are not JSON or not UTF-8 go ' +
    'to <root>/_rejected/ with the reason. SIGINT/SIGTERM closes and renames open files, commits, exits 0.',
  examples: [
    'userpipe archive --hdfs-url http://namenode:9870 --brokers kafka:9092',
    'userpipe archive --once --hdfs-url http://nn1:9870,http://nn2:9870 --compression gzip',
    'userpipe archive --archive-dir ./archive --path "/%{topic}/%Y/%m/%d/%H" --round 1h',
  ],
  specs: [...KAFKA_OPTIONS, ...ARCHIVE_OPTIONS, ...PROGRESS_OPTIONS],
  action: archiveAction,
};
