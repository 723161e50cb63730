import type { LogRecord } from '../clients/message-log.ts';
import { HEADER } from '../transforms/user-message.ts';

/**
 * Remembers, per source file, the highest position already taken, for the last `capacity` source files.
 * Ingest is at-least-once: after a crash it sends a whole spool file again, so the same (source, position)
 * pairs reach the log twice. Within one partition a file's records arrive in position order on each attempt,
 * so a record whose position is at or below the highest one seen for its file is a redelivered copy.
 * Bounded (oldest file forgotten first); snapshots are small arrays so the archive journal can persist them.
 */
export class SourceWindow {
  readonly capacity: number;
  private readonly seen = new Map<string, number>();

  constructor(capacity: number, entries: ReadonlyArray<readonly [string, number]> = []) {
    this.capacity = capacity;
    for (const [source, index] of entries) this.seen.set(source, index);
  }

  /** True if this record is a copy of one already taken. Does not remember it: see `remember`. */
  isDuplicate(record: LogRecord): boolean {
    const id = this.idOf(record);
    if (!id) return false;
    const max = this.seen.get(id.key);
    return max !== undefined && id.index <= max;
  }

  /** Remember a record as taken (call once it is part of the output). */
  remember(record: LogRecord): void {
    const id = this.idOf(record);
    if (!id) return;
    const max = this.seen.get(id.key);
    this.seen.delete(id.key); // re-insert: most recent last
    this.seen.set(id.key, max === undefined ? id.index : Math.max(max, id.index));
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value as string);
  }

  private idOf(record: LogRecord): { key: string; index: number } | undefined {
    if (this.capacity <= 0) return undefined;
    const source = record.headers[HEADER.source];
    if (source === undefined || source === '') return undefined;
    const index = Number(record.headers[HEADER.index] ?? 0);
    if (!Number.isFinite(index)) return undefined;
    return { key: `${record.headers[HEADER.fetchedAt] ?? ''}/${source}`, index };
  }

  snapshot(): Array<[string, number]> {
    return [...this.seen];
  }
}
