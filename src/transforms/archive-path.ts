/**
 * Where an archived record goes, as Flume's HDFS sink lays it out: a path template with Flume's escapes,
 * filled from the record's event time rounded down to `--round`, and a file name derived from topic,
 * partition and the offset of the file's first record, so a redelivered record lands in a file of the same
 * name (overwritten, not duplicated). Pure: no clock, no I/O. Times are UTC.
 */

export interface PathContext {
  topic: string;
  partition: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Round an epoch-ms time down to a multiple of `roundMs` (Flume's hdfs.round / roundValue / roundUnit). */
export function roundDown(timeMs: number, roundMs: number): number {
  if (roundMs <= 0) return timeMs;
  return Math.floor(timeMs / roundMs) * roundMs;
}

const ESCAPES: Record<string, (d: Date) => string> = {
  Y: (d) => String(d.getUTCFullYear()),
  y: (d) => pad(d.getUTCFullYear() % 100),
  m: (d) => pad(d.getUTCMonth() + 1),
  d: (d) => pad(d.getUTCDate()),
  H: (d) => pad(d.getUTCHours()),
  M: (d) => pad(d.getUTCMinutes()),
  S: (d) => pad(d.getUTCSeconds()),
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  j: (d) => pad(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3),
};

/** The escapes `--path` understands, for validation and help. */
export const PATH_ESCAPES = ['%Y', '%y', '%m', '%d', '%H', '%M', '%S', '%s', '%j', '%{topic}', '%{partition}', '%%'];

/** Expand a template such as `/final_project/%Y-%m-%d/%H%M` for a bucket time. */
export function expandPath(template: string, bucketMs: number, ctx: PathContext): string {
  const d = new Date(bucketMs);
  return template.replace(/%\{(topic|partition)\}|%(.)/g, (whole, named: string | undefined, ch: string | undefined) => {
    if (named === 'topic') return sanitizeSegment(ctx.topic);
    if (named === 'partition') return String(ctx.partition);
    if (ch === '%') return '%';
    const f = ch === undefined ? undefined : ESCAPES[ch];
    if (!f) throw new Error(`unknown escape ${whole} in path template`);
    return f(d);
  });
}

/** Returns a problem with the template, or undefined if it is usable. */
export function checkPathTemplate(template: string): string | undefined {
  if (!template.startsWith('/')) return 'must be an absolute path (start with /)';
  try {
    expandPath(template, 0, { topic: 't', partition: 0 });
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/**
 * The part of the template before its first escape, as a directory: the root under which userpipe keeps its
 * journal (`_userpipe/`) and rejected records (`_rejected/`), so they sit beside the buckets.
 */
export function staticRoot(template: string): string {
  const i = template.indexOf('%');
  const head = i < 0 ? template : template.slice(0, i);
  const cut = head.lastIndexOf('/');
  const root = cut <= 0 ? '/' : head.slice(0, cut);
  return root;
}

function sanitizeSegment(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** File name (without the in-use suffix) of a file whose first record is `firstOffset`. */
export function archiveFileName(prefix: string, ctx: PathContext, firstOffset: bigint, gzip: boolean): string {
  return `${prefix}${sanitizeSegment(ctx.topic)}-${ctx.partition}-${String(firstOffset).padStart(20, '0')}.jsonl${gzip ? '.gz' : ''}`;
}

/** Flume's in-use suffix, carried while a file is open. */
export const IN_USE_SUFFIX = '.tmp';

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
