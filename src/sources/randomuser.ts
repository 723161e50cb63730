/**
 * The RandomUser API client: one HTTP GET per call, with a timeout per phase, got's own retry disabled (retries
 * happen in one place, the fetch source, through core/retry.ts), and every outcome classified by
 * `randomuser-answer.ts`. Keep-alive connections are pooled per client; `close()` drops them.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got from 'got';
import { PipelineError } from '../core/errors.ts';
import type { RandomUserResponse } from '../transforms/randomuser-types.ts';
import { classifyRequestError, parseRandomUserAnswer } from './randomuser-answer.ts';
import type { PageFetcher, PageQuery } from './page-fetcher.ts';

export const DEFAULT_API_URL = 'https://randomuser.me/api/1.4/';

export interface HttpTimeouts {
  /** DNS lookup, TCP connect and TLS handshake, each. */
  connectMs: number;
  /** From the request sent to the response headers (the service's think time). */
  responseMs: number;
  /** From the response headers to the end of the body. */
  readMs: number;
}

export interface RandomUserClientOptions {
  apiUrl: string;
  timeouts: HttpTimeouts;
  /** Answers larger than this are refused (5,000 users are about 6 MB). Default 64 MiB. */
  maxResponseBytes?: number;
  userAgent?: string;
}

export class RandomUserClient implements PageFetcher {
  readonly name = 'randomuser';
  private readonly opts: RandomUserClientOptions;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };

  constructor(opts: RandomUserClientOptions) {
    this.opts = opts;
    // A few sockets are plenty: requests are paced, and at most one is in flight per source.
    this.agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 4 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 4 }) };
  }

  /**
   * One attempt, no retry. Resolves with a complete, schema-checked response envelope (users not yet checked one by
   * one); rejects with a classified PipelineError (see randomuser-answer.ts), ABORTED when `signal` fired.
   */
  async fetch(query: PageQuery, signal: AbortSignal): Promise<RandomUserResponse> {
    const { timeouts } = this.opts;
    const maxBytes = this.opts.maxResponseBytes ?? 64 * 1024 * 1024;
    const tooLarge = new AbortController();
    const request = got(this.opts.apiUrl, {
      searchParams: searchParams(query),
      headers: { 'user-agent': this.opts.userAgent ?? 'userpipe', accept: 'application/json' },
      timeout: {
        lookup: timeouts.connectMs,
        connect: timeouts.connectMs,
        secureConnect: timeouts.connectMs,
        send: timeouts.connectMs,
        response: timeouts.responseMs,
        read: timeouts.readMs,
        // A hard cap on the whole attempt, in case the phases leave a gap.
        request: 3 * timeouts.connectMs + timeouts.responseMs + timeouts.readMs,
      },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: true,
      maxRedirects: 3,
      responseType: 'text',
      agent: this.agents,
      signal: AbortSignal.any([signal, tooLarge.signal]),
    });
    void request.on('downloadProgress', (p: { transferred: number }) => {
      if (p.transferred > maxBytes && !tooLarge.signal.aborted) tooLarge.abort();
    });
    let response;
    try {
      response = await request;
    } catch (err) {
      if (tooLarge.signal.aborted && !signal.aborted) {
        throw new PipelineError('BAD_RESPONSE', `answer larger than ${maxBytes} bytes`, { retryable: false, cause: err });
      }
      throw classifyRequestError(err, signal.aborted);
    }
    return parseRandomUserAnswer({ status: response.statusCode, headers: response.headers, body: response.body }, query.results);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/** The query string the API reads; lists are comma-joined, nationalities lower-case as the docs write them. */
export function searchParams(q: PageQuery): URLSearchParams {
  const p = new URLSearchParams();
  p.set('results', String(q.results));
  if (q.nat && q.nat.length > 0) p.set('nat', q.nat.join(',').toLowerCase());
  if (q.gender) p.set('gender', q.gender);
  if (q.inc && q.inc.length > 0) p.set('inc', q.inc.join(','));
  if (q.exc && q.exc.length > 0) p.set('exc', q.exc.join(','));
  if (q.seed !== undefined) p.set('seed', q.seed);
  if (q.page !== undefined) p.set('page', String(q.page));
  return p;
}
