/**
 * The page cursor of a seeded fetch: `<data-dir>/state/fetch-cursor-<hash of seed>.json`, written atomically.
 * It makes `--seed` runs resumable with no page twice and none lost:
 *
 * 1. the sink writes page p into a hidden temp file in the spool dir and fsyncs it;
 * 2. `prepare(p, temp, final)` records `nextPage = p + 1` together with `pending = {temp, final}` (atomically);
 * 3. the sink renames temp -> final and fsyncs the directory.
 *
 * A crash before 2 leaves the cursor at p (a hidden temp file at worst: ingest ignores it): p is fetched again.
 * A crash between 2 and 3 leaves the temp file named in `pending`: `open` finishes the rename (roll forward).
 * After 3 there is nothing to do. For sinks without a temp file (stdout), the ack calls `commit(p)` instead.
 *
 * A lock file next to the cursor (holding the pid) keeps two processes off the same cursor; a lock whose process
 * is gone (kill -9) is taken over.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, PipelineError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { fsyncDir, writeFileAtomic } from '../sinks/atomic-file.ts';

export interface CursorState {
  version: 1;
  seed: string;
  /** The request parameters the pages were cut with; a restart with other ones would not line up. */
  params: Record<string, unknown>;
  /** The next page to fetch. */
  nextPage: number;
  /** The last page recorded as written whose rename may not have happened yet. */
  pending?: { page: number; tempPath: string; finalPath: string };
  updatedAt: string;
}

export interface OpenCursorOptions {
  dataDir: string;
  seed: string;
  params: Record<string, unknown>;
  /** First page when there is no cursor yet. */
  startPage: number;
  log: Logger;
  fsync?: boolean;
}

export function cursorPath(dataDir: string, seed: string): string {
  const hash = createHash('sha256').update(seed).digest('hex').slice(0, 16);
  return join(dataDir, 'state', `fetch-cursor-${hash}.json`);
}

export class PageCursor {
  readonly path: string;
  private state: CursorState;
  private readonly lockPath: string;
  private readonly fsync: boolean;
  private released = false;

  private constructor(path: string, state: CursorState, fsync: boolean) {
    this.path = path;
    this.lockPath = `${path}.lock`;
    this.state = state;
    this.fsync = fsync;
  }

  /**
   * Lock the cursor, load it (or start at `startPage`), and finish a rename a crash interrupted. Throws a
   * ConfigError when another live process holds the lock or when the cursor was made with other parameters.
   */
  static async open(opts: OpenCursorOptions): Promise<PageCursor> {
    const path = cursorPath(opts.dataDir, opts.seed);
    await mkdir(dirname(path), { recursive: true });
    await acquireLock(`${path}.lock`, opts.log);
    try {
      const loaded = await load(path);
      const fsync = opts.fsync ?? true;
      if (!loaded) {
        const state: CursorState = { version: 1, seed: opts.seed, params: opts.params, nextPage: opts.startPage, updatedAt: new Date().toISOString() };
        const cursor = new PageCursor(path, state, fsync);
        await cursor.save();
        opts.log.info('new page cursor', { path, page: opts.startPage });
        return cursor;
      }
      if (loaded.seed !== opts.seed) throw new ConfigError(`page cursor ${path} belongs to another seed (hash collision?); move it away`, { key: 'seed' });
      const diff = firstDifference(loaded.params, opts.params);
      if (diff !== undefined) {
        throw new ConfigError(
          `page cursor ${path} was made with ${diff}=${JSON.stringify(loaded.params[diff])}, now ${JSON.stringify(opts.params[diff])}: ` +
            'pages would not line up; use the same options, another seed, or delete the cursor to start over',
          { key: diff },
        );
      }
      const cursor = new PageCursor(path, loaded, fsync);
      await cursor.recover(opts.log);
      if (opts.startPage !== loaded.nextPage) {
        opts.log.info('resuming from page cursor', { path, page: loaded.nextPage, ignoredPage: opts.startPage });
      } else {
        opts.log.info('resuming from page cursor', { path, page: loaded.nextPage });
      }
      return cursor;
    } catch (err) {
      HELD_LOCKS.delete(`${path}.lock`);
      await unlink(`${path}.lock`).catch(() => {});
      throw err;
    }
  }

  get nextPage(): number {
    return this.state.nextPage;
  }

  /** Record page `page` as written, its data durable in `tempPath` and about to be renamed to `finalPath`. */
  async prepare(page: number, tempPath: string, finalPath: string): Promise<void> {
    this.checkOrder(page);
    this.state = { ...this.state, nextPage: page + 1, pending: { page, tempPath, finalPath }, updatedAt: new Date().toISOString() };
    await this.save();
  }

  /** The page is durably written (a sink that had no temp file). No-op if `prepare` already recorded it. */
  async commit(page: number): Promise<void> {
    if (this.state.nextPage > page) return;
    this.checkOrder(page);
    const { pending: _drop, ...rest } = this.state;
    this.state = { ...rest, nextPage: page + 1, updatedAt: new Date().toISOString() };
    await this.save();
  }

  /** Drop the lock. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    HELD_LOCKS.delete(this.lockPath);
    await unlink(this.lockPath).catch(() => {});
  }

  private checkOrder(page: number): void {
    // Pages are written strictly in order (one in flight); anything else would skip or repeat a page.
    if (page !== this.state.nextPage) {
      throw new PipelineError('INTERNAL', `page cursor out of order: writing page ${page}, cursor at ${this.state.nextPage}`);
    }
  }

  private async recover(log: Logger): Promise<void> {
    const p = this.state.pending;
    if (!p) return;
    if (await exists(p.tempPath)) {
      await rename(p.tempPath, p.finalPath);
      await fsyncDir(dirname(p.finalPath));
      log.warn('finished writing a page interrupted by a crash', { page: p.page, file: p.finalPath });
    }
    const { pending: _drop, ...rest } = this.state;
    this.state = { ...rest, updatedAt: new Date().toISOString() };
    await this.save();
  }

  private async save(): Promise<void> {
    const dir = dirname(this.path);
    const name = this.path.slice(dir.length + 1);
    // A fixed temp name is fine: the lock keeps a second writer away, and a leftover from a crash is removed first.
    await unlink(join(dir, `.${name}.tmp`)).catch(() => {});
    await writeFileAtomic(dir, name, JSON.stringify(this.state, null, 2) + '\n', { fsync: this.fsync });
  }
}

async function load(path: string): Promise<CursorState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read page cursor ${path}: ${errorMessage(err)}`, { key: 'dataDir' });
  }
  try {
    const s = JSON.parse(text) as CursorState;
    if (s.version !== 1 || typeof s.seed !== 'string' || !Number.isInteger(s.nextPage) || s.nextPage < 1) throw new Error('unexpected content');
    return s;
  } catch (err) {
    throw new ConfigError(`page cursor ${path} is damaged (${errorMessage(err)}); fix or delete it`, { key: 'dataDir' });
  }
}

function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>): string | undefined {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null)) return k;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Locks this process holds: the pid in a lock file cannot tell our own lock from a stale one with a reused pid. */
const HELD_LOCKS = new Set<string>();

async function acquireLock(lockPath: string, log: Logger): Promise<void> {
  if (HELD_LOCKS.has(lockPath)) throw new ConfigError(`this seed's page cursor is already in use in this process (lock ${lockPath})`, { key: 'seed' });
  const me = `${process.pid} ${hostname()}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(me);
      } finally {
        await fh.close();
      }
      HELD_LOCKS.add(lockPath);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') {
        throw new ConfigError(`cannot create lock ${lockPath}: ${errorMessage(err)}`, { key: 'dataDir' });
      }
    }
    const [pidText, host] = (await readFile(lockPath, 'utf8').catch(() => '')).trim().split(' ');
    const pid = Number(pidText);
    const sameHost = host === hostname();
    // Our own pid in the file means a previous life of this process (containers reuse pids): stale.
    if (sameHost && Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new ConfigError(`another fetch (pid ${pid}) is using this seed's page cursor (lock ${lockPath})`, { key: 'seed' });
    }
    // Another host's lock cannot be checked; a restarted container usually has a new host name, so take it over,
    // loudly: two live hosts on one cursor would be a deployment mistake.
    log.warn(sameHost ? 'taking over a stale page cursor lock' : 'taking over a page cursor lock from another host', { lock: lockPath, pid: pidText, host });
    await unlink(lockPath).catch(() => {});
  }
  throw new ConfigError(`cannot take the page cursor lock ${lockPath}`, { key: 'seed' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
