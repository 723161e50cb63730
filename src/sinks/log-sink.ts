/**
 * Messages -> the message log (Kafka, or run-all's in-process log). Each envelope is acked only after the log
 * acknowledged its message (`LogProducer.send` resolved: Kafka answered with the configured acks).
 *
 * Batching: messages are grouped by count, bytes and a linger time (`core/batch.ts`); one batch is sent as one
 * `send` per topic (data and dead-letter topics). Up to `maxInFlightBatches` batches are sent at once; while
 * they are full the input is not read (backpressure all the way to the spool directory).
 *
 * Errors, classified by the producer:
 * - retryable (broker down, leader moving, timeouts): retried here, without limit on attempts but with a bounded
 *   delay, until the send succeeds or the stage is told to stop while the log is unreachable. One warning when
 *   the log becomes unreachable and one line when it is back: no log line per attempt.
 * - REJECTED / INVALID_INPUT (the broker refused a message, e.g. too large): a batch is retried message by
 *   message so only the refused ones are nacked (their source quarantines them); the others go on.
 * - anything else (AUTH, NOT_FOUND: no such topic, a bug): every envelope of the batch is nacked and `write`
 *   throws. The stage fails loudly; nothing was marked done.
 */
import { batch } from '../core/batch.ts';
import { PipelineError, toPipelineError } from '../core/errors.ts';
import type { Envelope } from '../core/envelope.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { OutageReporter } from '../core/outage.ts';
import { retry } from '../core/retry.ts';
import { abortedError } from '../core/sleep.ts';
import type { LogProducer, ProduceRecord } from '../clients/message-log.ts';

/** What the sink sends: a record and the topic it goes to. */
export interface SinkMessage extends ProduceRecord {
  topic: string;
}

export interface LogSinkOptions<M extends SinkMessage = SinkMessage> {
  producer: LogProducer;
  /** For log lines: where the messages go ("Kafka at 127.0.0.1:9092"). */
  description: string;
  maxBatchMessages: number;
  maxBatchBytes: number;
  lingerMs: number;
  maxInFlightBatches?: number;
  /** Backoff of the retry while the log is unreachable. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  log?: Logger;
  /** Called after each successful send (before the acks), e.g. for counters. */
  onSent?: (messages: readonly M[], seconds: number) => void;
  onRetry?: () => void;
}

export interface SinkSignals {
  /** Soft stop: send what is queued, but stop waiting for an unreachable log. */
  stop: AbortSignal;
  /** Hard abort: stop now; unsent envelopes are nacked ABORTED. */
  abort: AbortSignal;
}

const REFUSED = new Set(['REJECTED', 'INVALID_INPUT']);

export class LogSink<M extends SinkMessage> {
  private readonly opts: LogSinkOptions<M>;
  private readonly log: Logger;
  private readonly outage: OutageReporter;

  constructor(opts: LogSinkOptions<M>) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.outage = kafkaOutage(this.log, opts.description);
  }

  /** Consume `input` until it ends; resolves once every envelope taken was acked or nacked. */
  async write(input: AsyncIterable<Envelope<M>>, signals: SinkSignals): Promise<void> {
    const limit = Math.max(1, this.opts.maxInFlightBatches ?? 1);
    const running = new Set<Promise<void>>();
    let failure: unknown;
    const batches = batch(input, {
      maxCount: this.opts.maxBatchMessages,
      maxBytes: this.opts.maxBatchBytes,
      maxWaitMs: this.opts.lingerMs,
      sizeOf: (e) => recordBytes(e.payload),
    });
    for await (const group of batches) {
      if (failure !== undefined) {
        // Stop reading (the source is told through the generator's return); what is unsent stays unsent.
        await nackAll(group, toPipelineError(failure));
        break;
      }
      const p: Promise<void> = this.sendBatch(group, signals)
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => running.delete(p));
      running.add(p);
      if (running.size >= limit) await Promise.race(running);
    }
    await Promise.all(running);
    if (failure !== undefined) throw failure;
  }

  private async sendBatch(group: Envelope<M>[], signals: SinkSignals): Promise<void> {
    const byTopic = new Map<string, Envelope<M>[]>();
    for (const e of group) {
      const list = byTopic.get(e.payload.topic);
      if (list) list.push(e);
      else byTopic.set(e.payload.topic, [e]);
    }
    let fatal: unknown;
    for (const [topic, envelopes] of byTopic) {
      if (fatal !== undefined) {
        await nackAll(envelopes, toPipelineError(fatal));
        continue;
      }
      try {
        await this.sendTopic(topic, envelopes, signals);
      } catch (err) {
        fatal = err;
      }
    }
    if (fatal !== undefined) throw fatal;
  }

  /** Send one topic's share of a batch and settle its envelopes. Throws only what must stop the stage. */
  private async sendTopic(topic: string, envelopes: Envelope<M>[], signals: SinkSignals): Promise<void> {
    try {
      await this.sendWithRetry(topic, envelopes.map((e) => e.payload), signals);
    } catch (err) {
      const error = toPipelineError(err);
      if (REFUSED.has(error.code) && envelopes.length > 1) {
        for (const e of envelopes) await this.sendTopic(topic, [e], signals);
        return;
      }
      await nackAll(envelopes, error);
      if (REFUSED.has(error.code)) {
        this.log.warn('message refused by the log', { topic, code: error.code, error: error.message });
        return;
      }
      if (error.code === 'ABORTED') return;
      throw error;
    }
    await settleAll(envelopes);
  }

  private async sendWithRetry(topic: string, messages: readonly M[], signals: SinkSignals): Promise<void> {
    // Give up waiting for an unreachable log once a stop was asked for; a healthy log still gets the drain.
    const giveUp = new AbortController();
    const onStop = (): void => {
      if (this.outage.down) giveUp.abort(signals.stop.reason);
    };
    signals.stop.addEventListener('abort', onStop, { once: true });
    const signal = AbortSignal.any([signals.abort, giveUp.signal]);
    const records: ProduceRecord[] = messages.map(({ key, value, headers }) => ({
      ...(key === undefined ? {} : { key }),
      value,
      ...(headers ? { headers } : {}),
    }));
    try {
      await retry(
        async () => {
          const started = performance.now();
          await this.opts.producer.send(topic, records, signals.abort);
          this.opts.onSent?.(messages, (performance.now() - started) / 1000);
        },
        {
          maxAttempts: Infinity,
          baseDelayMs: this.opts.retryBaseDelayMs ?? 200,
          maxDelayMs: this.opts.retryMaxDelayMs ?? 10_000,
          signal,
          onRetry: (info) => {
            this.opts.onRetry?.();
            this.outage.failed(info);
            if (signals.stop.aborted) giveUp.abort(signals.stop.reason);
          },
        },
      );
    } catch (err) {
      if (signal.aborted) throw abortedError(signal);
      throw err;
    } finally {
      signals.stop.removeEventListener('abort', onStop);
    }
    this.outage.recovered();
  }
}

/** The Kafka flavour of the shared outage reporter: "kafka unavailable, waiting" / "kafka available again". */
export function kafkaOutage(log: Logger, description: string): OutageReporter {
  return new OutageReporter(
    log,
    { down: 'kafka unavailable, waiting', up: 'kafka available again', still: 'still waiting for kafka' },
    () => ({ brokers: description }),
  );
}

export interface WaitForLogOptions {
  /** Stop waiting when this fires (ABORTED). */
  signal: AbortSignal;
  logger: Logger;
  description: string;
  maxDelayMs?: number;
  onRetry?: () => void;
}

/** Run `fn` until it succeeds or fails for good, waiting out an unreachable log (bounded backoff, one log line). */
export async function waitForLog<T>(fn: () => Promise<T>, o: WaitForLogOptions): Promise<T> {
  const outage = kafkaOutage(o.logger, o.description);
  const value = await retry(fn, {
    maxAttempts: Infinity,
    maxDelayMs: o.maxDelayMs ?? 10_000,
    signal: o.signal,
    onRetry: (info) => {
      o.onRetry?.();
      outage.failed(info);
    },
  });
  outage.recovered();
  return value;
}

function recordBytes(m: SinkMessage): number {
  let n = byteLength(m.value) + (m.key === undefined ? 0 : byteLength(m.key));
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += k.length + v.length;
  return n;
}

function byteLength(v: string | Buffer): number {
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

async function nackAll(envelopes: readonly Envelope<unknown>[], error: PipelineError): Promise<void> {
  await settleAll(envelopes, error);
}

/** Settle every envelope even if one ack throws (marking a file done failed); then rethrow the first error. */
async function settleAll(envelopes: readonly Envelope<unknown>[], error?: PipelineError): Promise<void> {
  let first: unknown;
  for (const e of envelopes) {
    try {
      await e.ack(error);
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}
