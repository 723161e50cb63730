/**
 * `--source synthetic`: API-1.4-shaped responses made locally by the deterministic generator, at any rate, for
 * offline demos, tests and benchmarks. With a seed, page p is always the same users (as with the real API); without
 * one, the run picks a random seed and counts pages from 1, so every response has new users.
 */
import { randomBytes } from 'node:crypto';
import { throwIfAborted } from '../core/sleep.ts';
import type { RandomUserResponse } from '../transforms/randomuser-types.ts';
import { generateResponse } from './synthetic-generator.ts';
import type { PageFetcher, PageQuery } from './page-fetcher.ts';

export interface SyntheticOptions {
  /** Ages are computed against this clock; default the real clock, like the service. */
  now?: () => number;
  /** Seed for requests without one; default random per instance. */
  runSeed?: string;
}

export class SyntheticFetcher implements PageFetcher {
  readonly name = 'synthetic';
  private readonly runSeed: string;
  private readonly now: () => number;
  private page = 0;

  constructor(opts: SyntheticOptions = {}) {
    this.runSeed = opts.runSeed ?? randomBytes(8).toString('hex');
    this.now = opts.now ?? Date.now;
  }

  async fetch(query: PageQuery, signal: AbortSignal): Promise<RandomUserResponse> {
    throwIfAborted(signal);
    const seeded = query.seed !== undefined;
    const page = query.page ?? (seeded ? 1 : ++this.page);
    return generateResponse({
      seed: query.seed ?? this.runSeed,
      page,
      results: query.results,
      nat: query.nat,
      gender: query.gender,
      inc: query.inc,
      exc: query.exc,
      now: this.now(),
    });
  }

  close(): void {}
}
