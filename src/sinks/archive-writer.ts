import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { CommitOffset, LogRecord } from '../clients/message-log.ts';
import type { Logger } from '../core/log.ts';
import { OutageReporter } from '../core/outage.ts';
import { retry } from '../core/retry.ts';
import type { StageCounters } from '../core/stats.ts';
import { archiveFileName, expandPath, IN_USE_SUFFIX, joinPath, roundDown, staticRoot } from '../transforms/archive-path.ts';
import { archiveLine } from '../transforms/archive-line.ts';
import { SourceWindow } from '../transforms/source-window.ts';
import type { ArchiveFs } from './archive-fs.ts';

const gzip = promisify(gzipCb);

/**
 * Rolls records into time-bucketed files, Flume HDFS-sink style, with each record archived exactly once.
 *
 * Per partition at most one file is open, so every file holds a contiguous run of offsets and the offset
 * safe to commit is simply the open file's first offset (or the last offset + 1 when none is open). A file
 * closes on a bucket change, roll size, roll count, roll interval or idle timeout; closing uploads it as
 * `<name>.tmp`, renames it to `<name>` and only then commits.
 *
 * Crash safety: before a file is created or renamed, a small per-partition journal in `<root>/_userpipe/`
 * names it. When a partition's first record arrives after a (re)start, every journalled file whose first
 * offset is at or after that record's offset holds uncommitted data about to be rewritten: it is deleted.
 * A file's name comes from its first offset, so rewriting yields the same names: no duplicate, no loss.
 *
 * Memory stays flat: an open file's bytes go to a local buffer file, never accumulate in memory; closing
 * streams that buffer with one CREATE (idempotent, so retried safely after a NameNode or DataNode outage).
 */
export interface ArchiveWriterOptions {
  fs: ArchiveFs;
  topic: string;
  pathTemplate: string;
  filePrefix: string;
  roundMs: number;
  rollIntervalMs: number;
  rollSizeBytes: number;
  /** 0 = off */
  rollCount: number;
  /** 0 = off */
  idleTimeoutMs: number;
  gzip: boolean;
  bufferDir: string;
  /** Commits offsets (next offset to read) once files are renamed. */
  commit: (offsets: CommitOffset[]) => Promise<void>;
  log: Logger;
  counters: StageCounters;
  signal: AbortSignal;
  now?: () => number;
  /** Local bytes buffered per open file before they are written to the buffer file. */
  flushBytes?: number;
  /** Source files remembered per partition to skip records ingest sent twice (0 = off). */
  dedupeWindow?: number;
}

interface OpenFile {
  dir: string;
  name: string;
  firstOffset: bigint;
  lastOffset: bigint;
  count: number;
  bytes: number;
  openedAt: number;
  lastWriteAt: number;
  pending: string[];
  pendingBytes: number;
  bufferPath: string;
  buffer: FileHandle;
  /** The partition's dedupe window as it was when this file opened (covers every offset before it). */
  windowAtOpen: WindowSnapshot;
}

interface PartitionState {
  open?: OpenFile;
  lastOffset?: bigint;
  recovered: boolean;
  window: SourceWindow;
  /** Where a restart would resume this partition: the last commit (or the first offset read). */
  resumeAt: bigint;
}

interface JournalEntry {
  path: string;
  first: string;
}

/** A dedupe window and the offset it is complete up to (every record before `upTo` is in it). */
interface WindowSnapshot {
  upTo: string;
  entries: Array<[string, number]>;
}

interface Journal {
  files?: JournalEntry[];
  /** Windows at two points: a restart resumes at one of them (the file's first offset, or after its last). */
  windows?: WindowSnapshot[];
}

export class ArchiveWriter {
  private readonly o: ArchiveWriterOptions;
  private readonly partitions = new Map<number, PartitionState>();
  private readonly root: string;
  private readonly now: () => number;
  private chain: Promise<void> = Promise.resolve();
  private readonly outage: OutageReporter;
  /** Records skipped as copies ingest sent twice. */
  duplicates = 0;

  constructor(options: ArchiveWriterOptions) {
    this.o = options;
    this.root = staticRoot(options.pathTemplate);
    this.now = options.now ?? Date.now;
    this.outage = new OutageReporter(
      options.log,
      { down: 'archive storage unavailable, waiting', up: 'archive storage available again', still: 'still waiting for archive storage' },
      () => ({ storage: options.fs.description }),
    );
  }

  /** Files currently open (for progress and tests). */
  get openFiles(): number {
    let n = 0;
    for (const p of this.partitions.values()) if (p.open) n += 1;
    return n;
  }

  /** Serialize every operation: records and timer-driven rolls never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  write(record: LogRecord): Promise<void> {
    return this.serial(() => this.writeNow(record));
  }

  /** Close files due to roll by time (interval, idle). Call about once a second. */
  tick(): Promise<void> {
    return this.serial(async () => {
      const now = this.now();
      for (const [partition, state] of this.partitions) {
        const f = state.open;
        if (!f) continue;
        const byInterval = this.o.rollIntervalMs > 0 && now - f.openedAt >= this.o.rollIntervalMs;
        const byIdle = this.o.idleTimeoutMs > 0 && now - f.lastWriteAt >= this.o.idleTimeoutMs;
        if (byInterval || byIdle) await this.close(partition, state, byInterval ? 'roll-interval' : 'idle-timeout');
      }
    });
  }

  /** Close every open file of these partitions (all when omitted) and commit: stop, revocation, --once. */
  closeAll(partitions?: readonly number[]): Promise<void> {
    return this.serial(async () => {
      for (const [partition, state] of this.partitions) {
        if (partitions && !partitions.includes(partition)) continue;
        if (state.open) await this.close(partition, state, 'stop');
        if (partitions) this.partitions.delete(partition);
      }
    });
  }

  private async writeNow(record: LogRecord): Promise<void> {
    let state = this.partitions.get(record.partition);
    if (!state) {
      state = { recovered: false, window: new SourceWindow(this.o.dedupeWindow ?? 0), resumeAt: record.offset };
      this.partitions.set(record.partition, state);
    }
    if (!state.recovered) {
      state.window = await this.recover(record.partition, record.offset);
      state.resumeAt = record.offset;
      state.recovered = true;
    }
    if (state.window.isDuplicate(record)) {
      // A copy ingest sent again after a crash: its first copy is archived (or in the open file) already.
      this.duplicates += 1;
      if (state.open) state.open.lastOffset = record.offset;
      return;
    }
    const { line, rejected } = archiveLine(record);
    const ctx = { topic: this.o.topic, partition: record.partition };
    const dir = rejected
      ? joinPath(this.root, '_rejected')
      : expandPath(this.o.pathTemplate, roundDown(eventTime(record), this.o.roundMs), ctx);
    if (state.open && state.open.dir !== dir) await this.close(record.partition, state, 'bucket-change');
    if (!state.open) state.open = await this.openFile(record.partition, dir, record.offset, state);
    const f = state.open;
    state.window.remember(record);
    f.pending.push(line);
    f.pendingBytes += line.length + 1;
    f.count += 1;
    f.bytes += Buffer.byteLength(line) + 1;
    f.lastOffset = record.offset;
    f.lastWriteAt = this.now();
    state.lastOffset = record.offset;
    this.o.counters.in += 1;
    if (rejected) this.o.counters.errors += 1;
    if (f.pendingBytes >= (this.o.flushBytes ?? 256 * 1024)) await this.flushLocal(f);
    if ((this.o.rollSizeBytes > 0 && f.bytes >= this.o.rollSizeBytes) || (this.o.rollCount > 0 && f.count >= this.o.rollCount)) {
      await this.close(record.partition, state, 'roll-size');
    }
  }

  private journalPath(partition: number): string {
    return joinPath(joinPath(this.root, '_userpipe'), `journal-${this.o.topic.replace(/[^A-Za-z0-9._-]/g, '_')}-${partition}.json`);
  }

  private async writeJournal(partition: number, entries: JournalEntry[], windows: WindowSnapshot[] = []): Promise<void> {
    const body = Buffer.from(JSON.stringify({ topic: this.o.topic, partition, files: entries, windows }) + '\n');
    await this.durable('journal', () => this.o.fs.create(this.journalPath(partition), body, this.o.signal));
  }

  /**
   * Delete what a crashed run left for this partition at or after the offset we resume from, and return the
   * dedupe window as it was at exactly that offset.
   */
  private async recover(partition: number, resumeFrom: bigint): Promise<SourceWindow> {
    const capacity = this.o.dedupeWindow ?? 0;
    const raw = await this.durable('journal', () => this.o.fs.read(this.journalPath(partition), this.o.signal));
    await this.removeLocalBuffers(partition);
    if (!raw) return new SourceWindow(capacity);
    let journal: Journal = {};
    try {
      journal = JSON.parse(raw.toString()) as Journal;
    } catch {
      this.o.log.warn('journal unreadable, ignoring it', { partition });
    }
    const entries = journal.files ?? [];
    const snapshot = journal.windows?.find((w) => w.upTo === String(resumeFrom));
    if (capacity > 0 && journal.windows?.length && !snapshot) {
      this.o.log.warn('dedupe window does not match the resume offset; starting with an empty one', { partition, resumeFrom });
    }
    for (const e of entries) {
      if (BigInt(e.first) < resumeFrom) continue;
      const deleted = await this.durable('delete', () => this.o.fs.delete(e.path, this.o.signal));
      if (deleted) this.o.log.info('removed file of an interrupted run; its records are being rewritten', { partition, path: e.path });
    }
    const window = new SourceWindow(capacity, snapshot?.entries ?? []);
    await this.writeJournal(partition, [], [{ upTo: String(resumeFrom), entries: window.snapshot() }]);
    return window;
  }

  private async removeLocalBuffers(partition: number): Promise<void> {
    const prefix = `${this.o.topic}-${partition}-`;
    let names: string[];
    try {
      names = await readdir(this.o.bufferDir);
    } catch {
      return;
    }
    for (const n of names) if (n.startsWith(prefix)) await rm(join(this.o.bufferDir, n), { force: true });
  }

  private async openFile(partition: number, dir: string, firstOffset: bigint, state: PartitionState): Promise<OpenFile> {
    const name = archiveFileName(this.o.filePrefix, { topic: this.o.topic, partition }, firstOffset, this.o.gzip);
    const tmp = joinPath(dir, name + IN_USE_SUFFIX);
    // Records between the resume point and this file were only skipped copies, which leave the window as is:
    // this snapshot is the window at the resume point.
    const windowAtOpen: WindowSnapshot = { upTo: String(state.resumeAt), entries: state.window.snapshot() };
    // Journal first: if we die after creating the .tmp, the restart knows to remove it.
    await this.writeJournal(partition, this.journalFiles(dir, name, firstOffset), [windowAtOpen]);
    await this.durable('create', () => this.o.fs.create(tmp, Buffer.alloc(0), this.o.signal));
    await mkdir(this.o.bufferDir, { recursive: true });
    const bufferPath = join(this.o.bufferDir, `${this.o.topic}-${partition}-${firstOffset}.buf`);
    const buffer = await open(bufferPath, 'w');
    const now = this.now();
    return { dir, name, firstOffset, lastOffset: firstOffset, count: 0, bytes: 0, openedAt: now, lastWriteAt: now, pending: [], pendingBytes: 0, bufferPath, buffer, windowAtOpen };
  }

  private journalFiles(dir: string, name: string, firstOffset: bigint): JournalEntry[] {
    return [
      { path: joinPath(dir, name + IN_USE_SUFFIX), first: String(firstOffset) },
      { path: joinPath(dir, name), first: String(firstOffset) },
    ];
  }

  private async flushLocal(f: OpenFile): Promise<void> {
    if (f.pending.length === 0) return;
    const text = Buffer.from(f.pending.join('\n') + '\n');
    f.pending = [];
    f.pendingBytes = 0;
    await f.buffer.write(this.o.gzip ? await gzip(text) : text);
  }

  private async close(partition: number, state: PartitionState, reason: string): Promise<void> {
    const f = state.open;
    if (!f) return;
    await this.flushLocal(f);
    await f.buffer.close();
    const tmp = joinPath(f.dir, f.name + IN_USE_SUFFIX);
    const final = joinPath(f.dir, f.name);
    await this.durable('upload', () => this.o.fs.createFromFile(tmp, f.bufferPath, this.o.signal));
    if ((this.o.dedupeWindow ?? 0) > 0) {
      // Before the rename (after which a commit may follow): the window after this file, next to the one
      // before it, so a restart at either offset starts with the matching window.
      const after: WindowSnapshot = { upTo: String(f.lastOffset + 1n), entries: state.window.snapshot() };
      await this.writeJournal(partition, this.journalFiles(f.dir, f.name, f.firstOffset), [f.windowAtOpen, after]);
    }
    await this.durable('rename', () => this.o.fs.rename(tmp, final, this.o.signal));
    state.open = undefined;
    await rm(f.bufferPath, { force: true });
    await this.commitWithRetry([{ topic: this.o.topic, partition, offset: f.lastOffset + 1n }]);
    state.resumeAt = f.lastOffset + 1n;
    this.o.counters.out += f.count;
    this.o.counters.bytes += f.bytes;
    this.o.log.debug('file closed', { path: final, records: f.count, bytes: f.bytes, reason });
  }

  /**
   * Commit, waiting out a broker that is down (bounded backoff, one log line). A refusal that is not
   * retryable (the partition moved to another member) ends the stage: its records are redelivered there.
   */
  private async commitWithRetry(offsets: CommitOffset[]): Promise<void> {
    let waiting = false;
    await retry(() => this.o.commit(offsets), {
      maxAttempts: Infinity,
      maxElapsedMs: 10 * 60_000,
      baseDelayMs: 500,
      maxDelayMs: 10_000,
      signal: this.o.signal,
      onRetry: ({ error }) => {
        this.o.counters.retries += 1;
        if (!waiting) this.o.log.warn('commit failed, retrying', { error: error.message });
        waiting = true;
      },
    });
    if (waiting) this.o.log.info('commit done after retries');
  }

  /**
   * Run a file-system step until it succeeds: HDFS being down (NameNode, DataNode) is waited for with
   * backoff, logged once when it starts and once when it ends. Only a non-retryable error or the abort
   * signal (or an hour) ends the wait. Every step here is idempotent (CREATE with overwrite, RENAME after DELETE).
   */
  private async durable<T>(step: string, fn: () => Promise<T>): Promise<T> {
    const result = await retry(fn, {
      maxAttempts: Infinity,
      // Bounded: after an hour without storage the stage fails (exit 1); nothing past the last rename is
      // committed, so a restart redoes it.
      maxElapsedMs: 60 * 60_000,
      baseDelayMs: 500,
      maxDelayMs: 10_000,
      signal: this.o.signal,
      onRetry: (info) => {
        this.o.counters.retries += 1;
        this.outage.failed(info);
        this.o.log.debug('archive step retried', { step });
      },
    });
    this.outage.recovered();
    return result;
  }
}

/** A record's event time: the fetch time it carries, else the Kafka timestamp. */
export function eventTime(record: LogRecord): number {
  const h = record.headers['userpipe-fetched-at'];
  if (h !== undefined) {
    const n = Number(h);
    if (Number.isFinite(n) && n > 0) return n;
  }
  return record.timestampMs;
}
