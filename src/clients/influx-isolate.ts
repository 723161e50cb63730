/**
 * Isolating the lines InfluxDB refuses (400/413/422) so the good ones are written and only the bad ones are
 * dead-lettered. Transport-free: `post` sends one chunk and reports a refusal; this module decides what to
 * send next.
 *
 * Per refused chunk:
 * 1. Lines the answer names (1.8 `unable to parse '<line>'`, 2.x `line`, 3.x `data[]`) are rejected with their
 *    message; the rest of the chunk is sent again.
 * 2. Else, `dropped=N` covering the whole chunk (1.8 type conflict or retention, 2.x 422) rejects it all.
 * 3. Else the chunk is split in halves (413 always splits: too large says nothing about the lines), down to
 *    single lines, which are rejected with the message they got. Depth <= ceil(log2(n)).
 * Sending a line again is harmless: its point has a deterministic timestamp, so a line that a partial write
 * already stored is overwritten with itself.
 *
 * Bounded: at most `maxRequests` chunk requests per batch. Chunks still unresolved when the budget is spent are
 * rejected with a message saying they were not isolated (better in the DLQ, replayable, than retried forever).
 */
import { type InfluxErrorBody, namedBadLines, parseDropped, truncate } from './influx-errors.ts';
import type { RejectedLine, WriteResult } from '../sinks/point-writer.ts';

/** One chunk refused by InfluxDB. */
export interface ChunkRefusal {
  status: number;
  body: InfluxErrorBody;
}

/**
 * Send one chunk (with its own retries). Resolve `undefined` when written, a ChunkRefusal when InfluxDB
 * refused data (400/413/422); throw for anything else (fatal, aborted, retries exhausted).
 */
export type PostChunk = (chunk: readonly string[]) => Promise<ChunkRefusal | undefined>;

export const DEFAULT_MAX_ISOLATION_REQUESTS = 256;

export async function writeIsolating(
  lines: readonly string[],
  post: PostChunk,
  maxRequests: number = DEFAULT_MAX_ISOLATION_REQUESTS,
): Promise<WriteResult> {
  const result: WriteResult = { written: 0, rejected: [], requests: 0 };
  if (lines.length === 0) return result;
  // Depth-first, left half first, so lines keep their order within each outcome.
  const stack: (readonly string[])[] = [lines];
  let last: ChunkRefusal | undefined;
  while (stack.length > 0) {
    const chunk = stack.pop() as readonly string[];
    if (result.requests >= Math.max(1, maxRequests)) {
      const message = truncate(
        `not isolated: gave up splitting after ${result.requests} requests; InfluxDB said (HTTP ${last?.status}): ${last?.body.message}`,
      );
      for (const line of chunk) result.rejected.push({ line, message, status: last?.status });
      continue;
    }
    result.requests++;
    const refusal = await post(chunk);
    if (refusal === undefined) {
      result.written += chunk.length;
      continue;
    }
    last = refusal;
    const reject = (line: string, message: string): void => {
      const r: RejectedLine = { line, message, status: refusal.status };
      result.rejected.push(r);
    };
    if (refusal.status !== 413) {
      const named = namedBadLines(refusal.body, chunk);
      if (named.size > 0) {
        const rest: string[] = [];
        chunk.forEach((line, i) => {
          const m = named.get(i);
          if (m === undefined) rest.push(line);
          else reject(line, m);
        });
        if (rest.length > 0) stack.push(rest);
        continue;
      }
      const dropped = parseDropped(refusal.body.message);
      if (dropped !== undefined && dropped >= chunk.length) {
        const message = truncate(refusal.body.message);
        for (const line of chunk) reject(line, message);
        continue;
      }
    }
    if (chunk.length === 1) {
      reject(chunk[0] as string, truncate(refusal.body.message || `HTTP ${refusal.status}`));
      continue;
    }
    const mid = chunk.length >>> 1;
    stack.push(chunk.slice(mid), chunk.slice(0, mid));
  }
  return result;
}
