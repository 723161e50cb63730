/**
 * The spool directory sink (the dir Flume's spooldir source, and `userpipe ingest`, read): each response becomes
 * one file holding the API's JSON on one line, written atomically (hidden temp file in the same directory, fsync,
 * rename, fsync the directory), named `response_YYYYmmdd_HHMMSS_mmm_SS_<writer>.json` (see spool-name.ts).
 *
 * Contract: records are written one at a time in arrival order; each envelope is acked once its file is renamed
 * and the directory fsynced, or nacked if it could not be written (then the sink stops and rethrows: a disk that
 * refuses one file will refuse the next). On a hard abort before the rename the temp file is removed: a response
 * is either completely visible or not at all.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { PipelineError, toPipelineError } from '../core/errors.ts';
import type { Envelope } from '../core/envelope.ts';
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import type { StageCounters } from '../core/stats.ts';
import type { FetchedResponse } from '../sources/fetched-response.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { formatSpoolName, newWriterId, tempNameFor } from './spool-name.ts';

export interface SpoolFileSinkOptions {
  dir: string;
  /** Writer id in the names; default a fresh random one. */
  writer?: string;
  /** Default true; off only for throwaway benchmarks. */
  fsync?: boolean;
  log?: Logger;
  counters?: StageCounters;
}

export class SpoolFileSink {
  readonly dir: string;
  readonly writer: string;
  private readonly fsync: boolean;
  private readonly log: Logger;
  private readonly counters: StageCounters | undefined;
  private ready = false;

  constructor(opts: SpoolFileSinkOptions) {
    this.dir = opts.dir;
    this.writer = opts.writer ?? newWriterId();
    this.fsync = opts.fsync ?? true;
    this.log = opts.log ?? silentLogger;
    this.counters = opts.counters;
  }

  /** Create the directory; report temp files a crash left behind (hidden, so readers skip them). */
  async init(): Promise<void> {
    if (this.ready) return;
    try {
      await mkdir(this.dir, { recursive: true });
      const leftovers = (await readdir(this.dir)).filter((n) => n.startsWith('.response_') && n.endsWith('.tmp'));
      // Not deleted here: a seeded run's cursor may still point at one and finish its rename on start.
      if (leftovers.length > 0) this.log.warn('temp files left by an interrupted run', { dir: this.dir, count: leftovers.length, first: leftovers[0] });
    } catch (err) {
      throw new PipelineError('UNAVAILABLE', `cannot use spool dir ${this.dir}: ${String((err as Error).message)}`, {
        retryable: false,
        cause: err,
        details: { dir: this.dir },
      });
    }
    this.ready = true;
  }

  /** Write one response; resolves with its file name once it is visible and durable. */
  async writeOne(item: FetchedResponse, signal?: AbortSignal): Promise<string> {
    await this.init();
    const name = formatSpoolName(item.fetchedAtMs, item.seq, this.writer);
    const line = JSON.stringify(item.response) + '\n';
    await writeFileAtomic(this.dir, name, line, {
      tempName: tempNameFor(name),
      beforeRename: item.beforePublish,
      signal,
      fsync: this.fsync,
    });
    if (this.counters) this.counters.bytes += Buffer.byteLength(line);
    return name;
  }

  /**
   * Consume `input` until it ends. `signal` is the hard abort: a write not yet renamed is discarded and nacked.
   * The input's own soft stop ends the iteration; this sink then returns normally.
   */
  async write(input: AsyncIterable<Envelope<FetchedResponse>>, signal: AbortSignal): Promise<void> {
    await this.init();
    for await (const env of input) {
      let name: string;
      try {
        name = await this.writeOne(env.payload, signal);
      } catch (err) {
        const e = toPipelineError(err);
        await env.ack(e);
        throw e;
      }
      await env.ack();
      this.log.debug('response written', { file: name, users: env.payload.users });
    }
  }
}
