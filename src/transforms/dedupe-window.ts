/**
 * The bounded memory of recently seen keys (`process --dedupe-window <n>`, keyed by `login.uuid`) that
 * replaces the Spark job's ever-growing set of e-mails: at most `capacity` keys, least recently seen evicted
 * first, so memory is flat whatever the backlog (100,000 uuids take about 10 MB).
 *
 * It is an optimisation, not the correctness mechanism: a user it forgets (evicted, or after a restart) is
 * written again at its deterministic timestamp, which overwrites the same point. Each key carries a value
 * (the process stage keeps there the durability of the first occurrence, so a skipped duplicate is settled
 * only once its original is written).
 *
 * Pure data structure: no I/O, no clock. A Map keeps insertion order, which makes it an O(1) LRU: a hit is
 * deleted and re-inserted at the young end; the oldest entry is the first key.
 */
export class DedupeWindow<V> {
  readonly capacity: number;
  private readonly entries = new Map<string, V>();

  /** `capacity` 0 turns the window off: nothing is remembered, nothing is a duplicate. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('dedupe window capacity must be an integer >= 0');
    this.capacity = capacity;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The value remembered for `key` when it was seen among the last `capacity` distinct keys (and marks it
   * as just seen); otherwise undefined, and `key` is remembered with `value` (evicting the oldest key when
   * full).
   */
  check(key: string, value: V): V | undefined {
    if (this.capacity === 0) return undefined;
    const seen = this.entries.get(key);
    if (seen !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, seen);
      return seen;
    }
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
    return undefined;
  }

  /** Whether `key` is remembered (does not refresh it). */
  has(key: string): boolean {
    return this.entries.has(key);
  }
}
