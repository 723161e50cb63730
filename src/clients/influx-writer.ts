/**
 * InfluxDB writes whose outcome is known: `POST /api/v2/write` (InfluxDB 1.8+, 2.x, Cloud, 3.x), gzip,
 * `precision=ns`, `Authorization: Token <token>`.
 *
 * Why not @influxdata/influxdb-client's WriteApi: it drops the oldest lines when its buffer overflows,
 * discards its retry buffer on close() and reads Retry-After as milliseconds; userpipe must know the fate of
 * every line to settle its acks. Why Node's own fetch (undici) rather than got: one request per batch with no
 * hidden retry layer to disable (retries live in core/retry.ts), native AbortSignal for both cancellation and
 * the per-request timeout, keep-alive connection pooling, and no dependency.
 *
 * The token is sent only in the Authorization header; it never appears in an error message, a detail or
 * `describe()` (server text is scrubbed of it too).
 */
import { gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import { ConfigError, PipelineError, errorMessage, toPipelineError } from '../core/errors.ts';
import { type RetryInfo, type RetryOptions, retry } from '../core/retry.ts';
import { abortedError } from '../core/sleep.ts';
import { type PointWriter, type WriteResult, toLines } from '../sinks/point-writer.ts';
import { type InfluxErrorBody, parseInfluxErrorBody, truncate, writeStatusError } from './influx-errors.ts';
import { type ChunkRefusal, DEFAULT_MAX_ISOLATION_REQUESTS, writeIsolating } from './influx-isolate.ts';

const gzip = promisify(gzipCb);

export type InfluxRetryOptions = Partial<Omit<RetryOptions, 'signal' | 'onRetry'>>;

/**
 * Retry policy for 429/5xx/network/timeouts. Long enough to ride out a restart of InfluxDB (the caller blocks
 * meanwhile: backpressure), bounded so a dead server ends the run with an error instead of hanging forever.
 */
export const DEFAULT_INFLUX_RETRY: Readonly<InfluxRetryOptions> = {
  maxAttempts: Infinity,
  maxElapsedMs: 10 * 60_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

export interface InfluxWriterOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8086` (a path prefix behind a proxy is kept). */
  url: string;
  /** 2.x/Cloud bucket; on 1.8 `database` or `database/retention-policy`. */
  bucket: string;
  /** 2.x/Cloud organization (ignored by 1.8). Sent only when given. */
  org?: string;
  /** API token; on 1.8 with auth on, `user:password`. Never logged. */
  token?: string;
  /** Per request, including reading the answer. Default 30 s. */
  timeoutMs?: number;
  /** Gzip request bodies (Content-Encoding: gzip). Default true. */
  gzip?: boolean;
  /** zlib level. 1 (default) compresses a 5,000-user batch (2.7 MB) ~3.2x in ~20 ms; 6 gains only ~10% more for twice the CPU. */
  gzipLevel?: number;
  retry?: InfluxRetryOptions;
  /** Called before each retry wait: where the caller logs one line per retry. */
  onRetry?: (info: RetryInfo) => void;
  /** Budget of requests to isolate bad lines in one `write` (see influx-isolate.ts). Default 256. */
  maxIsolationRequests?: number;
}

export interface PingResult {
  status: number;
  /** `X-Influxdb-Version` header, e.g. "1.8.10". */
  version?: string;
  build?: string;
}

/** The JSON of InfluxQL `/query`. */
export interface InfluxQueryResponse {
  results: {
    statement_id?: number;
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
}

const MAX_BODY_BYTES = 1 << 20;

/** Read at most `max` bytes of an answer body (a proxy's HTML page or a huge 1.8 error must not blow memory). */
async function readBounded(res: Response, max = MAX_BODY_BYTES): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= max) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export class InfluxWriter implements PointWriter {
  readonly #base: URL;
  readonly #writeUrl: string;
  readonly #bucket: string;
  readonly #org: string | undefined;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #gzip: boolean;
  readonly #gzipLevel: number;
  readonly #retry: InfluxRetryOptions;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  readonly #maxIsolationRequests: number;

  constructor(opts: InfluxWriterOptions) {
    let base: URL;
    try {
      base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    } catch {
      throw new ConfigError(`invalid InfluxDB URL: ${JSON.stringify(opts.url)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ConfigError(`InfluxDB URL must be http(s): ${base.origin}`);
    }
    if (base.username || base.password) {
      throw new ConfigError('do not put credentials in the InfluxDB URL: use INFLUX_TOKEN or --influx-token-file');
    }
    if (!opts.bucket) throw new ConfigError('InfluxDB bucket is empty');
    // A header value must be one line of visible Latin-1: refuse early rather than fail every request.
    if (opts.token !== undefined && /[^\x20-\x7e\x80-\xff]/.test(opts.token)) {
      throw new ConfigError('InfluxDB token contains a line break or a character that cannot be sent in a header');
    }
    this.#base = base;
    this.#bucket = opts.bucket;
    this.#org = opts.org || undefined;
    this.#token = opts.token || undefined;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#gzip = opts.gzip ?? true;
    this.#gzipLevel = opts.gzipLevel ?? 1;
    this.#retry = { ...DEFAULT_INFLUX_RETRY, ...opts.retry };
    this.#onRetry = opts.onRetry;
    this.#maxIsolationRequests = opts.maxIsolationRequests ?? DEFAULT_MAX_ISOLATION_REQUESTS;
    const url = new URL('api/v2/write', base);
    if (this.#org !== undefined) url.searchParams.set('org', this.#org);
    url.searchParams.set('bucket', this.#bucket);
    url.searchParams.set('precision', 'ns');
    this.#writeUrl = url.toString();
  }

  describe(): string {
    return `influxdb ${this.#base.origin}${this.#base.pathname.replace(/\/$/, '')} bucket=${this.#bucket}${this.#org ? ` org=${this.#org}` : ''}`;
  }

  /**
   * The PointWriter contract: retries transient failures, isolates refused lines (400/413/422) and resolves
   * with the count written and the lines refused with InfluxDB's message. Throws AUTH / NOT_FOUND / CONFIG
   * (fatal), ABORTED, or the last transient error once the retry bounds are spent.
   */
  async write(input: readonly string[] | string, signal?: AbortSignal): Promise<WriteResult> {
    const lines = toLines(input);
    return writeIsolating(lines, (chunk) => this.#postWithRetry(chunk, signal), this.#maxIsolationRequests);
  }

  async #postWithRetry(chunk: readonly string[], signal: AbortSignal | undefined): Promise<ChunkRefusal | undefined> {
    try {
      await retry(() => this.post(chunk, signal), { ...this.#retry, maxAttempts: this.#retry.maxAttempts ?? Infinity, signal, onRetry: this.#onRetry });
      return undefined;
    } catch (err) {
      if (err instanceof PipelineError && err.code === 'REJECTED') {
        const details = err.details as { status?: number; influx?: InfluxErrorBody };
        return { status: details.status ?? 400, body: details.influx ?? { message: err.message } };
      }
      throw err;
    }
  }

  /**
   * ONE request with these lines, no retry, no isolation. Resolves when InfluxDB answered 2xx; throws a
   * classified PipelineError otherwise (see `writeStatusError`; REJECTED carries `details.influx`).
   */
  async post(lines: readonly string[], signal?: AbortSignal): Promise<void> {
    if (lines.length === 0) return;
    const raw = Buffer.from(lines.join('\n') + '\n', 'utf8');
    const body = this.#gzip ? await gzip(raw, { level: this.#gzipLevel }) : raw;
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', Accept: 'application/json' };
    if (this.#gzip) headers['Content-Encoding'] = 'gzip';
    this.#auth(headers);
    const res = await this.#fetch(this.#writeUrl, { method: 'POST', headers, body }, signal, async (r) => {
      if (r.ok) {
        await r.body?.cancel().catch(() => {});
        return;
      }
      // 1.8 quotes every unparseable line: a fully bad 5,000-line batch answers a few MB. Keep enough to parse.
      const text = this.#scrub(await readBounded(r, 8 << 20));
      throw writeStatusError(r.status, parseInfluxErrorBody(text), {
        bucket: this.#bucket,
        org: this.#org,
        url: this.#base.origin,
        retryAfter: r.headers.get('retry-after'),
      });
    });
    return res;
  }

  /** `GET /ping`: 204 when the server is ready. Throws a classified error when it cannot be reached. */
  async ping(signal?: AbortSignal): Promise<PingResult> {
    const headers: Record<string, string> = {};
    this.#auth(headers);
    return this.#fetch(new URL('ping', this.#base).toString(), { method: 'GET', headers }, signal, async (r) => {
      await r.body?.cancel().catch(() => {});
      if (!r.ok) throw writeStatusError(r.status, { message: `ping answered HTTP ${r.status}` }, { bucket: this.#bucket, url: this.#base.origin });
      const out: PingResult = { status: r.status };
      const version = r.headers.get('x-influxdb-version');
      const build = r.headers.get('x-influxdb-build');
      if (version !== null) out.version = version;
      if (build !== null) out.build = build;
      return out;
    });
  }

  /**
   * InfluxQL through `/query` (1.x and the 2.x v1-compatibility API), POSTed so CREATE/DROP work too.
   * Times come back as RFC3339 strings with nanoseconds (exact; `epoch=ns` integers would lose precision as
   * JS numbers). A statement error throws (NOT_FOUND when it says
   * "not found", else REJECTED). Meant for tests and operators' checks, not the hot path.
   */
  async query(influxql: string, db?: string, signal?: AbortSignal): Promise<InfluxQueryResponse> {
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
    this.#auth(headers);
    const form = new URLSearchParams({ q: influxql });
    if (db !== undefined) form.set('db', db);
    return this.#fetch(new URL('query', this.#base).toString(), { method: 'POST', headers, body: form.toString() }, signal, async (r) => {
      const text = this.#scrub(await readBounded(r, 256 << 20));
      if (!r.ok) {
        throw writeStatusError(r.status, parseInfluxErrorBody(text), { bucket: db ?? '', url: this.#base.origin, retryAfter: r.headers.get('retry-after') });
      }
      let json: InfluxQueryResponse;
      try {
        json = JSON.parse(text) as InfluxQueryResponse;
      } catch (err) {
        throw new PipelineError('BAD_RESPONSE', `InfluxDB /query answered non-JSON: ${truncate(text, 200)}`, { cause: err });
      }
      for (const result of json.results ?? []) {
        if (result.error !== undefined) {
          const code = /not found/i.test(result.error) ? 'NOT_FOUND' : 'REJECTED';
          throw new PipelineError(code, `InfluxQL error: ${result.error}`, { retryable: false, details: { query: truncate(influxql, 200) } });
        }
      }
      return json;
    });
  }

  async close(): Promise<void> {
    // fetch's connection pool is shared and idle sockets close themselves; nothing is buffered here.
  }

  #auth(headers: Record<string, string>): void {
    if (this.#token !== undefined) headers.Authorization = `Token ${this.#token}`;
  }

  #scrub(text: string): string {
    return this.#token !== undefined && text.includes(this.#token) ? text.split(this.#token).join('***') : text;
  }

  /**
   * fetch with the per-request timeout and the caller's signal, mapping transport failures to NETWORK /
   * TIMEOUT / ABORTED. `handle` reads the answer under the same deadline.
   */
  async #fetch<T>(url: string, init: RequestInit, signal: AbortSignal | undefined, handle: (r: Response) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw abortedError(signal);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await fetch(url, { ...init, signal: combined });
      return await handle(res);
    } catch (err) {
      if (err instanceof PipelineError) throw err;
      if (signal?.aborted) throw abortedError(signal);
      const target = `${this.#base.origin}${new URL(url).pathname}`;
      if (timeout.aborted) {
        throw new PipelineError('TIMEOUT', `InfluxDB did not answer within ${this.#timeoutMs} ms (${target})`, { cause: err });
      }
      const code = causeCode(err);
      // undici reports transport failures as TypeError('fetch failed') with the socket error as cause.
      if (code !== undefined || (err instanceof TypeError && err.message === 'fetch failed')) {
        throw new PipelineError('NETWORK', `cannot reach InfluxDB at ${target}: ${code ?? this.#scrub(errorMessage(err))}`, {
          cause: err,
          details: { code },
        });
      }
      throw toPipelineError(err);
    }
  }
}
