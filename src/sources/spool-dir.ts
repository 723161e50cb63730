/**
 * The spool directory as a source of files (Flume's spooldir source, minus its memory channel's data loss).
 *
 * Each ready file (see `spool-scan.ts`), oldest first, is read, decoded and parsed (`spool-format.ts`) and
 * emitted as one envelope. Its ack is the file's commit:
 * - settled without error: the file is marked done (`.COMPLETED`, deleted, or moved to the done directory);
 * - settled with INVALID_INPUT or REJECTED (Kafka refused the data itself): the file moves to quarantine;
 * - settled with any other error (stop, abort, a fatal Kafka error): the file is left as it is and taken again
 *   by a later scan or the next run. Nothing is marked done before everything in it was acknowledged.
 * A file that cannot be parsed is quarantined here, without being emitted: bad input never stops the source.
 *
 * Bounded: at most `maxFilesInFlight` files are read and not yet settled, and together at most `maxFileSize`
 * bytes (one file alone may always go): a parsed file takes several times its size in memory, so a few large
 * files wait for each other instead of being held at once. `read` waits for an ack before reading more.
 * Modes: watch (scan every `pollIntervalMs`, until `signal` fires) or `once` (the files present at the first
 * scan, waiting for foreign ones to settle, then the iteration ends).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { PipelineError, errorMessage } from '../core/errors.ts';
import { envelope, onceAck, type Envelope } from '../core/envelope.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { Notifier } from '../core/notifier.ts';
import { sleep } from '../core/sleep.ts';
import { parseSpoolFile, type SpoolLayout, type SpoolRecord } from '../transforms/spool-format.ts';
import type { FileOrigin } from '../transforms/user-messages.ts';
import { isQuarantinable, markDone, quarantineFile, type Completion, type Quarantine } from './spool-disposal.ts';
import { SpoolScanner, type SpoolEntry } from './spool-scan.ts';

/** One parsed spool file. */
export interface SpoolFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
  /** Written by `userpipe fetch` (fetch time and sequence from the name) or by someone else (mtime, seq 0). */
  fromFetch: boolean;
  origin: FileOrigin;
  layout: SpoolLayout;
  records: SpoolRecord[];
}

export interface SpoolDirOptions {
  dir: string;
  completion: Completion;
  quarantineDir: string;
  settleTimeMs: number;
  pollIntervalMs: number;
  once: boolean;
  maxFilesInFlight: number;
  maxFileSize: number;
  log?: Logger;
  now?: () => number;
  /** Told about each file quarantined (counters, tests). */
  onQuarantine?: (name: string, problem: Quarantine) => void;
  /** Told about each file marked done. */
  onDone?: (name: string) => void;
}

export class SpoolDirSource {
  private readonly opts: SpoolDirOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly scanner: SpoolScanner;
  private readonly inFlight = new Set<string>();
  /** Notified whenever a slot or bytes are released; waiters re-check their bound. */
  private readonly freed = new Notifier();
  private readonly unreadable = new Set<string>();
  private slotsUsed = 0;
  private bytesUsed = 0;

  constructor(opts: SpoolDirOptions) {
    if (!(opts.maxFilesInFlight >= 1)) throw new RangeError('maxFilesInFlight must be >= 1');
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.scanner = new SpoolScanner({ dir: opts.dir, settleTimeMs: opts.settleTimeMs, now: this.now });
  }

  /** Files read and not yet settled. */
  get filesInFlight(): number {
    return this.inFlight.size;
  }

  /**
   * Yields parsed files until `signal` fires (watch) or the files present at start are all emitted (`once`).
   * The envelopes' acks outlive the iteration: the caller settles them after the generator has ended.
   */
  async *read(signal: AbortSignal): AsyncGenerator<Envelope<SpoolFile>> {
    let pendingOnce: Set<string> | undefined;
    let scanFailing = false;
    await mkdir(this.opts.dir, { recursive: true });
    while (!signal.aborted) {
      let ready: SpoolEntry[];
      try {
        ready = await this.scanner.scan(this.inFlight);
        if (scanFailing) this.log.info('spool directory readable again', { dir: this.opts.dir });
        scanFailing = false;
      } catch (err) {
        if (!scanFailing) this.log.warn('cannot list the spool directory, retrying', { dir: this.opts.dir, error: errorMessage(err) });
        scanFailing = true;
        if (!(await this.pause(signal))) return;
        continue;
      }
      if (this.opts.once) {
        if (!pendingOnce) pendingOnce = new Set([...ready.map((e) => e.name), ...this.scanner.unsettled]);
        const present = new Set([...ready.map((e) => e.name), ...this.scanner.unsettled]);
        for (const name of pendingOnce) if (!present.has(name)) pendingOnce.delete(name);
        ready = ready.filter((e) => pendingOnce?.has(e.name));
      }
      let emitted = 0;
      for (const entry of ready) {
        if (signal.aborted) return;
        if (!(await this.acquire(signal))) return;
        const file = await this.load(entry, signal);
        pendingOnce?.delete(entry.name);
        if (!file) {
          this.release();
          continue;
        }
        this.inFlight.add(entry.name);
        emitted += 1;
        yield envelope(file, this.ackFor(file), { source: file.name });
      }
      if (pendingOnce && pendingOnce.size === 0) return;
      if (emitted === 0 && !(await this.pause(signal))) return;
    }
  }

  /** Read and parse one file; quarantine it when it is bad; undefined when there is nothing to emit. */
  private async load(entry: SpoolEntry, signal: AbortSignal): Promise<SpoolFile | undefined> {
    let size: number;
    let mtimeMs: number;
    let bytes: Buffer;
    try {
      const st = await stat(entry.path);
      size = st.size;
      mtimeMs = entry.mtimeMs ?? st.mtimeMs;
      if (size > this.opts.maxFileSize) {
        await this.quarantine(entry, { reason: `file too large: ${size} bytes, over the limit of ${this.opts.maxFileSize} (--max-file-size)` });
        return undefined;
      }
      if (!(await this.acquireBytes(size, signal))) return undefined;
      try {
        bytes = await readFile(entry.path);
      } catch (err) {
        this.releaseBytes(size);
        throw err;
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') return undefined; // taken away meanwhile: nothing to do
      if (err instanceof PipelineError) throw err; // quarantine failed: the stage cannot keep its promise
      if (!this.unreadable.has(entry.name)) {
        this.unreadable.add(entry.name);
        this.log.warn('cannot read spool file, leaving it for a later scan', { file: entry.name, error: errorMessage(err) });
      }
      return undefined;
    }
    this.unreadable.delete(entry.name);
    const parsed = parseSpoolFile(bytes);
    if (!parsed.ok) {
      this.releaseBytes(size);
      await this.quarantine(entry, { reason: parsed.reason, position: parsed.position });
      return undefined;
    }
    const origin: FileOrigin = entry.stamp
      ? { source: entry.name, fetchedAtMs: entry.stamp.fetchedAtMs, seq: entry.stamp.seq }
      : { source: entry.name, fetchedAtMs: Math.trunc(mtimeMs), seq: 0 };
    return {
      name: entry.name,
      path: entry.path,
      size,
      mtimeMs,
      fromFetch: entry.stamp !== undefined,
      origin,
      layout: parsed.layout,
      records: parsed.records,
    };
  }

  private ackFor(file: SpoolFile) {
    return onceAck(async (error?: PipelineError) => {
      try {
        if (!error) {
          try {
            await markDone(file.path, file.name, this.opts.dir, this.opts.completion, this.now);
            this.log.debug('spool file done', { file: file.name });
          } catch (err) {
            // Someone took the file away after we read it: its data is in Kafka, there is nothing to mark.
            if ((err as PipelineError).details?.errno !== 'ENOENT') throw err;
            this.log.warn('spool file vanished before it could be marked done', { file: file.name });
          }
          this.opts.onDone?.(file.name);
        } else if (isQuarantinable(error)) {
          await this.quarantine(file, { reason: `refused downstream: ${error.message}` });
        } else {
          this.log.debug('spool file left for a later attempt', { file: file.name, code: error.code, error: error.message });
        }
      } finally {
        this.inFlight.delete(file.name);
        this.releaseBytes(file.size);
        this.release();
      }
    });
  }

  private async quarantine(entry: { path: string; name: string }, problem: Quarantine): Promise<void> {
    const to = await quarantineFile(entry.path, entry.name, this.opts.dir, this.opts.quarantineDir, problem, this.now);
    this.log.warn('spool file quarantined', { file: entry.name, reason: problem.reason, ...positionFields(problem), to });
    this.opts.onQuarantine?.(entry.name, problem);
  }

  /** Wait for a free slot (a file being read or in flight); false when `signal` fired first. */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (this.slotsUsed >= this.opts.maxFilesInFlight) {
      if (signal.aborted) return false;
      await this.freed.wait(signal);
    }
    this.slotsUsed += 1;
    return true;
  }

  private release(): void {
    this.slotsUsed -= 1;
    this.freed.notify();
  }

  /** Wait until `size` more bytes fit under `maxFileSize` in flight (or nothing else is); false when stopped. */
  private async acquireBytes(size: number, signal: AbortSignal): Promise<boolean> {
    while (this.bytesUsed > 0 && this.bytesUsed + size > this.opts.maxFileSize) {
      if (signal.aborted) return false;
      await this.freed.wait(signal);
    }
    this.bytesUsed += size;
    return true;
  }

  private releaseBytes(size: number): void {
    this.bytesUsed -= size;
    this.freed.notify();
  }

  /** Sleep one poll interval; false when `signal` fired. */
  private async pause(signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(this.opts.pollIntervalMs, signal);
      return true;
    } catch {
      return false; // sleep only rejects when the signal fired
    }
  }
}

function positionFields(problem: Quarantine): Record<string, unknown> {
  const p = problem.position;
  if (!p) return {};
  return { ...(p.line === undefined ? {} : { line: p.line }), byte: p.byte };
}
