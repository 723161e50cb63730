import type { LogConsumer, MessageLog } from '../clients/message-log.ts';
import type { Logger } from '../core/log.ts';
import type { Lifecycle } from '../core/lifecycle.ts';
import type { Stats } from '../core/stats.ts';
import type { ArchiveFs } from '../sinks/archive-fs.ts';
import { ArchiveWriter } from '../sinks/archive-writer.ts';
import { readRecords } from '../sources/log-reader.ts';

/** Everything the archive stage needs, resolved (no CLI types here: run-all and tests call this directly). */
export interface ArchiveStageOptions {
  log: MessageLog;
  fs: ArchiveFs;
  topic: string;
  group: string;
  start: 'committed' | 'earliest' | 'latest';
  pathTemplate: string;
  filePrefix: string;
  roundMs: number;
  rollIntervalMs: number;
  rollSizeBytes: number;
  rollCount: number;
  idleTimeoutMs: number;
  gzip: boolean;
  bufferDir: string;
  /** Archive up to the end offsets seen at start, close everything, commit, return. */
  once: boolean;
  /** Or stop at end offsets learnt later (run-all: once ingest has finished). */
  endOffsets?: () => Map<number, bigint> | undefined;
  /** Source files remembered per partition to skip the copies ingest sends again after a crash (0 = off). */
  dedupeWindow?: number;
}

/**
 * Kafka (or the in-process log) -> rolling files on HDFS or local disk. Returns after a soft stop (files
 * closed, renamed and committed) or, with `once`, when the end offsets seen at start are archived.
 * Throws on a fatal storage error (e.g. permission denied); waits through outages.
 */
export async function runArchiveStage(o: ArchiveStageOptions, lifecycle: Lifecycle, stats: Stats, logger: Logger): Promise<void> {
  const counters = stats.stage('archive');
  const holder: { consumer?: LogConsumer } = {};
  const writer = new ArchiveWriter({
    fs: o.fs,
    topic: o.topic,
    pathTemplate: o.pathTemplate,
    filePrefix: o.filePrefix,
    roundMs: o.roundMs,
    rollIntervalMs: o.rollIntervalMs,
    rollSizeBytes: o.rollSizeBytes,
    rollCount: o.rollCount,
    idleTimeoutMs: o.idleTimeoutMs,
    gzip: o.gzip,
    bufferDir: o.bufferDir,
    dedupeWindow: o.dedupeWindow ?? 4096,
    commit: async (offsets) => holder.consumer?.commit(offsets),
    log: logger,
    counters,
    signal: lifecycle.abort,
  });
  const consumer = await o.log.consumer({
    group: o.group,
    topic: o.topic,
    start: o.start,
    // Before partitions move to another member: close their files and commit, so the new owner resumes
    // exactly after what is archived.
    onRevoke: (parts) => writer.closeAll(parts.map((p) => p.partition)),
  });
  holder.consumer = consumer;
  stats.gauge('archive', { lag: () => consumer.lag() });
  const stopAt = o.once ? await o.log.endOffsets(o.topic) : o.endOffsets;
  const ticker = setInterval(() => {
    writer.tick().catch((err: unknown) => logger.error('timed roll failed', { error: err }));
  }, 1000);
  ticker.unref();
  try {
    for await (const record of readRecords(consumer, { stop: lifecycle.stop, stopAt })) {
      await writer.write(record);
    }
    await writer.closeAll();
    if (writer.duplicates > 0) logger.info('skipped copies of records ingest had sent twice', { duplicates: writer.duplicates });
  } finally {
    clearInterval(ticker);
    await consumer.close();
  }
}
