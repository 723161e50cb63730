/**
 * One ingest per spool directory. Two readers of the same directory would send every file twice and race to
 * rename it (Flume does not support that either); the usual way to get there is a cron `--once` run that
 * outlives its minute. The lock is a hidden file `.userpipe-ingest.lock` holding the owner's pid (hidden, so
 * the scan ignores it). A lock left by a process that died (kill -9, power loss) is taken over: its pid is no
 * longer alive. Local processes only: on a directory shared over NFS by two hosts the pid check cannot help.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PipelineError } from '../core/errors.ts';

export const LOCK_NAME = '.userpipe-ingest.lock';

/** Take the lock; returns its release. Throws a non-retryable PipelineError when a live process holds it. */
export async function lockSpoolDir(dir: string, pid = process.pid): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(`${pid}\n`);
      } finally {
        await fh.close();
      }
      return async () => {
        // Only remove our own lock (a later owner may have taken over a lock we lost).
        if ((await readOwner(path)) === pid) await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(path);
    if (owner !== undefined && owner !== pid && isAlive(owner)) {
      throw new PipelineError('CONFIG', `another userpipe ingest (pid ${owner}) is reading ${dir}`, {
        retryable: false,
        details: { lock: path, pid: owner },
      });
    }
    await unlink(path).catch(() => {}); // stale: its owner is gone
  }
  throw new PipelineError('CONFIG', `cannot take the spool directory lock ${path}`, { retryable: false });
}

async function readOwner(path: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (err as { code?: string }).code === 'EPERM';
  }
}
