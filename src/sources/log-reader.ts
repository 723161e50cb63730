import type { LogConsumer, LogRecord } from '../clients/message-log.ts';

/**
 * Read a consumer until `stop` fires or, with `stopAt` (`--once`), until every partition reached the end
 * offsets seen at start. Reading is pull-based: a slow loop body slows fetching. A pending read is never
 * lost: when stopping, records already fetched but not yielded are simply not committed (redelivered later).
 */
export async function* readRecords(
  consumer: LogConsumer,
  options: { stop: AbortSignal; stopAt?: EndOffsets; pollMs?: number },
): AsyncGenerator<LogRecord> {
  const { stop, stopAt, pollMs = 250 } = options;
  const it = consumer[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<LogRecord>> | undefined;
  let settled: IteratorResult<LogRecord> | undefined;
  const read = (): Promise<IteratorResult<LogRecord>> => {
    settled = undefined;
    const p = it.next();
    p.then(
      (r) => {
        if (pending === p) settled = r;
      },
      () => {},
    );
    return p;
  };
  while (!stop.aborted) {
    if (reachedEnd(consumer, stopAt)) {
      // The consumer counts a record as yielded once our pending read has it: take that one too, or the
      // last record before the end would be dropped (uncommitted, so redone later, but missing now).
      if (settled && !settled.done) {
        const last = settled.value;
        pending = undefined;
        settled = undefined;
        yield last;
        continue;
      }
      return;
    }
    pending ??= read();
    const result = await nextOrTick(pending, pollMs, stop);
    if (result === TICK) continue;
    pending = undefined;
    settled = undefined;
    if (result.done) return;
    yield result.value;
  }
}

const TICK = Symbol('tick');

/**
 * `pending`, or TICK after `ms` or once `stop` fires. Everything it attaches is detached when it settles: a
 * `Promise.race` against one long-lived "stopped" promise would add a reaction to it per record, and each
 * reaction keeps its record (and the whole fetch buffer the record's Buffers view) alive until the stop.
 */
function nextOrTick<T>(pending: Promise<T>, ms: number, stop: AbortSignal): Promise<T | typeof TICK> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    };
    const onStop = (): void => {
      done();
      resolve(TICK);
    };
    const timer = setTimeout(onStop, ms);
    stop.addEventListener('abort', onStop, { once: true });
    pending.then(
      (v) => {
        done();
        resolve(v);
      },
      (err: unknown) => {
        done();
        reject(err as Error);
      },
    );
  });
}

/**
 * Where to stop: fixed end offsets (`--once`), or a function that returns them once they are known (run-all
 * learns them when ingest has finished) and undefined until then.
 */
export type EndOffsets = Map<number, bigint> | (() => Map<number, bigint> | undefined);

export function reachedEnd(consumer: LogConsumer, endOffsets: EndOffsets | undefined): boolean {
  const stopAt = typeof endOffsets === 'function' ? endOffsets() : endOffsets;
  if (!stopAt) return false;
  const positions = consumer.positions();
  for (const [partition, end] of stopAt) {
    if (end === 0n) continue;
    const pos = positions.get(partition);
    if (pos === undefined || pos < end) return false;
  }
  return true;
}
