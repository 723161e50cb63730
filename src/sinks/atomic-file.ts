/**
 * Durable, atomic file writes: write a hidden temporary file in the target directory, fsync it, rename it over the
 * final name, fsync the directory. A reader of the directory sees either no file or the whole file, never a part;
 * after a crash the file is either fully there or absent (a leftover hidden temp file at worst).
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PipelineError, errorMessage } from '../core/errors.ts';

export interface AtomicWriteOptions {
  /** Hidden name to write under first; default `.<name>.tmp`. Must be in the same directory (rename is atomic only there). */
  tempName?: string;
  /**
   * Called once the data is durable in the temp file and before the rename: a caller records its intent here
   * (the seeded fetch cursor does), so a crash between the two steps can be finished by renaming the temp file.
   * If it throws, the temp file is removed and the error is rethrown.
   */
  beforeRename?: (tempPath: string, finalPath: string) => Promise<void>;
  /**
   * Checked between the steps: if it has fired before the rename, the temp file is removed and the write fails
   * with ABORTED (the data is discarded, never left half-visible). Once renamed, the write completes.
   */
  signal?: AbortSignal;
  /** fsync file and directory (default true). Off only for benchmarks on throwaway data. */
  fsync?: boolean;
}

/** Write `data` to `dir/name` atomically and durably. Errors are classified PipelineErrors (disk full is not retryable). */
export async function writeFileAtomic(dir: string, name: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tempPath = join(dir, options.tempName ?? `.${name}.tmp`);
  const finalPath = join(dir, name);
  const doSync = options.fsync ?? true;
  let fh: FileHandle | undefined;
  let created = false;
  let renamed = false;
  try {
    fh = await open(tempPath, 'wx', 0o644);
    created = true;
    await fh.writeFile(data);
    if (doSync) await fh.sync();
    await fh.close();
    fh = undefined;
    checkAborted(options.signal);
    await options.beforeRename?.(tempPath, finalPath);
    checkAborted(options.signal);
    await rename(tempPath, finalPath);
    renamed = true;
    if (doSync) await fsyncDir(dir);
  } catch (err) {
    await fh?.close().catch(() => {});
    // Only our own temp file: an existing one (EEXIST) belongs to someone else.
    if (created && !renamed) await unlink(tempPath).catch(() => {});
    throw classifyFsError(err, renamed ? finalPath : tempPath);
  }
}

/**
 * Write (or append) `data` to `path` and fsync it; with `newEntry` (the file may have just been created) also
 * fsync its directory, or a power loss could keep the bytes but lose the name. Not atomic: for files a reader
 * may see while they are written, use writeFileAtomic.
 */
export async function writeDurably(path: string, data: string | Uint8Array, options: { append?: boolean; newEntry?: boolean } = {}): Promise<void> {
  const fh = await open(path, options.append ? 'a' : 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (options.newEntry) await fsyncDir(dirname(path));
}

/** fsync a directory so that a rename or create in it survives a crash (and a power loss). */
export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch (err) {
    // Some filesystems refuse fsync on a directory (EINVAL); there is nothing stronger to do there.
    if ((err as { code?: string }).code !== 'EINVAL') throw err;
  } finally {
    await dh.close();
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PipelineError('ABORTED', 'write discarded: aborted before the file was made visible', { cause: signal.reason });
}

const TRANSIENT_FS = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE']);

export function classifyFsError(err: unknown, path: string): PipelineError {
  if (err instanceof PipelineError) return err;
  const code = (err as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : undefined;
  // A full disk or a permission problem is not a bug but no retry will fix it either: UNAVAILABLE, not retryable.
  return new PipelineError('UNAVAILABLE', `cannot write ${path}: ${errorMessage(err)}`, {
    cause: err,
    retryable: c !== undefined && TRANSIENT_FS.has(c),
    details: { path, ...(c ? { errno: c } : {}) },
  });
}
