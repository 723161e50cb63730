import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PipelineError, toPipelineError } from '../core/errors.ts';
import type { WebHdfsClient } from '../clients/webhdfs.ts';
import { fsyncDir, writeDurably } from './atomic-file.ts';

/**
 * The few file operations the archive needs, on HDFS (over WebHDFS) or on a local directory with the same
 * layout (`--archive-dir`, run-all's embedded default). Paths are absolute within the archive's namespace.
 * Every write resolves only once the data is durable (HDFS: the DataNode acknowledged; local: fsync).
 */
export interface ArchiveFs {
  readonly description: string;
  /** Create or replace a file with `data`. */
  create(path: string, data: Buffer, signal?: AbortSignal): Promise<void>;
  /** Create or replace a file with the contents of a local file (streamed, never held in memory). */
  createFromFile(path: string, localFile: string, signal?: AbortSignal): Promise<void>;
  append(path: string, data: Buffer, signal?: AbortSignal): Promise<void>;
  /** Rename, replacing `dst` if it exists (a redelivered file overwrites its earlier copy). */
  rename(src: string, dst: string, signal?: AbortSignal): Promise<void>;
  /** True if something was deleted. */
  delete(path: string, signal?: AbortSignal): Promise<boolean>;
  /** File contents, or null if it does not exist. */
  read(path: string, signal?: AbortSignal): Promise<Buffer | null>;
  exists(path: string, signal?: AbortSignal): Promise<boolean>;
}

export class LocalArchiveFs implements ArchiveFs {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = root;
    this.description = `local directory ${root}`;
  }

  private local(path: string): string {
    return join(this.root, path);
  }

  async create(path: string, data: Buffer): Promise<void> {
    const p = this.local(path);
    await mkdir(dirname(p), { recursive: true });
    await writeDurably(p, data, { newEntry: true });
  }

  async createFromFile(path: string, localFile: string): Promise<void> {
    const p = this.local(path);
    await mkdir(dirname(p), { recursive: true });
    await copyFile(localFile, p);
    const fh = await open(p, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async append(path: string, data: Buffer): Promise<void> {
    await writeDurably(this.local(path), data, { append: true });
  }

  async rename(src: string, dst: string): Promise<void> {
    const d = this.local(dst);
    // Retried after a success whose answer was lost: the source is gone and the target is there.
    if (!(await this.exists(src)) && (await this.exists(dst))) return;
    await mkdir(dirname(d), { recursive: true });
    await rename(this.local(src), d);
    await fsyncDir(dirname(d));
  }

  async delete(path: string): Promise<boolean> {
    try {
      await stat(this.local(path));
    } catch {
      return false;
    }
    await rm(this.local(path), { force: true, recursive: true });
    return true;
  }

  async read(path: string): Promise<Buffer | null> {
    try {
      return await readFile(this.local(path));
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw toPipelineError(err);
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.local(path));
      return true;
    } catch {
      return false;
    }
  }

  /** For tests and tools: every file under a directory, recursively, as archive paths. */
  async listFiles(dir = '/'): Promise<string[]> {
    const out: string[] = [];
    const walk = async (p: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(this.local(p), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const child = p.endsWith('/') ? p + e.name : `${p}/${e.name}`;
        if (e.isDirectory()) await walk(child);
        else out.push(child);
      }
    };
    await walk(dir);
    return out.sort();
  }
}

export class HdfsArchiveFs implements ArchiveFs {
  readonly description: string;
  private readonly client: WebHdfsClient;

  constructor(client: WebHdfsClient, description: string) {
    this.client = client;
    this.description = description;
  }

  async create(path: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    // CREATE makes missing parent directories itself; overwrite makes a redelivered file replace its copy.
    await this.client.create(path, data, { overwrite: true, signal });
  }

  async createFromFile(path: string, localFile: string, signal?: AbortSignal): Promise<void> {
    await this.client.create(path, createReadStream(localFile), { overwrite: true, signal });
  }

  async append(path: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    await this.client.append(path, data, { signal });
  }

  async rename(src: string, dst: string, signal?: AbortSignal): Promise<void> {
    // Idempotent, because the archive retries it: when an earlier attempt renamed the file but its answer was
    // lost, the source is gone and the target is there; deleting the target now would lose the file.
    if ((await this.client.getFileStatus(src, { signal })) === null) {
      if ((await this.client.getFileStatus(dst, { signal })) !== null) return;
      throw new PipelineError('NOT_FOUND', `archive rename: ${src} is missing`, { details: { src, dst } });
    }
    const parent = dst.slice(0, dst.lastIndexOf('/')) || '/';
    await this.client.mkdirs(parent, { signal });
    // HDFS RENAME refuses to replace an existing file: delete the earlier copy of a redelivered file first.
    await this.client.delete(dst, { signal });
    await this.client.rename(src, dst, { signal });
  }

  async delete(path: string, signal?: AbortSignal): Promise<boolean> {
    return this.client.delete(path, { signal });
  }

  async read(path: string, signal?: AbortSignal): Promise<Buffer | null> {
    try {
      return await this.client.open(path, { signal });
    } catch (err) {
      if (err instanceof PipelineError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  async exists(path: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.client.getFileStatus(path, { signal })) !== null;
  }
}
