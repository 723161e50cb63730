import { abortedError } from './sleep.ts';

/**
 * A bounded FIFO between two stages (Vector's limited queue). `send` waits while the channel is full, so a
 * slow consumer slows its producer down instead of filling memory. Iterating drains the channel and ends once
 * it is closed and empty. One consumer at a time; any number of producers.
 *
 * Closing is the soft stop of an edge: producers stop sending, the consumer still gets what was queued.
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly capacity: number;
  private readonly items: T[] = [];
  private head = 0;
  private closed = false;
  private readonly sendWaiters: Array<() => void> = [];
  private recvWaiter: (() => void) | undefined;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('channel capacity must be an integer >= 1');
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves once the item is queued; waits while full. Rejects if the channel is closed or `signal` fires. */
  async send(item: T, signal?: AbortSignal): Promise<void> {
    while (this.size >= this.capacity) {
      if (this.closed) throw new Error('send on a closed channel');
      await this.waitForSpace(signal);
    }
    if (this.closed) throw new Error('send on a closed channel');
    this.items.push(item);
    this.wakeReceiver();
  }

  /** No more sends; the consumer drains what is queued, then its iteration ends. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeReceiver();
    for (const wake of this.sendWaiters.splice(0)) wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      if (this.size > 0) {
        const item = this.items[this.head] as T;
        this.items[this.head] = undefined as T; // let the GC take it
        this.head += 1;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items.splice(0, this.head);
          this.head = 0;
        }
        this.sendWaiters.shift()?.();
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.recvWaiter = resolve;
      });
    }
  }

  private wakeReceiver(): void {
    const wake = this.recvWaiter;
    this.recvWaiter = undefined;
    wake?.();
  }

  private waitForSpace(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.sendWaiters.indexOf(wake);
        if (i >= 0) this.sendWaiters.splice(i, 1);
        reject(abortedError(signal));
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.sendWaiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
