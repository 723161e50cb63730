/**
 * `userpipe fetch`: RandomUser API (or the synthetic generator) -> spool dir of JSON files (or NDJSON on stdout).
 * Thin on purpose: options -> FetchConfig -> fetch stage (source) -> sink -> exit code.
 */
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { NdjsonStreamSink } from '../sinks/ndjson-stream.ts';
import { SpoolFileSink } from '../sinks/spool-files.ts';
import type { FetchedResponse } from '../sources/fetched-response.ts';
import { openFetchStage, type FetchConfig } from '../sources/fetch-stage.ts';
import { EXIT, type CommandContext } from './context.ts';
import { FETCH_OPTIONS, parseFetchConfig } from './fetch-options.ts';
import type { OptionValues } from './option-spec.ts';
import type { CommandDefinition } from './program.ts';

export { FETCH_OPTIONS, parseFetchConfig } from './fetch-options.ts';
export type { FetchConfig } from '../sources/fetch-stage.ts';

/**
 * Run fetch to completion under `ctx.lifecycle`. Resolves with the exit code: 0 when done (count, max-users or
 * --once reached; or the stdout reader went away), 1 when --once failed, 130 when stopped by a signal first.
 * Throws ConfigError for bad options (exit 2) and a PipelineError when the sink fails (exit 1).
 */
export async function runFetch(options: OptionValues, ctx: CommandContext): Promise<number> {
  const config = parseFetchConfig(options);
  const log = ctx.log.child('fetch');
  const counters = ctx.stats.stage('fetch');
  const spool = config.stdout ? undefined : new SpoolFileSink({ dir: config.spoolDir, log, counters });
  try {
    await spool?.init();
  } catch (err) {
    throw new ConfigError(`invalid --spool-dir: ${(err as Error).message}`, { key: 'spoolDir' });
  }
  const stage = await openFetchStage(config, { log, counters });
  const started = Date.now();
  try {
    logStart(log, config);
    ctx.startProgress(['fetch']);
    const input = stage.source.read(ctx.lifecycle.stop);
    let readerGone = false;
    if (spool) {
      await spool.write(input, ctx.lifecycle.abort);
    } else {
      const sink = new NdjsonStreamSink<FetchedResponse>(ctx.stdout, (p) => p.response, counters);
      await sink.write(input, ctx.lifecycle.abort);
      readerGone = sink.readerGone;
    }
    const s = stage.source.summary;
    log.info('fetch finished', {
      responses: s.responses,
      users: s.usersWritten,
      quarantined: s.quarantined,
      failedRequests: s.failedRequests,
      retries: s.retries,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      ...(stage.cursor ? { nextPage: stage.cursor.nextPage } : {}),
    });
    return exitCode(config, s.completed, s.failedRequests, readerGone, ctx);
  } finally {
    await stage.close();
  }
}

function exitCode(config: FetchConfig, completed: boolean, failed: number, readerGone: boolean, ctx: CommandContext): number {
  if (readerGone) return EXIT.OK;
  if (config.once && failed > 0) return EXIT.FAILED;
  if (completed) return EXIT.OK;
  return ctx.lifecycle.stop.aborted ? EXIT.INTERRUPTED : EXIT.OK;
}

function logStart(log: Logger, c: FetchConfig): void {
  log.info('fetch started', {
    source: c.source,
    ...(c.source === 'randomuser' ? { apiUrl: c.apiUrl } : {}),
    results: c.query.results,
    nat: c.query.nat.join(','),
    interval: `${c.intervalMs}ms`,
    ...(c.seed !== undefined ? { seed: c.seed } : {}),
    to: c.stdout ? 'stdout' : c.spoolDir,
  });
}

export const fetchCommand: CommandDefinition = {
  name: 'fetch',
  summary: 'poll the RandomUser API into a spool dir of JSON files (or NDJSON on stdout)',
  description: [
    "Poll the RandomUser API (or generate users locally) and write each response, as the API's JSON on one line, " +
      'into the spool dir: atomically (hidden temp file, fsync, rename), one file per response, named ' +
      'response_YYYYmmdd_HHMMSS_mmm_SS_<writer>.json (UTC fetch time, milliseconds, sequence within the millisecond, ' +
      'writer id), so names are unique and sort by fetch time, even with several fetch processes on one dir.',
    'Faults (network errors, timeouts, 429, 5xx, HTML instead of JSON, truncated JSON, empty or short results) are ' +
      'retried with exponential backoff and full jitter, honouring Retry-After; each retry logs one line. After ' +
      '--max-attempts the request counts as failed, is logged once, and polling goes on (with --once: exit 1). ' +
      'Every user is checked against the API 1.4 schema; invalid ones go to the quarantine with the reason.',
    'SIGINT/SIGTERM: the response being written is finished or discarded, never half-visible; exit 130.',
  ].join('\n\n'),
  examples: [
    'userpipe fetch                                   # 1 US user per second into ./userpipe-data/spool',
    'userpipe fetch --results 50 --nat us,gb,fr --interval 5s',
    'userpipe fetch --seed backfill --results 500 --max-users 100000 --interval 0   # resumable',
    "userpipe fetch --source synthetic --count 3 --results 1000 --stdout | jq '.results | length'",
    'userpipe fetch --once --results 100 --quiet    # for cron: * * * * * cd /srv/userpipe && userpipe fetch --once ...',
  ],
  specs: FETCH_OPTIONS,
  action: runFetch,
};
