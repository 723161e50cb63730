/**
 * Which files of a spool directory are complete and ready, oldest first (Flume's spooldir rules, with a settle
 * time for writers that do not rename into place).
 *
 * - Ignored: anything but regular files (directories, symlinks, sockets), hidden names (`.x`: fetch's and
 *   rsync's temporary files), names ending in `.tmp`, `.part`, `~`, the done marker `.COMPLETED` and the
 *   quarantine sidecar `.error.json`.
 * - Files named by `userpipe fetch` are ready at once: fetch writes a hidden temporary file and renames it,
 *   so a visible name is always a complete file.
 * - Any other file (a foreign writer) is ready once it has not changed for the settle time: its mtime and
 *   ctime (a write or a rename updates ctime, which `touch -d` cannot fake) are at least `settleTimeMs` old,
 *   and its size and mtime equal what the previous scan saw, if there was one.
 * - Order: by fetch time (from the name for fetch's files, the mtime for foreign ones), then by name, so
 *   fetch's names, which sort by fetch time, come out in name order.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSpoolName, type ParsedSpoolName } from '../sinks/spool-name.ts';

export const COMPLETED_SUFFIX = '.COMPLETED';
export const SIDECAR_SUFFIX = '.error.json';

export interface SpoolEntry {
  name: string;
  path: string;
  /** Fetch time and sequence from the name, for files `fetch` wrote. */
  stamp?: ParsedSpoolName;
  /** For foreign files (from the scan's stat); fetch's files are stat-ed when read. */
  mtimeMs?: number;
  /** Sort key: fetch time from the name, or the mtime. */
  orderMs: number;
}

/** Whether a name may be a spool file at all (before the settle check). */
export function isCandidateName(name: string): boolean {
  if (name.startsWith('.')) return false;
  if (name.endsWith('~')) return false;
  const lower = name.toLowerCase();
  return !(
    lower.endsWith('.tmp') ||
    lower.endsWith('.part') ||
    name.endsWith(COMPLETED_SUFFIX) ||
    lower.endsWith(SIDECAR_SUFFIX)
  );
}

/** Oldest first: fetch time, then name. */
export function compareEntries(a: SpoolEntry, b: SpoolEntry): number {
  if (a.orderMs !== b.orderMs) return a.orderMs - b.orderMs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export interface SpoolScannerOptions {
  dir: string;
  settleTimeMs: number;
  now?: () => number;
}

interface Seen {
  size: number;
  mtimeMs: number;
}

/**
 * Lists ready files. Keeps what the last scan saw of foreign files (size, mtime) to notice a file that is
 * still growing; the memory is pruned to the files present, so it is bounded by the directory itself.
 */
export class SpoolScanner {
  private readonly opts: SpoolScannerOptions;
  private readonly now: () => number;
  private seen = new Map<string, Seen>();
  /** Foreign files the last scan saw but that are not ready yet (still being written, or too recent). */
  unsettled: string[] = [];

  constructor(opts: SpoolScannerOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** Ready files, oldest first. `skip` names are left out (files already in flight). */
  async scan(skip: ReadonlySet<string> = new Set()): Promise<SpoolEntry[]> {
    const dirents = await readdir(this.opts.dir, { withFileTypes: true });
    const ready: SpoolEntry[] = [];
    const nextSeen = new Map<string, Seen>();
    const unsettled: string[] = [];
    for (const d of dirents) {
      if (!d.isFile() || !isCandidateName(d.name) || skip.has(d.name)) continue;
      const path = join(this.opts.dir, d.name);
      const stamp = parseSpoolName(d.name);
      if (stamp) {
        ready.push({ name: d.name, path, stamp, orderMs: stamp.fetchedAtMs });
        continue;
      }
      let st;
      try {
        st = await stat(path);
      } catch {
        continue; // gone between readdir and stat: taken by someone else, or renamed by its writer
      }
      const current = { size: st.size, mtimeMs: st.mtimeMs };
      const previous = this.seen.get(d.name);
      nextSeen.set(d.name, current);
      const quietFor = this.now() - Math.max(st.mtimeMs, st.ctimeMs);
      const unchanged = previous === undefined || (previous.size === current.size && previous.mtimeMs === current.mtimeMs);
      if (quietFor >= this.opts.settleTimeMs && unchanged) {
        ready.push({ name: d.name, path, mtimeMs: st.mtimeMs, orderMs: st.mtimeMs });
      } else {
        unsettled.push(d.name);
      }
    }
    this.seen = nextSeen;
    this.unsettled = unsettled;
    return ready.sort(compareEntries);
  }
}
