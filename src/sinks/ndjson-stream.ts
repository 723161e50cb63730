/**
 * NDJSON to a byte stream (stdout): one JSON document per line, so `userpipe fetch --stdout | jq` works.
 *
 * Contract: each envelope is acked after the stream's write callback (the bytes left this process), so a slow
 * reader slows the producer down instead of filling memory. When the reader goes away (EPIPE: `| head -1`), the
 * envelope in hand is nacked, `readerGone` becomes true and `write` returns normally: a closed pipe is the reader's
 * way of saying "enough", not a failure.
 */
import { PipelineError } from '../core/errors.ts';
import type { Envelope } from '../core/envelope.ts';
import type { StageCounters } from '../core/stats.ts';

export class NdjsonStreamSink<T> {
  private readonly stream: NodeJS.WritableStream;
  private readonly toJson: (payload: T) => unknown;
  private readonly counters: StageCounters | undefined;
  private gone = false;
  private streamError: Error | undefined;

  constructor(stream: NodeJS.WritableStream, toJson: (payload: T) => unknown, counters?: StageCounters) {
    this.stream = stream;
    this.toJson = toJson;
    this.counters = counters;
    // Without a listener an EPIPE would be an uncaught exception. Left attached: the error can arrive late.
    stream.on('error', (err: Error) => {
      if (isPipeClosed(err)) this.gone = true;
      else this.streamError ??= err;
    });
  }

  /** The reader closed its end of the pipe. */
  get readerGone(): boolean {
    return this.gone;
  }

  async write(input: AsyncIterable<Envelope<T>>, _signal: AbortSignal): Promise<void> {
    for await (const env of input) {
      if (this.gone) {
        await env.ack(new PipelineError('ABORTED', 'output closed by the reader'));
        return;
      }
      const line = JSON.stringify(this.toJson(env.payload)) + '\n';
      try {
        await this.writeLine(line);
      } catch (err) {
        if (isPipeClosed(err) || this.gone) {
          this.gone = true;
          await env.ack(new PipelineError('ABORTED', 'output closed by the reader', { cause: err }));
          return;
        }
        const e = new PipelineError('UNAVAILABLE', `cannot write to output: ${(err as Error).message}`, { retryable: false, cause: err });
        await env.ack(e);
        throw e;
      }
      if (this.counters) this.counters.bytes += Buffer.byteLength(line);
      await env.ack();
    }
  }

  private writeLine(line: string): Promise<void> {
    if (this.streamError) return Promise.reject(this.streamError);
    return new Promise((resolve, reject) => {
      this.stream.write(line, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}

function isPipeClosed(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}
