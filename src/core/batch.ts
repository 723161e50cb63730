/**
 * Group an async stream into batches, flushed by whichever comes first: `maxCount` items, `maxBytes` bytes
 * (as measured by `sizeOf`), or `maxWaitMs` since the batch's first item. A batch is never empty. When the
 * input ends the last partial batch is emitted; the pending read of the input is kept across timer flushes,
 * so no item is ever lost to a race.
 *
 * Bounded: at most one batch plus one in-flight read are held here.
 */
export interface BatchOptions<T> {
  maxCount: number;
  maxBytes?: number;
  maxWaitMs?: number;
  sizeOf?: (item: T) => number;
}

const TIMEOUT = Symbol('timeout');

export async function* batch<T>(input: AsyncIterable<T>, options: BatchOptions<T>): AsyncGenerator<T[]> {
  const { maxCount, maxBytes = Infinity, maxWaitMs = Infinity, sizeOf } = options;
  if (!(maxCount >= 1)) throw new RangeError('maxCount must be >= 1');
  const it = input[Symbol.asyncIterator]();
  let current: T[] = [];
  let bytes = 0;
  let pending: Promise<IteratorResult<T>> | undefined;
  let deadline = Infinity;
  let inputFailed = false;
  try {
    while (true) {
      pending ??= it.next();
      let result: IteratorResult<T> | typeof TIMEOUT;
      const wait = deadline - Date.now();
      if (current.length > 0 && Number.isFinite(wait)) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<typeof TIMEOUT>((resolve) => {
          timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, wait));
        });
        try {
          result = await Promise.race([pending, timeout]);
        } finally {
          clearTimeout(timer);
        }
      } else {
        result = await pending;
      }
      if (result === TIMEOUT) {
        yield flush();
        continue;
      }
      pending = undefined;
      if (result.done) break;
      const item = result.value;
      const size = sizeOf ? sizeOf(item) : 0;
      // An item that would push the batch over maxBytes starts the next batch (a single oversized item is
      // still emitted alone: refusing it is the sink's decision, not the batcher's).
      if (current.length > 0 && bytes + size > maxBytes) yield flush();
      if (current.length === 0) deadline = Date.now() + maxWaitMs;
      current.push(item);
      bytes += size;
      if (current.length >= maxCount || bytes >= maxBytes) yield flush();
    }
    if (current.length > 0) yield flush();
  } catch (err) {
    // A read that rejected means the input itself failed: it is finished and must not be told to return.
    if (pending !== undefined) inputFailed = true;
    throw err;
  } finally {
    // Tell the input we stopped early (a consumer broke out of the loop): it releases its resources.
    if (!inputFailed) {
      if (pending === undefined) await it.return?.();
      // A read is still in flight (we stopped right after a timer flush). Ask anyway, without waiting: an async
      // generator answers return() only after that read, which may never come. The item it yields is dropped
      // unacked, like everything else in flight at a stop, and is redelivered.
      else void Promise.resolve(it.return?.()).catch(() => {});
    }
  }

  function flush(): T[] {
    const out = current;
    current = [];
    bytes = 0;
    deadline = Infinity;
    return out;
  }
}
