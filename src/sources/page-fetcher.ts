import type { Nationality, RandomUserResponse } from '../transforms/randomuser-types.ts';

/** One request's parameters, as the RandomUser API 1.4 reads them. */
export interface PageQuery {
  /** 1..5000. */
  results: number;
  nat?: readonly Nationality[];
  gender?: 'male' | 'female';
  inc?: readonly string[];
  exc?: readonly string[];
  /** With `page`: the same seed and page give the same users. */
  seed?: string;
  page?: number;
}

/**
 * Where responses come from: the HTTP API or the synthetic generator. One call is one attempt: it resolves with a
 * complete response (envelope checked, `results` as long as asked) or rejects with a classified PipelineError;
 * retrying is the caller's job (the fetch source, through core/retry.ts).
 */
export interface PageFetcher {
  readonly name: string;
  fetch(query: PageQuery, signal: AbortSignal): Promise<RandomUserResponse>;
  /** Release connections. Idempotent. */
  close(): void | Promise<void>;
}
