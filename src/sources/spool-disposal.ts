/**
 * What happens to a spool file once it is settled: marked done (Flume's `.COMPLETED` rename, deleted, or moved
 * to a done directory) after Kafka acknowledged all of it, or moved to quarantine with a sidecar
 * `<name>.error.json` saying why and where. Nothing here ever overwrites an existing file: a name already
 * taken gets a `.<epoch ms>` suffix, so a foreign writer that reuses a name loses nothing.
 *
 * Durability: marking done is not fsync-ed. If the machine dies before the rename reaches the disk, the file is
 * still there at restart and is sent again: a duplicate, never a loss (delivery is at-least-once anyway). A
 * quarantined file that has to be copied across filesystems is fsync-ed before its original is removed.
 */
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { classifyFsError, writeFileAtomic } from '../sinks/atomic-file.ts';
import { COMPLETED_SUFFIX, SIDECAR_SUFFIX } from './spool-scan.ts';
import type { FilePosition } from '../transforms/spool-format.ts';

/** How a file is marked done. */
export type Completion = { mode: 'rename' } | { mode: 'delete' } | { mode: 'move'; dir: string };

export interface Quarantine {
  reason: string;
  position?: FilePosition;
}

/** Contents of `<name>.error.json`. */
export interface QuarantineSidecar {
  file: string;
  reason: string;
  position?: FilePosition;
  /** ISO time of the quarantine. */
  at: string;
  /** Where the file was found. */
  spoolDir: string;
  size?: number;
}

/** Mark a file done. Returns its new path (undefined when deleted). Errors are classified PipelineErrors. */
export async function markDone(path: string, name: string, spoolDir: string, completion: Completion, now = Date.now): Promise<string | undefined> {
  try {
    if (completion.mode === 'delete') {
      await unlink(path);
      return undefined;
    }
    if (completion.mode === 'rename') {
      const target = await freeName(spoolDir, name, COMPLETED_SUFFIX, now);
      await rename(path, join(spoolDir, target));
      return join(spoolDir, target);
    }
    await mkdir(completion.dir, { recursive: true }); // cheap, and survives someone removing the directory
    const target = await freeName(completion.dir, name, '', now);
    await moveFile(path, join(completion.dir, target));
    return join(completion.dir, target);
  } catch (err) {
    throw classifyFsError(err, path);
  }
}

/**
 * Move a file into `quarantineDir` and write its sidecar next to it (sidecar first: a crash in between leaves
 * the file in the spool directory, where it is quarantined again on restart).
 */
export async function quarantineFile(
  path: string,
  name: string,
  spoolDir: string,
  quarantineDir: string,
  problem: Quarantine,
  now = Date.now,
): Promise<string> {
  try {
    await mkdir(quarantineDir, { recursive: true });
    const target = await freeName(quarantineDir, name, '', now, SIDECAR_SUFFIX);
    const size = await lstat(path).then((s) => s.size, () => undefined);
    const sidecar: QuarantineSidecar = {
      file: name,
      reason: problem.reason,
      ...(problem.position ? { position: problem.position } : {}),
      at: new Date(now()).toISOString(),
      spoolDir,
      ...(size === undefined ? {} : { size }),
    };
    await writeFileAtomic(quarantineDir, `${target}${SIDECAR_SUFFIX}`, JSON.stringify(sidecar, null, 2) + '\n', {
      tempName: `.${target}${SIDECAR_SUFFIX}.${process.pid}.${now()}.tmp`,
    });
    await moveFile(path, join(quarantineDir, target));
    return join(quarantineDir, target);
  } catch (err) {
    throw classifyFsError(err, path);
  }
}

/** `name + suffix`, or `name.<ms> + suffix` when taken (also checking `companion`, e.g. the sidecar). */
async function freeName(dir: string, name: string, suffix: string, now: () => number, companion?: string): Promise<string> {
  const taken = async (n: string): Promise<boolean> => {
    if (await exists(join(dir, n + suffix))) return true;
    return companion !== undefined && (await exists(join(dir, n + suffix + companion)));
  };
  if (!(await taken(name))) return name + suffix;
  for (let t = now(); ; t++) {
    const candidate = `${name}.${t}`;
    if (!(await taken(candidate))) return candidate + suffix;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return false;
    throw err;
  }
}

/** rename, or copy + fsync + unlink across filesystems (EXDEV). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== 'EXDEV') throw err;
  }
  await copyFile(from, to, constants.COPYFILE_EXCL);
  const fh = await open(to, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await unlink(from);
}

/** A file that is bad input: the source quarantines it instead of sending it. */
export function isQuarantinable(err: PipelineError): boolean {
  return err.code === 'INVALID_INPUT' || err.code === 'REJECTED';
}
