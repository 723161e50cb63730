import { PipelineError, isRetryable, toPipelineError } from './errors.ts';
import { sleep, throwIfAborted } from './sleep.ts';

/**
 * The one retry helper: exponential backoff with full jitter (AWS architecture blog), honouring a server's
 * `Retry-After`, bounded both in attempts and in total elapsed time, cancellable by an AbortSignal.
 *
 * The callee decides what is retryable by throwing a PipelineError with `retryable`; anything else is not
 * retried (a bug stays loud). The callee may also call `bail(err)` to stop at once with a final error.
 */
export interface RetryOptions {
  /** Total attempts including the first; `Infinity` only together with a finite `maxElapsedMs` or a signal. */
  maxAttempts: number;
  /** Stop retrying once this much time has passed since the first attempt (the current attempt still ends). */
  maxElapsedMs?: number;
  /** First backoff ceiling. */
  baseDelayMs?: number;
  /** Largest backoff ceiling (and the cap on a server's Retry-After). */
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Called before each wait: where callers log the one line per retry. */
  onRetry?: (info: RetryInfo) => void;
  /** For deterministic tests. */
  random?: () => number;
  now?: () => number;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: PipelineError;
}

export interface RetryContext {
  attempt: number;
  bail: (err: unknown) => never;
}

class Bail {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

export async function retry<T>(fn: (ctx: RetryContext) => Promise<T>, options: RetryOptions): Promise<T> {
  const {
    maxAttempts,
    maxElapsedMs = Infinity,
    baseDelayMs = 200,
    maxDelayMs = 30_000,
    signal,
    onRetry,
    random = Math.random,
    now = Date.now,
  } = options;
  if (!(maxAttempts >= 1)) throw new RangeError('maxAttempts must be >= 1');
  const started = now();
  const bail = (err: unknown): never => {
    throw new Bail(err);
  };
  for (let attempt = 1; ; attempt++) {
    // Not signal.throwIfAborted(): that throws the raw reason (Lifecycle uses strings), callers expect ABORTED.
    throwIfAborted(signal);
    try {
      return await fn({ attempt, bail });
    } catch (raw) {
      if (raw instanceof Bail) throw raw.error;
      if (signal?.aborted) throw toPipelineError(raw, 'ABORTED');
      if (!isRetryable(raw) || attempt >= maxAttempts) throw raw;
      const error = toPipelineError(raw);
      let delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      if (error.retryAfterMs !== undefined) delayMs = Math.min(Math.max(delayMs, error.retryAfterMs), maxDelayMs);
      if (now() + delayMs - started > maxElapsedMs) throw raw;
      onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}

/**
 * Parse an HTTP `Retry-After` value: delta-seconds or an HTTP date. Returns milliseconds (>= 0) or undefined.
 * Note: RFC 9110 says seconds. Some clients (the InfluxDB JS client) read milliseconds; we do not.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const trimmed = v.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Every HTTP-date form has a time of day; V8's lenient Date.parse alone accepts text like "in 2030" or "-5".
  if (!/\d{2}:\d{2}:\d{2}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Map an HTTP status to a classified error; the place every HTTP client in userpipe shares. */
export function httpStatusError(
  status: number,
  message: string,
  opts: { retryAfter?: string | string[] | undefined; details?: Record<string, unknown>; cause?: unknown } = {},
): PipelineError {
  const details = { status, ...opts.details };
  const retryAfterMs = parseRetryAfter(opts.retryAfter);
  if (status === 429) return new PipelineError('RATE_LIMITED', message, { retryAfterMs, details, cause: opts.cause });
  if (status === 401 || status === 403) return new PipelineError('AUTH', message, { details, cause: opts.cause });
  if (status === 404) return new PipelineError('NOT_FOUND', message, { details, cause: opts.cause });
  if (status === 408) return new PipelineError('TIMEOUT', message, { details, cause: opts.cause });
  if (status >= 500) return new PipelineError('UNAVAILABLE', message, { retryAfterMs, details, cause: opts.cause });
  return new PipelineError('REJECTED', message, { details, cause: opts.cause });
}
