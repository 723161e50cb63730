/**
 * Spool file names: the seed script's `response_YYYYmmdd_HHMMSS.json` extended so that names are unique and sort
 * by fetch time even at hundreds of responses a second, and even with several fetch processes writing into the
 * same directory:
 *
 *     response_20261130_050102_123_07_k3f9qa.json
 *              date     time   ms  seq writer
 *
 * - date/time/ms: the fetch time in UTC (the moment the response arrived);
 * - seq: 00..99, the response's sequence within that millisecond in this process (`seq` of `userTimestampNs`);
 * - writer: a short id of the writing process ([a-z0-9]{1,12}), so two processes that stamp the same
 *   millisecond and sequence still make two names. It comes last, so a plain sort of names is a sort by
 *   (time, seq) across all writers.
 *
 * `parseSpoolName` reads these names back to (fetchedAtMs, seq) for ingest, and also accepts the seed script's
 * legacy names (seq 0) and names without a writer id.
 */
import { randomBytes } from 'node:crypto';

export interface SpoolStamp {
  /** Fetch time, epoch milliseconds. */
  fetchedAtMs: number;
  /** 0..99: order of the response within its millisecond. */
  seq: number;
}

export interface ParsedSpoolName extends SpoolStamp {
  writer?: string;
}

export const SPOOL_PREFIX = 'response_';
export const SPOOL_SUFFIX = '.json';
export const MAX_SEQ = 99;

const WRITER_RE = /^[a-z0-9]{1,12}$/;
const NAME_RE = /^response_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:_(\d{3})_(\d{2})(?:_([a-z0-9]{1,12}))?)?\.json$/;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** `response_YYYYmmdd_HHMMSS_mmm_SS[_writer].json` for a fetch time and sequence (UTC). */
export function formatSpoolName(fetchedAtMs: number, seq: number, writer?: string): string {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new RangeError(`spool name sequence must be 0..${MAX_SEQ}, got ${seq}`);
  if (writer !== undefined && !WRITER_RE.test(writer)) throw new RangeError(`spool writer id must match [a-z0-9]{1,12}, got ${writer}`);
  const d = new Date(fetchedAtMs);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1000 || d.getUTCFullYear() > 9999) {
    throw new RangeError(`spool name time out of range: ${fetchedAtMs}`);
  }
  const date = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
  return `${SPOOL_PREFIX}${date}_${time}_${pad(d.getUTCMilliseconds(), 3)}_${pad(seq, 2)}${writer ? `_${writer}` : ''}${SPOOL_SUFFIX}`;
}

/**
 * The fetch time and sequence a spool file name carries; undefined for any other name (hidden temp files,
 * `.COMPLETED` files, foreign files). Takes a base name, not a path.
 */
export function parseSpoolName(name: string): ParsedSpoolName | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms, seq, writer] = m;
  const fetchedAtMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms ?? 0));
  // Date.UTC rolls 2026-02-31 over into March: such a name was not written by us.
  if (formatSpoolName(fetchedAtMs, 0).slice(SPOOL_PREFIX.length, SPOOL_PREFIX.length + 15) !== `${y}${mo}${d}_${h}${mi}${s}`) {
    return undefined;
  }
  return writer === undefined ? { fetchedAtMs, seq: Number(seq ?? 0) } : { fetchedAtMs, seq: Number(seq ?? 0), writer };
}

/** The hidden temporary name a file is written under before its rename (ingest skips names starting with a dot). */
export function tempNameFor(finalName: string): string {
  return `.${finalName}.tmp`;
}

/** A fresh writer id: 6 random base-36 characters (about 2 billion values), made once per process. */
export function newWriterId(): string {
  const bytes = randomBytes(6);
  let s = '';
  for (const b of bytes) s += (b % 36).toString(36);
  return s;
}

/**
 * Hands out (fetchedAtMs, seq) stamps that are unique and strictly increasing within one process: several
 * responses in the same millisecond get seq 0, 1, 2...; past 99 the stamp borrows the next millisecond (the
 * name then runs at most a few ms ahead of the clock, which only happens above 100,000 responses a second).
 * A clock that steps backwards never makes a stamp go backwards: it is held at the last one.
 */
export class FetchStamper {
  private lastMs = -Infinity;
  private lastSeq = -1;
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  next(): SpoolStamp {
    const t = Math.trunc(this.now());
    if (t > this.lastMs) {
      this.lastMs = t;
      this.lastSeq = 0;
    } else if (this.lastSeq < MAX_SEQ) {
      this.lastSeq += 1;
    } else {
      this.lastMs += 1;
      this.lastSeq = 0;
    }
    return { fetchedAtMs: this.lastMs, seq: this.lastSeq };
  }
}
