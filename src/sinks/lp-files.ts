/**
 * Line-protocol files instead of InfluxDB (`process --lp-dir <dir>`, the embedded default of `run-all`).
 *
 * Files: `<dir>/<prefix>-YYYYMMDD-HH.lp` by UTC hour of the write, then `<prefix>-YYYYMMDD-HH.1.lp`, `.2.lp` ...
 * once a part reaches `maxFileBytes`. Each file is plain line protocol, one point per line, ready for
 * `influx write` / `curl --data-binary @file /api/v2/write?precision=ns`.
 *
 * Same ack semantics as the real writer: `write()` resolves only after the lines are appended AND fdatasync'd
 * (and, for a new file, its directory entry fsync'd), so an acked record survives a crash.
 *
 * Redelivery duplicates lines (a crash between the fsync and the offset commit replays the batch). That is
 * accepted, not deduplicated here: a replayed line is byte-identical (deterministic timestamp), and loading the
 * files into InfluxDB collapses duplicates because the same measurement + tag set + timestamp overwrites.
 * Count distinct points with a tool that keys on the whole line, not `wc -l`.
 *
 * A crash in the middle of an append can leave a torn last line, which was never acked: when a file is opened
 * for appending, a tail without a final newline is truncated away (the data comes again by redelivery), so a
 * torn line never glues onto the next batch. One writer per directory (no cross-process locking).
 *
 * No retry inside: local disk errors (full disk, permissions) are not transient; they throw UNAVAILABLE.
 */
import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, PipelineError } from '../core/errors.ts';
import { abortedError } from '../core/sleep.ts';
import { classifyFsError, fsyncDir } from './atomic-file.ts';
import { type PointWriter, type WriteResult, toLines } from './point-writer.ts';

export interface LpFileWriterOptions {
  dir: string;
  /** File name prefix, e.g. the measurement. Default `users`. */
  prefix?: string;
  /** Start a new part beyond this size. Default 256 MiB. */
  maxFileBytes?: number;
  /** fsync before resolving (default true). Off only for benchmarks on throwaway data. */
  fsync?: boolean;
  /** Clock for the hourly file name (tests). */
  now?: () => number;
}

interface OpenFile {
  hour: string;
  part: number;
  path: string;
  fh: FileHandle;
  size: number;
}

function hourStamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}`;
}

export class LpFileWriter implements PointWriter {
  readonly #dir: string;
  readonly #prefix: string;
  readonly #maxFileBytes: number;
  readonly #fsync: boolean;
  readonly #now: () => number;
  #current: OpenFile | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #dirReady = false;
  #closed = false;

  constructor(opts: LpFileWriterOptions) {
    if (!opts.dir) throw new ConfigError('--lp-dir is empty');
    this.#dir = opts.dir;
    this.#prefix = opts.prefix ?? 'users';
    if (!/^[A-Za-z0-9._-]+$/.test(this.#prefix)) {
      throw new ConfigError(`line-protocol file prefix must be [A-Za-z0-9._-]: ${JSON.stringify(this.#prefix)}`);
    }
    this.#maxFileBytes = opts.maxFileBytes ?? 256 * 1024 * 1024;
    this.#fsync = opts.fsync ?? true;
    this.#now = opts.now ?? Date.now;
  }

  describe(): string {
    return `lp-files ${this.#dir}`;
  }

  /** Append and fdatasync; concurrent calls are serialized in call order. See the PointWriter contract. */
  write(input: readonly string[] | string, signal?: AbortSignal): Promise<WriteResult> {
    const run = this.#tail.then(() => this.#append(toLines(input), signal));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #append(lines: readonly string[], signal: AbortSignal | undefined): Promise<WriteResult> {
    if (this.#closed) throw new PipelineError('INTERNAL', 'write after close');
    if (signal?.aborted) throw abortedError(signal);
    if (lines.length === 0) return { written: 0, rejected: [], requests: 0 };
    const data = Buffer.from(lines.join('\n') + '\n', 'utf8');
    // Once bytes are being written the append completes: an abort must not leave half a batch behind.
    const file = await this.#fileFor(data.byteLength);
    try {
      await file.fh.appendFile(data);
      file.size += data.byteLength;
      if (this.#fsync) await file.fh.datasync();
    } catch (err) {
      // The file may now end in a torn line: reopen (and repair) before the next append.
      await this.#closeCurrent();
      throw classifyFsError(err, file.path);
    }
    return { written: lines.length, rejected: [], requests: 1 };
  }

  async #fileFor(bytes: number): Promise<OpenFile> {
    const hour = hourStamp(this.#now());
    const cur = this.#current;
    if (cur && cur.hour === hour && (cur.size === 0 || cur.size + bytes <= this.#maxFileBytes)) return cur;
    let part: number;
    if (cur && cur.hour === hour) {
      part = cur.part + 1;
    } else {
      part = await this.#lastPart(hour);
    }
    await this.#closeCurrent();
    for (;;) {
      const opened = await this.#openPart(hour, part);
      if (opened.size === 0 || opened.size + bytes <= this.#maxFileBytes) {
        this.#current = opened;
        return opened;
      }
      await opened.fh.close();
      part++;
    }
  }

  /** The highest existing part of this hour (0 when none), so a restart appends where it left off. */
  async #lastPart(hour: string): Promise<number> {
    await this.#ensureDir();
    const base = `${this.#prefix}-${hour}`;
    let last = 0;
    try {
      for (const name of await readdir(this.#dir)) {
        if (name === `${base}.lp`) continue;
        const m = name.startsWith(`${base}.`) ? /^\.(\d+)\.lp$/.exec(name.slice(base.length)) : null;
        if (m) last = Math.max(last, Number(m[1]));
      }
    } catch (err) {
      throw classifyFsError(err, this.#dir);
    }
    return last;
  }

  async #openPart(hour: string, part: number): Promise<OpenFile> {
    await this.#ensureDir();
    const name = `${this.#prefix}-${hour}${part === 0 ? '' : `.${part}`}.lp`;
    const path = join(this.#dir, name);
    let fh: FileHandle | undefined;
    try {
      // 'a+' so we can read the tail; appends always go to the end whatever the position.
      fh = await open(path, 'a+', 0o644);
      const st = await fh.stat();
      let size = st.size;
      if (size === 0) {
        if (this.#fsync) await fsyncDir(this.#dir); // the new name itself must survive a crash
      } else {
        size = await repairTornTail(fh, size);
      }
      return { hour, part, path, fh, size };
    } catch (err) {
      await fh?.close().catch(() => {});
      throw classifyFsError(err, path);
    }
  }

  async #ensureDir(): Promise<void> {
    if (this.#dirReady) return;
    try {
      await mkdir(this.#dir, { recursive: true });
    } catch (err) {
      throw classifyFsError(err, this.#dir);
    }
    this.#dirReady = true;
  }

  async #closeCurrent(): Promise<void> {
    const cur = this.#current;
    this.#current = undefined;
    await cur?.fh.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.#tail;
    this.#closed = true;
    await this.#closeCurrent();
  }
}

/**
 * If the file does not end with `\n`, cut it back to just after its last `\n` (or to empty). Returns the new
 * size. Reads backwards in 64 KiB steps.
 */
export async function repairTornTail(fh: FileHandle, size: number): Promise<number> {
  const step = 64 * 1024;
  const buf = Buffer.alloc(step);
  let end = size;
  let first = true;
  while (end > 0) {
    const start = Math.max(0, end - step);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    const view = buf.subarray(0, bytesRead);
    if (first && view[view.length - 1] === 0x0a) return size; // intact
    first = false;
    const nl = view.lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = start + nl + 1;
      await fh.truncate(keep);
      await fh.datasync();
      return keep;
    }
    end = start;
  }
  await fh.truncate(0);
  await fh.datasync();
  return 0;
}
