import { Producer, type MessageToProduce } from '@platformatic/kafka';
import { PipelineError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { abortedError } from '../core/sleep.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import {
  acksValue,
  producerRetries,
  resolveBaseOptions,
  resolveIdempotent,
  type Acks,
  type Compression,
  type KafkaConnectionOptions,
} from './kafka-options.ts';

/**
 * Producer adapter for `ingest` (and dead-letter writers): one `send` call = the caller's batch, resolved only
 * once the broker acknowledged every message with the configured `acks`. That resolution is the durability
 * point: the caller settles its records' acks (renames the spool file) after it, never before.
 *
 * What the library does and does not do (checked in @platformatic/kafka 2.12 source):
 * - `send()` writes one Produce request per partition leader at once: there is no linger/batching layer
 *   (that only exists in `asStream()`), so the caller's batch *is* the Kafka batch. We cut it into requests
 *   of at most `maxRequestBytes` so one big spool file does not exceed the broker's `message.max.bytes`.
 * - All five codecs are built in: gzip and zstd through `node:zlib` (zstd needs Node >= 22.15), snappy and lz4
 *   through the bundled WASM of `@platformatic/wasm-utils`. No extra package is needed.
 * - Idempotence (KIP-98) is supported: producer id + per-partition sequences, one request in flight per
 *   connection. After a failed send the library drops the producer id, so a retried batch is deduplicated
 *   only within the library's own retries; a retry by our caller may write duplicates (at-least-once).
 * - Broker down: the library retries inside one call `retries` times, `retryDelayMs` apart, each attempt
 *   bounded by `connectTimeoutMs`/`requestTimeoutMs`, then fails. We classify that as a retryable
 *   NETWORK/TIMEOUT/UNAVAILABLE PipelineError and let the caller's `retry()` back off and log.
 */

export interface KafkaProducerOptions extends KafkaConnectionOptions {
  /** Topic for messages that do not name one. */
  topic: string;
  /** Default 'all' (-1): acknowledged by every in-sync replica. */
  acks?: Acks;
  /** Default: on when acks = all (see resolveIdempotent). */
  idempotent?: boolean;
  /** Default 'none'. */
  compression?: Compression;
  /**
   * Upper bound for the uncompressed size of one Produce request to one broker. Default 900 KiB, under the
   * broker's default message.max.bytes (1 MiB) with room for framing.
   */
  maxRequestBytes?: number;
  /**
   * A single message estimated above this is refused before anything is sent (INVALID_INPUT, with its index),
   * so one oversized record cannot fail a whole batch forever. Default 1,000,000 bytes.
   */
  maxMessageBytes?: number;
  logger?: Logger;
}

export type HeadersInput = Record<string, string> | ReadonlyMap<string, string>;

export interface OutgoingMessage {
  key?: Buffer | string | null;
  value: Buffer | string;
  headers?: HeadersInput;
  /** Explicit partition; otherwise murmur2(key) like the Java client, or round-robin without a key. */
  partition?: number;
  /** Record timestamp in epoch milliseconds; default: now. */
  timestamp?: bigint | number;
  /** Overrides the producer's topic (e.g. a dead-letter topic). */
  topic?: string;
}

export interface SendResult {
  /** First offset written per topic-partition request, when acks != 0 (informational; logs and tests). */
  offsets: Array<{ topic: string; partition: number; offset: bigint }>;
}

/** Per-record framing the estimate adds (varints, attributes, deltas) plus a share of the batch header. */
const RECORD_OVERHEAD = 32;

export function estimateMessageBytes(m: { key?: Buffer | string | null; value: Buffer | string; headers?: HeadersInput }): number {
  let n = RECORD_OVERHEAD + byteLength(m.value) + (m.key === undefined || m.key === null ? 0 : byteLength(m.key));
  if (m.headers) for (const [k, v] of entries(m.headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 4;
  return n;
}

/**
 * Split a batch into consecutive chunks whose estimated size stays under `maxBytes` (a message larger than
 * that travels alone). Order is kept, so per-partition order is kept too. Pure; exported for tests.
 */
export function chunkBySize<T>(items: readonly T[], size: (item: T) => number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const s = size(item);
    if (current.length > 0 && bytes + s > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export class KafkaProducer {
  readonly topic: string;
  private readonly producer: Producer;
  private readonly acks: -1 | 0 | 1;
  private readonly compression: Compression;
  private readonly maxRequestBytes: number;
  private readonly maxMessageBytes: number;
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;

  private constructor(producer: Producer, options: KafkaProducerOptions) {
    this.producer = producer;
    this.topic = options.topic;
    this.acks = acksValue(options.acks ?? 'all');
    this.compression = options.compression ?? 'none';
    this.maxRequestBytes = options.maxRequestBytes ?? 900 * 1024;
    this.maxMessageBytes = options.maxMessageBytes ?? 1_000_000;
    this.logger = options.logger ?? silentLogger;
  }

  /** Validate options, read TLS files, build the client. Connects lazily on the first send. */
  static async create(options: KafkaProducerOptions): Promise<KafkaProducer> {
    const acks = options.acks ?? 'all';
    acksValue(acks);
    const idempotent = resolveIdempotent(acks, options.idempotent);
    const base = await resolveBaseOptions(options);
    const producer = new Producer({
      ...base,
      retries: producerRetries(options.retries, idempotent),
      idempotent,
      acks: acksValue(acks),
      compression: options.compression ?? 'none',
    });
    const adapter = new KafkaProducer(producer, options);
    // The library emits 'error' on the client in some paths; an EventEmitter without a listener would crash.
    producer.on('error', (err: unknown) => adapter.logger.debug('kafka producer client error', { error: err as Error }));
    adapter.logger.debug('kafka producer created', { topic: options.topic, acks: String(acks), idempotent, compression: adapter.compression });
    return adapter;
  }

  /**
   * Write `messages` in order and resolve once the broker acknowledged all of them (acks=all: every in-sync
   * replica; acks=1: the leader; acks=0: once written to the socket, no guarantee).
   *
   * Errors are PipelineErrors: NETWORK/TIMEOUT/UNAVAILABLE are retryable (broker down, leader moving);
   * INVALID_INPUT (a message too large) and AUTH/CONFIG/NOT_FOUND are not. On any error some messages may
   * already be written, so retrying the whole batch can duplicate them: downstream stages are idempotent.
   * `signal`: stops before the next request; an in-flight request cannot be recalled, so an abort means
   * "outcome unknown" and the caller must not ack.
   */
  async send(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<SendResult> {
    if (this.closing) throw new PipelineError('ABORTED', 'kafka send: producer is closed', { retryable: false });
    if (signal?.aborted) throw abortedError(signal);
    const sizes = messages.map((m) => estimateMessageBytes(m));
    sizes.forEach((bytes, index) => {
      if (bytes > this.maxMessageBytes) {
        throw new PipelineError('INVALID_INPUT', 'kafka send: message larger than maxMessageBytes', {
          details: { index, bytes, maxMessageBytes: this.maxMessageBytes },
        });
      }
    });
    const indexed = messages.map((m, i) => i);
    const result: SendResult = { offsets: [] };
    for (const chunk of chunkBySize(indexed, (i) => sizes[i] as number, this.maxRequestBytes)) {
      if (signal?.aborted) throw abortedError(signal);
      const batch = chunk.map((i) => this.toLibraryMessage(messages[i] as OutgoingMessage));
      try {
        const res = await abortable(
          this.producer.send({ messages: batch, acks: this.acks, compression: this.compression }),
          signal,
        );
        for (const o of res.offsets ?? []) result.offsets.push({ topic: o.topic, partition: o.partition, offset: o.offset });
      } catch (err) {
        const first = chunk[0] as number;
        throw classifyKafkaError(err, 'send', {
          topic: this.topic,
          messages: messages.length,
          chunkStart: first,
          chunkSize: chunk.length,
          ...(chunk.length === 1 ? { index: first } : {}),
        });
      }
    }
    return result;
  }

  /** Close connections. Waits for in-flight sends to settle (bounded by the request timeout). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.producer.close(true).catch((err: unknown) => {
      this.logger.debug('kafka producer close failed', { error: err as Error });
    });
    return this.closing;
  }

  private toLibraryMessage(m: OutgoingMessage): MessageToProduce {
    const out: MessageToProduce = { topic: m.topic ?? this.topic, value: toBuffer(m.value) };
    if (m.key !== undefined && m.key !== null) out.key = toBuffer(m.key);
    if (m.partition !== undefined) out.partition = m.partition;
    if (m.timestamp !== undefined) out.timestamp = BigInt(m.timestamp);
    if (m.headers) {
      const headers = new Map<Buffer, Buffer>();
      for (const [k, v] of entries(m.headers)) headers.set(Buffer.from(k), Buffer.from(v));
      out.headers = headers;
    }
    return out;
  }
}

function toBuffer(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function byteLength(v: Buffer | string): number {
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

function entries(h: HeadersInput): Iterable<[string, string]> {
  return h instanceof Map ? (h as ReadonlyMap<string, string>).entries() : Object.entries(h as Record<string, string>);
}

/** Reject as soon as `signal` fires; the underlying operation keeps running (it is bounded by its timeouts). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortedError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      reject(abortedError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
