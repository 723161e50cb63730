/**
 * The quarantine: records that will never be valid, kept with their reason instead of being dropped or blocking the
 * stream. NDJSON files per stage and UTC day (`<dir>/<stage>-YYYYmmdd.ndjson`), appended and fsynced before the
 * caller goes on, so a quarantined record is durable before anything downstream moves past it.
 *
 * Line format: `{"reason": "...", "fetchedAt": "<ISO time>", "index": 3, "user": {...}}` plus any extra fields.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyFsError } from './atomic-file.ts';

export interface QuarantineEntry {
  reason: string;
  /** The record as received. */
  user: unknown;
  /** ISO time the record was received. */
  fetchedAt: string;
  [extra: string]: unknown;
}

export interface QuarantineOptions {
  dir: string;
  /** File name prefix: the stage (`fetch`). */
  stage: string;
  fsync?: boolean;
  now?: () => number;
}

export class QuarantineFile {
  private readonly opts: QuarantineOptions;
  private fh: FileHandle | undefined;
  private day = '';
  private count = 0;

  constructor(opts: QuarantineOptions) {
    this.opts = opts;
  }

  /** Entries written so far by this instance. */
  get written(): number {
    return this.count;
  }

  /** Append entries durably; resolves with the file path. Classified errors (a full disk is not retryable). */
  async append(entries: readonly QuarantineEntry[]): Promise<string> {
    const path = this.pathFor(this.opts.now?.() ?? Date.now());
    if (entries.length === 0) return path;
    try {
      if (!this.fh || !path.endsWith(`${this.day}.ndjson`)) await this.openFor(path);
      const fh = this.fh as FileHandle;
      await fh.write(entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
      if (this.opts.fsync ?? true) await fh.sync();
    } catch (err) {
      throw classifyFsError(err, path);
    }
    this.count += entries.length;
    return path;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  private pathFor(ms: number): string {
    const day = new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
    return join(this.opts.dir, `${this.opts.stage}-${day}.ndjson`);
  }

  private async openFor(path: string): Promise<void> {
    await this.close();
    await mkdir(this.opts.dir, { recursive: true });
    this.fh = await open(path, 'a', 0o644);
    this.day = path.slice(-'YYYYmmdd.ndjson'.length, -'.ndjson'.length);
  }
}
