/**
 * Errors classified where they happen (principle 5): a stable `code`, whether a retry can help, an optional
 * server-given wait, and the cause. Retrying happens in one place (`retry.ts`), which reads only these fields.
 */

export type ErrorCode =
  | 'CONFIG' // bad flags, env or config file: exit 2
  | 'USAGE' // bad command line: exit 2
  | 'NETWORK' // connection refused/reset, DNS: retryable
  | 'TIMEOUT' // a phase of a request took too long: retryable
  | 'RATE_LIMITED' // 429: retryable, maybe with Retry-After
  | 'UNAVAILABLE' // 5xx, standby NameNode, broker not available: retryable
  | 'BAD_RESPONSE' // a 200 with a body we cannot use (HTML, truncated JSON, short results): retryable
  | 'INVALID_INPUT' // a record or file that will never be valid: quarantine / dead-letter, never retry
  | 'AUTH' // 401/403, SASL failure: fatal
  | 'NOT_FOUND' // 404 bucket/org/path: fatal for sinks
  | 'REJECTED' // the server refused the data itself (InfluxDB 400/413/422): split and dead-letter
  | 'ABORTED' // our own AbortSignal fired
  | 'INTERNAL'; // a bug

export interface PipelineErrorOptions {
  retryable?: boolean;
  /** Server-requested wait before the next attempt, already converted to milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
  /** Extra structured context for logs (status code, path, offset...). Never put secrets here. */
  details?: Record<string, unknown>;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set([
  'NETWORK',
  'TIMEOUT',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'BAD_RESPONSE',
]);

export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details ?? {};
  }
}

/** Configuration or usage problems: the CLI maps them to exit code 2 before anything starts. */
export class ConfigError extends PipelineError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG', message, { retryable: false, details });
    this.name = 'ConfigError';
  }
}

const RETRYABLE_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Whether an arbitrary thrown value is worth another attempt. Unknown errors are not: a bug stays loud. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof PipelineError) return err.retryable;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SYSCALL_CODES.has(code);
}

/** Wrap anything into a PipelineError, keeping the original as `cause`. */
export function toPipelineError(err: unknown, fallback: ErrorCode = 'INTERNAL'): PipelineError {
  if (err instanceof PipelineError) return err;
  if (isAbortError(err)) return new PipelineError('ABORTED', 'operation aborted', { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRYABLE_SYSCALL_CODES.has(code)) {
    return new PipelineError('NETWORK', `${code}: ${errorMessage(err)}`, { cause: err });
  }
  return new PipelineError(fallback, errorMessage(err), { cause: err });
}

export function isAbortError(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR' || (err instanceof PipelineError && err.code === 'ABORTED');
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
