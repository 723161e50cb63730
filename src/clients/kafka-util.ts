import { PipelineError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { retry } from '../core/retry.ts';
import { classifyKafkaError } from './kafka-errors.ts';

/** Reject with a TIMEOUT PipelineError if `promise` has not settled after `ms`. Leaves no timer behind. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PipelineError('TIMEOUT', `timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface KafkaRetryOptions {
  /** Give up after this long (the broker stayed unreachable). */
  maxElapsedMs: number;
  signal?: AbortSignal;
  /** One warn line per retry: `${what} failed, retrying`. */
  logger?: Logger;
  what: string;
  fields?: Record<string, unknown>;
}

/**
 * Run a Kafka operation under the one retry helper: library errors are classified (kafka-errors.ts), the
 * retryable ones are retried with backoff (0.5 s .. 10 s, full jitter) until `maxElapsedMs`.
 */
export function retryKafka<T>(op: string, fn: () => Promise<T>, options: KafkaRetryOptions): Promise<T> {
  return retry(
    async () => {
      try {
        return await fn();
      } catch (err) {
        throw classifyKafkaError(err, op, options.fields);
      }
    },
    {
      maxAttempts: Infinity,
      maxElapsedMs: options.maxElapsedMs,
      baseDelayMs: 500,
      maxDelayMs: 10_000,
      ...(options.signal ? { signal: options.signal } : {}),
      onRetry: (info) =>
        options.logger?.warn(`${options.what} failed, retrying`, { ...options.fields, attempt: info.attempt, delayMs: info.delayMs, error: info.error.message }),
    },
  );
}
