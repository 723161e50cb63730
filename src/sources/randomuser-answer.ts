/**
 * Classification of everything the RandomUser service (or the network in front of it) can answer, into either a
 * usable response or a PipelineError that says whether another attempt can help. Pure: no I/O, so every fault is
 * unit-tested without a server. The retry itself happens in one place (core/retry.ts, called by the fetch source).
 *
 * | what happened                                  | code          | retryable |
 * |------------------------------------------------|---------------|-----------|
 * | connection refused/reset, DNS, socket hang up   | NETWORK       | yes       |
 * | a phase of the request took too long            | TIMEOUT       | yes       |
 * | 429 (Retry-After in seconds or a date honoured) | RATE_LIMITED  | yes       |
 * | 5xx, 408                                        | UNAVAILABLE / TIMEOUT | yes |
 * | 200 with HTML, truncated or invalid JSON        | BAD_RESPONSE  | yes       |
 * | 200 with an empty or short `results`            | BAD_RESPONSE  | yes       |
 * | 200 with an `{"error": ...}` body               | BAD_RESPONSE  | yes       |
 * | 401/403, 404, other 4xx                         | AUTH / NOT_FOUND / REJECTED | no |
 */
import { PipelineError, errorMessage } from '../core/errors.ts';
import { httpStatusError } from '../core/retry.ts';
import type { RandomUserResponse } from '../transforms/randomuser-types.ts';
import { checkResponseCompleteness, validateResponse } from '../transforms/user-schema.ts';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Turn an HTTP answer into the API response, or throw a classified PipelineError. `requested` is the `results` asked for. */
export function parseRandomUserAnswer(answer: HttpAnswer, requested: number): RandomUserResponse {
  const { status, headers, body } = answer;
  const contentType = headerValue(headers['content-type']) ?? '';
  if (status < 200 || status >= 300) {
    throw httpStatusError(status, `HTTP ${status}${bodyHint(body, contentType)}`, {
      retryAfter: headers['retry-after'],
      details: { status },
    });
  }
  const trimmed = body.trimStart();
  if (/html/i.test(contentType) || trimmed.startsWith('<')) {
    throw new PipelineError('BAD_RESPONSE', `HTML page instead of JSON${htmlTitle(body)}`, { details: { status, contentType, bytes: body.length } });
  }
  if (trimmed === '') throw new PipelineError('BAD_RESPONSE', 'empty body', { details: { status } });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    // A cut-off body is the common case (the connection dropped mid-answer); say so rather than quoting the parser.
    const truncated = endsInsideValue(body);
    throw new PipelineError('BAD_RESPONSE', truncated ? 'truncated JSON' : `invalid JSON: ${errorMessage(err)}`, {
      details: { status, bytes: body.length },
      cause: err,
    });
  }
  const shape = validateResponse(parsed);
  if (!shape.ok) throw new PipelineError('BAD_RESPONSE', `unusable response: ${shape.reason}`, { details: { status } });
  const complete = checkResponseCompleteness(shape.value, requested);
  if (!complete.ok) {
    throw new PipelineError('BAD_RESPONSE', complete.reason, { details: { status, expected: complete.expected, received: complete.received } });
  }
  return shape.value;
}

/** Network-level codes that mean "try again": the connection or the message broke, not our request. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPROTO',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_SOCKET',
]);

/**
 * Classify an error thrown by the HTTP client (got) for one attempt. `aborted` says whether our own signal fired
 * (then the error is ABORTED whatever it looks like). Unknown errors are not retried: a bug stays loud.
 */
export function classifyRequestError(err: unknown, aborted: boolean): PipelineError {
  if (err instanceof PipelineError) return err;
  if (aborted) return new PipelineError('ABORTED', 'request aborted', { cause: err });
  const e = err as { name?: unknown; code?: unknown; event?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') {
    const phase = typeof e.event === 'string' ? e.event : undefined;
    return new PipelineError('TIMEOUT', `timeout${phase ? ` (${phase})` : ''}: ${errorMessage(err)}`, { cause: err, details: phase ? { phase } : {} });
  }
  if (code !== undefined && (NETWORK_CODES.has(code) || code.startsWith('HPE_'))) {
    return new PipelineError('NETWORK', `${code}: ${errorMessage(err)}`, { cause: err, details: { errno: code } });
  }
  if (name === 'ReadError') {
    // The body stream broke after the headers: the same as a reset for our purposes.
    return new PipelineError('NETWORK', `read error: ${errorMessage(err)}`, { cause: err, details: code ? { errno: code } : {} });
  }
  return new PipelineError('INTERNAL', `request failed: ${errorMessage(err)}`, { cause: err, retryable: false, details: code ? { errno: code } : {} });
}

/** Whether `text` stops inside a JSON string, object or array: a cut-off document rather than a malformed one. */
export function endsInsideValue(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return inString || depth > 0;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A short hint of what the body said: the service's own `error` text, or an HTML title. */
function bodyHint(body: string, contentType: string): string {
  if (/json/i.test(contentType) || body.trimStart().startsWith('{')) {
    try {
      const e = (JSON.parse(body) as { error?: unknown }).error;
      if (typeof e === 'string') return `: ${clip(e, 100)}`;
    } catch {
      // not JSON after all; fall through
    }
  }
  return htmlTitle(body);
}

function htmlTitle(body: string): string {
  const t = /<title>([^<]{1,100})<\/title>/i.exec(body)?.[1]?.trim();
  return t ? ` (${t})` : '';
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}...`;
}
