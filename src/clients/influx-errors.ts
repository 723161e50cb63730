/**
 * Reading InfluxDB's answers to a write (pure): the three error body shapes, which lines a rejection names,
 * and the classification of every status into a PipelineError.
 *
 * Body shapes:
 * - 1.8: `{"error": "..."}`; a parse failure lists EVERY bad line as `unable to parse '<line>': <reason>`
 *   (joined by `\n`), prefixed `partial write: ` when the good lines were written anyway; storage refusals say
 *   `partial write: <reason> dropped=N` (field type conflict, beyond retention policy, max-values-per-tag).
 *   1.8 answers these with 400, even when it wrote the rest of the batch.
 * - 2.x / Cloud 2: `{"code": "invalid", "message": "...", "line": N}` (`line` = first bad line, 1-based, when
 *   known); 422 `partial write: ... dropped=N` when points were dropped after parsing.
 * - 3.x: `{"error": "...", "data": [{"original_line", "line_number", "error_message"}]}` (up to 100 lines;
 *   the good lines are written: partial writes are the default).
 */
import { ConfigError, PipelineError } from '../core/errors.ts';
import { httpStatusError } from '../core/retry.ts';

/** Longest message kept per rejected line / error (a 1.8 body can quote thousands of lines). */
export const MAX_MESSAGE_CHARS = 2_000;

export interface InfluxErrorBody {
  /** The human message (1.8 `error`, 2.x `message`, 3.x `error`), or the raw text of a non-JSON body. */
  message: string;
  /** 2.x `code` ("invalid", "unauthorized", "not found", ...). */
  code?: string;
  /** 2.x: first bad line, 1-based within the request body. */
  line?: number;
  /** 3.x: per-line errors, 1-based line numbers. */
  lines?: { lineNumber: number; message: string; original?: string }[];
}

export function truncate(s: string, max = MAX_MESSAGE_CHARS): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length - max} more chars)`;
}

export function parseInfluxErrorBody(text: string): InfluxErrorBody {
  const trimmed = text.trim();
  let json: unknown;
  if (trimmed.startsWith('{')) {
    try {
      json = JSON.parse(trimmed);
    } catch {
      json = undefined;
    }
  }
  const o = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : undefined;
  if (o === undefined) return { message: trimmed };
  const message =
    typeof o.message === 'string' ? o.message : typeof o.error === 'string' ? o.error : JSON.stringify(o);
  const out: InfluxErrorBody = { message };
  if (typeof o.code === 'string') out.code = o.code;
  if (typeof o.line === 'number' && Number.isInteger(o.line)) out.line = o.line;
  if (Array.isArray(o.data)) {
    const lines: NonNullable<InfluxErrorBody['lines']> = [];
    for (const d of o.data) {
      const e = typeof d === 'object' && d !== null ? (d as Record<string, unknown>) : undefined;
      if (e === undefined || typeof e.line_number !== 'number') continue;
      const entry: { lineNumber: number; message: string; original?: string } = {
        lineNumber: e.line_number,
        message: typeof e.error_message === 'string' ? e.error_message : message,
      };
      if (typeof e.original_line === 'string') entry.original = e.original_line;
      lines.push(entry);
    }
    if (lines.length > 0) out.lines = lines;
  }
  return out;
}

/** `dropped=N` of a partial write (the last one if several). */
export function parseDropped(message: string): number | undefined {
  let m: RegExpExecArray | null;
  let last: number | undefined;
  const re = /dropped=(\d+)/g;
  while ((m = re.exec(message)) !== null) last = Number(m[1]);
  return last;
}

const UNPARSEABLE = "unable to parse '";

/**
 * The lines of `chunk` that a rejection names, with the message for each: 3.x `data`, 2.x `line`, 1.8
 * `unable to parse '<line>': ...`. Indexes are 0-based within `chunk`. Empty when nothing is named.
 * Linear in the size of the message: no per-line scan of the message.
 */
export function namedBadLines(body: InfluxErrorBody, chunk: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  const byNumber = (n: number, message: string, original?: string): void => {
    const i = n - 1;
    if (i < 0 || i >= chunk.length) return;
    if (original !== undefined && chunk[i] !== original) return; // not the body we think it is: trust nothing
    out.set(i, truncate(message));
  };
  for (const l of body.lines ?? []) byNumber(l.lineNumber, l.message, l.original);
  if (body.line !== undefined) byNumber(body.line, body.message);

  const msg = body.message;
  let pos = msg.indexOf(UNPARSEABLE);
  if (pos < 0) return out;
  const index = new Map<string, number[]>();
  chunk.forEach((l, i) => {
    const list = index.get(l);
    if (list) list.push(i);
    else index.set(l, [i]);
  });
  while (pos >= 0) {
    const start = pos + UNPARSEABLE.length;
    const next = msg.indexOf('\n' + UNPARSEABLE, start);
    const end = next < 0 ? msg.length : next;
    // The line itself may contain "': ", so try every candidate end inside this segment.
    for (let q = msg.indexOf("': ", start); q >= 0 && q < end; q = msg.indexOf("': ", q + 1)) {
      const hits = index.get(msg.slice(start, q));
      if (hits) {
        // 1.8 appends the batch's " dropped=N" to the last reason: not part of this line's reason.
        const text = truncate(`unable to parse line: ${msg.slice(q + 3, end).replace(/ dropped=\d+$/, '')}`);
        for (const i of hits) out.set(i, text);
        break;
      }
    }
    pos = next < 0 ? -1 : next + 1;
  }
  return out;
}

// 400s that are about the request, not the lines: splitting the batch would only dead-letter good data.
const REQUEST_LEVEL_400 = [
  /provide either orgID or org/i,
  /invalid precision/i,
  /bucket (name )?is required|database is required|missing required parameter/i,
];

export interface WriteErrorContext {
  bucket: string;
  org?: string;
  /** The server URL without credentials, for messages. */
  url: string;
  retryAfter?: string | null;
}

/**
 * Classify a non-2xx answer of `/api/v2/write`:
 * 400/413/422 REJECTED (data refused: isolate and dead-letter; `details.influx` holds the parsed body),
 * 401/403 AUTH and 404 NOT_FOUND (fatal, with a message naming the cause), 429 RATE_LIMITED and 5xx
 * UNAVAILABLE (retryable, with Retry-After in seconds), anything else CONFIG (wrong URL or a proxy).
 */
export function writeStatusError(status: number, body: InfluxErrorBody, ctx: WriteErrorContext): PipelineError {
  const said = truncate(body.message || `HTTP ${status}`);
  const where = `bucket "${ctx.bucket}"${ctx.org ? ` (org "${ctx.org}")` : ''} at ${ctx.url}`;
  const details = { status, bucket: ctx.bucket, org: ctx.org, url: ctx.url, influx: body };
  if (status === 400 && REQUEST_LEVEL_400.some((re) => re.test(body.message))) {
    return new ConfigError(`InfluxDB refused the write request itself (HTTP 400) for ${where}: ${said}`, details);
  }
  if (status === 400 || status === 413 || status === 422) {
    return new PipelineError('REJECTED', `InfluxDB rejected the batch (HTTP ${status}): ${said}`, {
      retryable: false,
      details,
    });
  }
  if (status === 401) {
    return httpStatusError(
      status,
      `InfluxDB rejected the token (HTTP 401: ${said}) for ${where}. Check INFLUX_TOKEN or --influx-token-file ` +
        '(InfluxDB 1.8 with auth on expects "user:password").',
      { details },
    );
  }
  if (status === 403) {
    return httpStatusError(status, `the token may not write to ${where} (HTTP 403: ${said})`, { details });
  }
  if (status === 404) {
    return httpStatusError(
      status,
      `${where} was not found (HTTP 404: ${said}). On InfluxDB 1.8 the bucket is "database" or ` +
        '"database/retention-policy" and the database must exist (CREATE DATABASE); on 2.x/Cloud check the bucket and org names.',
      { details },
    );
  }
  if (status === 429 || status >= 500) {
    return httpStatusError(status, `InfluxDB is unavailable (HTTP ${status}): ${said}`, {
      retryAfter: ctx.retryAfter ?? undefined,
      details,
    });
  }
  return new ConfigError(`unexpected HTTP ${status} from the InfluxDB write API at ${ctx.url}: ${said} (check --influx-url)`, details);
}
