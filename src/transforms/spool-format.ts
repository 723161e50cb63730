/**
 * What a spool file holds, decided per file from its bytes (pure: no I/O, never throws):
 * - `response`: one API response (`{"results": [...], "info": {...}}`), on one line as `fetch` writes it, or
 *   pretty-printed over many lines;
 * - `ndjson`: one JSON value per line, each an API response or a single user (mixed is fine); blank lines
 *   are skipped. A file holding a single user on one line is NDJSON of one user.
 *
 * A file is all-or-nothing at this level: bytes that are not UTF-8, an empty file, a line that is not JSON
 * (a truncated last line included) or a value of the wrong shape fail the whole file with a reason and a
 * position, and the source quarantines it. Checking single users against the schema is not done here: one bad
 * user must not take its file with it (see `user-messages.ts`).
 */
import { USER_SCHEMA, validateResponse } from './user-schema.ts';
import type { RandomUserResponse } from './randomuser-types.ts';
import { jsonErrorMessage, jsonErrorOffset, positionAt } from './json-error-position.ts';

export type SpoolRecord =
  | { kind: 'response'; response: RandomUserResponse; raw: string; line: number }
  | { kind: 'user'; user: Record<string, unknown>; raw: string; line: number };

export interface FilePosition {
  /** 1-based line, when the problem is inside a line. */
  line?: number;
  column?: number;
  /** 0-based byte offset in the file. */
  byte: number;
}

export type SpoolLayout = 'response' | 'ndjson';

export type SpoolParse =
  | { ok: true; layout: SpoolLayout; records: SpoolRecord[] }
  | { ok: false; reason: string; position: FilePosition };

const USER_KEYS: ReadonlySet<string> = new Set(Object.keys(USER_SCHEMA.properties));
const BOM = 3; // bytes of a UTF-8 byte order mark, which TextDecoder strips

export function parseSpoolFile(bytes: Uint8Array): SpoolParse {
  if (bytes.length === 0) return fail('empty file', { byte: 0 });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const byte = firstInvalidUtf8(bytes);
    return fail(`not UTF-8 text (invalid byte 0x${(bytes[byte] ?? 0).toString(16).padStart(2, '0')}; binary file?)`, { byte });
  }
  const shift = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? BOM : 0;
  if (text.trim() === '') return fail('empty file (only whitespace)', { byte: 0 });

  const firstEnd = text.indexOf('\n');
  const firstLine = firstEnd === -1 ? text : text.slice(0, firstEnd);
  const single = firstEnd === -1 || text.slice(firstEnd).trim() === '';
  if (!single && parses(firstLine)) return parseNdjson(text, shift);
  return parseDocument(text, shift);
}

/** The whole file is one JSON value (one line or pretty-printed). */
function parseDocument(text: string, shift: number): SpoolParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(`not valid JSON: ${jsonErrorMessage(err)}`, at(text, jsonErrorOffset(text) ?? 0, shift));
  }
  // Response format sends `raw`: the file's own bytes when it is one line (as Flume did), else compacted.
  const trimmed = text.trim();
  const raw = trimmed.includes('\n') ? JSON.stringify(value) : trimmed;
  const record = classify(value, raw, 1);
  if (!record.ok) return fail(record.reason, { line: 1, byte: shift });
  return { ok: true, layout: record.value.kind === 'response' ? 'response' : 'ndjson', records: [record.value] };
}

function parseNdjson(text: string, shift: number): SpoolParse {
  const records: SpoolRecord[] = [];
  let start = 0;
  for (let line = 1; start < text.length; line++) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    const content = text.slice(start, end).replace(/\r$/, '');
    if (content.trim() !== '') {
      let value: unknown;
      try {
        value = JSON.parse(content);
      } catch (err) {
        const offset = jsonErrorOffset(content) ?? 0;
        const within = positionAt(content, offset);
        return fail(`line ${line} is not valid JSON: ${jsonErrorMessage(err)}`, {
          line,
          column: within.column,
          byte: shift + Buffer.byteLength(text.slice(0, start), 'utf8') + within.byte,
        });
      }
      const record = classify(value, content.trim(), line);
      if (!record.ok) {
        return fail(`line ${line}: ${record.reason}`, { line, byte: shift + Buffer.byteLength(text.slice(0, start), 'utf8') });
      }
      records.push(record.value);
    }
    start = end + 1;
  }
  return { ok: true, layout: 'ndjson', records };
}

type Classified = { ok: true; value: SpoolRecord } | { ok: false; reason: string };

/** A response (an object with `results`), a user (an object with at least one user key), or the wrong shape. */
function classify(value: unknown, raw: string, line: number): Classified {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `wrong shape: expected an API response or a user object, got ${kindOf(value)}` };
  }
  const obj = value as Record<string, unknown>;
  if ('results' in obj) {
    const v = validateResponse(obj);
    if (!v.ok) return { ok: false, reason: `wrong shape: not an API response: ${v.reason}` };
    return { ok: true, value: { kind: 'response', response: v.value, raw, line } };
  }
  if (Object.keys(obj).some((k) => USER_KEYS.has(k))) return { ok: true, value: { kind: 'user', user: obj, raw, line } };
  const v = validateResponse(obj); // names the service's error body ("API error body: ...") when it is one
  return { ok: false, reason: `wrong shape: neither an API response nor a user: ${v.ok ? 'no known keys' : v.reason}` };
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function at(text: string, offset: number, shift: number): FilePosition {
  const p = positionAt(text, offset);
  return { line: p.line, column: p.column, byte: p.byte + shift };
}

function fail(reason: string, position: FilePosition): SpoolParse {
  return { ok: false, reason, position };
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence (bytes.length if none). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}
