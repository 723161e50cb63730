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
  const TICK = Symbol('tick');
  const stopped = new Promise<typeof TICK>((resolve) => {
    if (stop.aborted) resolve(TICK);
    else stop.addEventListener('abort', () => resolve(TICK), { once: true });
  });
  let pending: Promise<IteratorResult<LogRecord>> | undefined;
  while (!stop.aborted && !reachedEnd(consumer, stopAt)) {
    pending ??= it.next();
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise<typeof TICK>((resolve) => {
      timer = setTimeout(() => resolve(TICK), pollMs);
    });
    const result = await Promise.race([pending, tick, stopped]);
    clearTimeout(timer);
    if (result === TICK) continue;
    pending = undefined;
    if (result.done) return;
    yield result.value;
  }
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
