/**
 * InfluxDB line protocol: escaping and rendering (pure; the hot path of `process`).
 *
 * One point renders to exactly one line, whatever its strings hold. The rules are the intersection of what
 * InfluxDB 1.8/2.x (`models/points.go`) and the newer `influxdata/line-protocol` v2 decoder accept and read
 * back identically, so a line means the same thing to every server userpipe writes to:
 *
 * - Measurement: `,` and space are escaped with `\`. Tag keys, tag values, field keys: `,`, `=` and space
 *   are escaped. String field values are double-quoted with `"` and `\` escaped. Integers carry the `i`
 *   suffix; floats are written in their shortest round-trip form; NaN and ±Infinity are refused.
 * - Line breaks: the docs say line protocol does not support a newline in tag or field values (1.8 happens to
 *   accept one inside a quoted string, other parsers differ), so every line break (CRLF, LF or CR) becomes
 *   ONE SPACE, in string fields and in tags/keys alike (`LINE_BREAK_REPLACEMENT`).
 * - Other control characters (U+0000-U+001F, U+007F): kept in string fields (quoted, accepted by every
 *   parser); in the measurement, tag keys, tag values and field keys they become a space, because the v2
 *   grammar forbids non-printable bytes there.
 * - Backslashes in the measurement, tag keys, tag values and field keys: a backslash there is literal unless
 *   it precedes an escapable character, and the parsers disagree on `\\`, so there is no portable way to
 *   write a backslash that ends a value (it would escape the separator and break the line) or precedes
 *   `,` `=` space or `"`. Such a RUN of backslashes is dropped (`state\` -> `state`, `a\,b` -> `a,b`);
 *   a backslash before any other character is kept (`a\b` stays `a\b`). Backslashes in string fields are
 *   always kept (escaped as `\\`).
 * - A tag whose value is empty (after the above) is omitted: InfluxDB does not allow empty tag values.
 * - Tags are sorted by key in byte order (Go's bytes.Compare), as InfluxDB recommends for write speed.
 * - Lone UTF-16 surrogates cannot be encoded in UTF-8: the request encoder writes U+FFFD for them.
 *
 * `normalizePoint` returns a point as InfluxDB will store it after these rules; tests compare against it.
 */
import { ConfigError, PipelineError } from '../core/errors.ts';

export type FieldType = 'string' | 'float' | 'integer' | 'boolean';

export type FieldValue =
  | { type: 'string'; value: string }
  | { type: 'float'; value: number }
  /** A safe integer (`Number.isSafeInteger`) or a bigint within int64. */
  | { type: 'integer'; value: number | bigint }
  | { type: 'boolean'; value: boolean };

/** One InfluxDB point. Tag and field keys must be non-empty; at least one field is required. */
export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the epoch; written with `precision=ns`. */
  timestampNs: bigint;
}

/** What a line break (CRLF, LF, CR) in any string becomes. */
export const LINE_BREAK_REPLACEMENT = ' ';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// InfluxDB reserves the two extreme int64 values (models.MinNanoTime / MaxNanoTime).
const TIME_MIN = INT64_MIN + 2n;
const TIME_MAX = INT64_MAX - 1n;

// Quick checks: one regex test per string; the char-by-char slow path runs only when it matches.
// eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
const IDENT_SLOW = /[\x00-\x1f\x7f ,=\\]/;
const STRING_SLOW = /[\\"\r\n]/;

const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const SPACE = 0x20;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

function isControl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

/**
 * Sanitize and escape an identifier (measurement, tag key, tag value, field key).
 * `escapeEquals` is false for the measurement, where `=` is an ordinary character.
 */
function escapeIdentifier(s: string, escapeEquals: boolean): string {
  if (!IDENT_SLOW.test(s)) return s;
  let out = '';
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      let j = i + 1;
      while (j < n && s.charCodeAt(j) === BACKSLASH) j++;
      // Keep the run only when what follows is an ordinary character; control characters count as the
      // space they become.
      if (j < n) {
        const next = s.charCodeAt(j);
        if (!(isControl(next) || next === COMMA || next === EQUALS || next === SPACE || next === QUOTE)) {
          out += s.slice(i, j);
        }
      }
      i = j;
      continue;
    }
    if (c === CR || c === LF) {
      out += '\\ ';
      i += c === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
      continue;
    }
    if (isControl(c) || c === SPACE) out += '\\ ';
    else if (c === COMMA) out += '\\,';
    else if (c === EQUALS && escapeEquals) out += '\\=';
    else out += s[i];
    i++;
  }
  return out;
}

/** A tag key, tag value or field key, escaped for a line (may be '' when nothing survives). */
export function escapeKey(s: string): string {
  return escapeIdentifier(s, true);
}

/** A measurement name, escaped for a line. */
export function escapeMeasurement(s: string): string {
  return escapeIdentifier(s, false);
}

/** The inside of a string field value (without the surrounding quotes). */
export function escapeStringField(s: string): string {
  if (!STRING_SLOW.test(s)) return s;
  let out = '';
  let last = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH || c === QUOTE) {
      out += s.slice(last, i) + '\\';
      last = i; // the character itself is copied with the next slice
    } else if (c === CR || c === LF) {
      out += s.slice(last, i) + LINE_BREAK_REPLACEMENT;
      if (c === CR && s.charCodeAt(i + 1) === LF) i++;
      last = i + 1;
    }
  }
  return out + s.slice(last);
}

/** Shortest decimal that parses back to the same double (JS's Number#toString), e.g. `-2.2617`, `1e+21`. */
export function formatFloat(n: number): string {
  if (!Number.isFinite(n)) throw new PipelineError('INVALID_INPUT', `float field is not finite: ${n}`);
  return String(n);
}

function formatField(key: string, v: FieldValue): string {
  switch (v.type) {
    case 'string':
      return `"${escapeStringField(v.value)}"`;
    case 'float':
      if (typeof v.value !== 'number' || !Number.isFinite(v.value)) {
        throw new PipelineError('INVALID_INPUT', `field "${key}" is not a finite float: ${String(v.value)}`);
      }
      return String(v.value);
    case 'integer':
      if (typeof v.value === 'bigint') {
        if (v.value < INT64_MIN || v.value > INT64_MAX) {
          throw new PipelineError('INVALID_INPUT', `field "${key}" is outside int64: ${v.value}`);
        }
        return `${v.value}i`;
      }
      if (!Number.isSafeInteger(v.value)) {
        throw new PipelineError('INVALID_INPUT', `field "${key}" is not a safe integer: ${String(v.value)}`);
      }
      return `${v.value}i`;
    case 'boolean':
      return v.value ? 'true' : 'false';
    default:
      throw new PipelineError('INVALID_INPUT', `field "${key}" has an unknown type`);
  }
}

/**
 * Compare strings in UTF-8 byte order (Go's bytes.Compare), which differs from JS's UTF-16 code-unit order
 * only when a surrogate (U+D800-DFFF) meets a code unit >= U+E000.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function sortByKey(a: [string, string], b: [string, string]): number {
  return compareUtf8(a[0], b[0]);
}

function assertDistinctFieldKeys(fields: Record<string, FieldValue>): void {
  const seen = new Set<string>();
  for (const k in fields) {
    const key = escapeKey(k);
    if (seen.has(key)) throw new PipelineError('INVALID_INPUT', `duplicate field key after escaping: ${JSON.stringify(k)}`);
    seen.add(key);
  }
}

let cachedMeasurement = '';
let cachedMeasurementEscaped = '';

/**
 * Render one point as one line of line protocol (no trailing newline).
 * Throws PipelineError INVALID_INPUT (dead-letter the record, never retry) for a point that cannot be
 * written: no field, empty or duplicate key, non-finite float, integer out of range, timestamp out of range.
 */
export function renderPoint(p: Point): string {
  let measurement: string;
  if (p.measurement === cachedMeasurement && cachedMeasurement !== '') {
    measurement = cachedMeasurementEscaped;
  } else {
    measurement = escapeMeasurement(p.measurement);
    if (measurement === '' || measurement.charCodeAt(0) === 0x23 /* # starts a comment */) {
      throw new PipelineError('INVALID_INPUT', `invalid measurement name: ${JSON.stringify(p.measurement)}`);
    }
    cachedMeasurement = p.measurement;
    cachedMeasurementEscaped = measurement;
  }

  let line = measurement;
  const tagKeys = Object.keys(p.tags);
  if (tagKeys.length > 0) {
    const pairs: [string, string][] = [];
    for (const k of tagKeys) {
      const value = escapeKey(p.tags[k] as string);
      if (value === '') continue;
      const key = escapeKey(k);
      if (key === '') throw new PipelineError('INVALID_INPUT', `empty tag key: ${JSON.stringify(k)}`);
      pairs.push([key, value]);
    }
    if (pairs.length > 1) pairs.sort(sortByKey);
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i] as [string, string];
      if (i > 0 && (pairs[i - 1] as [string, string])[0] === pair[0]) {
        throw new PipelineError('INVALID_INPUT', `duplicate tag key: ${JSON.stringify(pair[0])}`);
      }
      line += ',' + pair[0] + '=' + pair[1];
    }
  }

  let first = true;
  let changed = false;
  for (const k in p.fields) {
    const key = escapeKey(k);
    if (key === '') throw new PipelineError('INVALID_INPUT', `empty field key: ${JSON.stringify(k)}`);
    if (key !== k) changed = true;
    line += (first ? ' ' : ',') + key + '=' + formatField(k, p.fields[k] as FieldValue);
    first = false;
  }
  // Rare: sanitizing changed a key, so two keys may now be the same one.
  if (changed) assertDistinctFieldKeys(p.fields);
  if (first) throw new PipelineError('INVALID_INPUT', 'point has no fields');

  const ts = p.timestampNs;
  if (typeof ts !== 'bigint' || ts < TIME_MIN || ts > TIME_MAX) {
    throw new PipelineError('INVALID_INPUT', `timestamp out of range: ${String(ts)}`);
  }
  return line + ' ' + ts.toString();
}

/** Render points joined by `\n` (no trailing newline): one request body. */
export function renderBatch(points: readonly Point[]): string {
  let out = '';
  for (let i = 0; i < points.length; i++) {
    out += (i === 0 ? '' : '\n') + renderPoint(points[i] as Point);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Normalization: the point InfluxDB will store (tests, DLQ context).

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** What UTF-8 encoding makes of a string: lone surrogates become U+FFFD (String#toWellFormed, ES2024). */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

function replaceLineBreaks(s: string): string {
  return s.includes('\r') || s.includes('\n') ? s.replace(/\r\n|\r|\n/g, LINE_BREAK_REPLACEMENT) : s;
}

/** A tag key/value, field key or measurement as stored: the identifier rules without the escaping. */
export function normalizeIdentifier(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
  let t = replaceLineBreaks(s).replace(/[\x00-\x1f\x7f]/g, ' ');
  t = t.replace(/\\+(?=[ ,="]|$)/g, '');
  return wellFormed(t);
}

/** A string field value as stored. */
export function normalizeStringField(s: string): string {
  return wellFormed(replaceLineBreaks(s));
}

/** The point as InfluxDB stores it: identifiers and strings normalized, empty tags dropped. */
export function normalizePoint(p: Point): Point {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.tags)) {
    const nv = normalizeIdentifier(v);
    if (nv !== '') tags[normalizeIdentifier(k)] = nv;
  }
  const fields: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(p.fields)) {
    fields[normalizeIdentifier(k)] = v.type === 'string' ? { type: 'string', value: normalizeStringField(v.value) } : v;
  }
  return { measurement: normalizeIdentifier(p.measurement), tags, fields, timestampNs: p.timestampNs };
}

/**
 * Check a measurement name given on the command line, so a bad one stops the run at start instead of
 * dead-lettering every point: non-empty, no control characters or backslashes, not starting with `#`
 * (a comment line) or `_` (reserved by InfluxDB 2.x).
 */
export function validateMeasurement(name: string): void {
  if (name === '') throw new ConfigError('measurement name is empty');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
  if (/[\x00-\x1f\x7f\\]/.test(name)) {
    throw new ConfigError('measurement name contains a control character or a backslash', { measurement: name });
  }
  if (name.startsWith('#') || name.startsWith('_')) {
    throw new ConfigError('measurement name must not start with "#" or "_"', { measurement: name });
  }
}
