import { throwIfAborted } from './sleep.ts';

/**
 * One small capped structure that is both the in-flight bound and the "highest offset safe to commit"
 * (after Jeffail/checkpoint). Records are tracked in the order they were read; they may be resolved in any
 * order; the checkpoint advances only over a contiguous prefix of resolved records, so committing it never
 * skips a record that is still in flight.
 *
 * One instance per Kafka partition (or per spool file, or per fetch cursor).
 */
export class Checkpointer<P> {
  readonly capacity: number;
  private readonly entries: Array<{ position: P; done: boolean }> = [];
  private head = 0;
  private latest: P | undefined;
  private readonly waiters: Array<() => void> = [];

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
    this.capacity = capacity;
  }

  /** Records tracked and not yet resolved (plus resolved ones still behind an unresolved one). */
  get pending(): number {
    return this.entries.length - this.head;
  }

  /** The highest position whose record and all earlier records are resolved; undefined until one is. */
  get highest(): P | undefined {
    return this.latest;
  }

  /** Wait until there is room (bounded in-flight), then track `position`. Returns its resolver. */
  async track(position: P, signal?: AbortSignal): Promise<() => P | undefined> {
    while (this.pending >= this.capacity) {
      throwIfAborted(signal); // an ABORTED PipelineError, not the signal's raw reason
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    return this.trackNow(position);
  }

  /** Track without waiting for room: for callers that bound in-flight elsewhere. */
  trackNow(position: P): () => P | undefined {
    const entry = { position, done: false };
    this.entries.push(entry);
    let resolved = false;
    return () => {
      if (resolved) throw new Error('checkpoint resolved twice');
      resolved = true;
      entry.done = true;
      return this.advance();
    };
  }

  private advance(): P | undefined {
    let moved = false;
    while (this.head < this.entries.length && this.entries[this.head]?.done) {
      this.latest = (this.entries[this.head] as { position: P }).position;
      this.head += 1;
      moved = true;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (moved) for (const wake of this.waiters.splice(0)) wake();
    return this.latest;
  }
}
