import { readdir } from 'node:fs/promises';
import type { MessageLog } from '../clients/message-log.ts';
import { errorMessage, isAbortError } from '../core/errors.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import { sleep } from '../core/sleep.ts';

/**
 * The order in which run-all's parts start and, above all, stop, so that a stop loses nothing and the run
 * can end by itself:
 *
 *   fetch --spool dir--> ingest --log--> { archive, process }
 *
 * 1. fetch runs until its sources are exhausted (--count, --max-users, --once) or the user stops the run;
 * 2. then ingest: after a natural end it first sends every file left in the spool dir; after a signal it only
 *    finishes the files in flight (the rest stays in the spool, durable, for the next start);
 * 3. once ingest returned, the log's end offsets are read, and archive and process consume up to them, then
 *    close their files, flush their batches and commit.
 * A failing part aborts the others at once (what was not committed is redone on the next start). The hard
 * abort (second signal, or the drain timeout) reaches every part through the shared lifecycle.
 */
export interface PipelineParts {
  log: MessageLog;
  topic: string;
  spoolDir: string;
  fetch: (lc: Lifecycle) => Promise<void>;
  ingest: (lc: Lifecycle) => Promise<void>;
  /** Consumers: stop at the end offsets once `endOffsets()` returns them. */
  consumers: Array<(lc: Lifecycle, endOffsets: () => Map<number, bigint> | undefined) => Promise<void>>;
  /** Called once every part has been started (readiness probe). */
  onStarted?: () => void;
}

export async function runPipeline(parts: PipelineParts, lifecycle: Lifecycle, log: Logger): Promise<void> {
  const fetchLc = new Lifecycle({ parent: lifecycle, drainTimeoutMs: Infinity });
  const ingestLc = new Lifecycle({ parent: lifecycle, followStop: false, drainTimeoutMs: Infinity });
  const consumerLc = new Lifecycle({ parent: lifecycle, followStop: false, drainTimeoutMs: Infinity });
  let ends: Map<number, bigint> | undefined;
  let failure: unknown;
  const fail = (part: string) => (err: unknown) => {
    // A part told to stop while it was still starting (ingest preparing its topics when fetch had nothing to
    // do) ends with ABORTED: that is the stop it was asked for, not a failure.
    if (isAbortError(err) && !lifecycle.abort.aborted) {
      log.debug(`${part} stopped before it started`);
      return;
    }
    if (failure === undefined) {
      failure = err;
      log.error(`${part} failed; stopping the pipeline`, { error: errorMessage(err) });
    }
    lifecycle.hardAbort(`${part} failed`);
  };

  const consumers = parts.consumers.map((run, i) => run(consumerLc, () => ends).catch(fail(`consumer ${i}`)));
  const ingest = parts.ingest(ingestLc).catch(fail('ingest'));
  const fetch = parts.fetch(fetchLc).catch(fail('fetch'));
  parts.onStarted?.();
  await fetch;
  if (!lifecycle.stop.aborted && failure === undefined) {
    log.info('fetch finished; sending what is left in the spool dir');
    await waitForEmptySpool(parts.spoolDir, ingestLc.abort, log);
  }
  ingestLc.softStop('fetch finished');
  await ingest;
  if (failure === undefined && !lifecycle.abort.aborted) {
    try {
      ends = await parts.log.endOffsets(parts.topic);
      log.info('ingest finished; archive and process drain to the end of the log', {
        end: [...ends.values()].reduce((a, b) => a + b, 0n),
      });
    } catch (err) {
      fail('log')(err);
    }
  }
  if (failure !== undefined || lifecycle.abort.aborted) consumerLc.hardAbort('pipeline aborted');
  await Promise.all(consumers);
  for (const lc of [fetchLc, ingestLc, consumerLc]) lc.dispose();
  if (failure !== undefined) throw failure;
}

/** Files ingest still has to take: not hidden, not temporary, not marked done. */
export async function pendingSpoolFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  return names.filter((n) => !n.startsWith('.') && !n.endsWith('.COMPLETED') && !n.endsWith('.tmp')).length;
}

/**
 * Wait until ingest has taken every file of the spool dir. Bounded: when the count has not gone down for
 * `stallMs` (a file ingest cannot take, e.g. unreadable), say so and go on: the files stay for the next run.
 */
async function waitForEmptySpool(dir: string, signal: AbortSignal, log: Logger, stallMs = 60_000): Promise<void> {
  let best = Infinity;
  let since = Date.now();
  for (;;) {
    const pending = await pendingSpoolFiles(dir);
    if (pending === 0) return;
    if (pending < best) {
      best = pending;
      since = Date.now();
    } else if (Date.now() - since > stallMs) {
      log.warn('files left in the spool dir that ingest did not take; they stay for the next run', { dir, files: pending });
      return;
    }
    try {
      await sleep(200, signal);
    } catch {
      return;
    }
  }
}
