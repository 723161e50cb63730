import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import got from 'got';
import { ConfigError } from '../core/errors.ts';
import type { PipelineError } from '../core/errors.ts';
import { transportError, webHdfsHttpError } from './webhdfs-errors.ts';
import type { ErrorContext } from './webhdfs-errors.ts';
import { normalizeNameNodeUrl } from './webhdfs-url.ts';

/**
 * The HTTP layer under the WebHDFS client: one request per call (got, with its own retries and redirects off:
 * we retry in `core/retry.ts` and follow WebHDFS's 307 ourselves), errors mapped by `webhdfs-errors.ts`,
 * plus the HA NameNode rotation.
 */

/** Per-request time limits. Each bounds one phase; none bounds a whole upload (its size is the caller's). */
export interface WebHdfsTimeouts {
  /** DNS lookup, and TCP (+TLS) connect, each. Default 5,000. */
  connectMs: number;
  /** From the request fully sent to the response headers. Default 30,000 (a DataNode answers a write after close). */
  responseMs: number;
  /**
   * Socket inactivity, in either direction. Default 60,000. A streamed body whose producer stalls longer than
   * this fails the upload.
   */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: WebHdfsTimeouts = { connectMs: 5_000, responseMs: 30_000, idleMs: 60_000 };

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type RequestBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface HttpInit {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  body?: RequestBody;
  headers?: Record<string, string>;
  timeouts: WebHdfsTimeouts;
  signal?: AbortSignal | undefined;
}

function gotOptions(init: HttpInit) {
  return {
    method: init.method,
    headers: init.headers,
    followRedirect: false,
    throwHttpErrors: false,
    retry: { limit: 0 },
    timeout: {
      lookup: init.timeouts.connectMs,
      connect: init.timeouts.connectMs,
      secureConnect: init.timeouts.connectMs,
      response: init.timeouts.responseMs,
      socket: init.timeouts.idleMs,
    },
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  } as const;
}

/** One request, whole body buffered. Any HTTP status resolves; transport failures reject with a PipelineError. */
export async function httpRequest(url: string, init: HttpInit, ctx: ErrorContext): Promise<HttpAnswer> {
  try {
    const res = await got(url, {
      ...gotOptions(init),
      ...(init.body === undefined ? {} : { body: init.body }),
      responseType: 'buffer',
    });
    const raw = res.rawBody;
    return {
      status: res.statusCode,
      headers: res.headers,
      body: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
    };
  } catch (err) {
    throw transportError(err, ctx, init.signal);
  }
}

/** Bodies of error answers are read up to this size, for the RemoteException JSON. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * A streaming GET. Resolves once the response headers arrived with `expectStatus`; any other status rejects
 * with the mapped error (body read up to 64 KiB). Errors during the body surface on the returned stream as
 * PipelineErrors (NETWORK, TIMEOUT, ABORTED; a truncated body is detected from Content-Length).
 */
export async function httpStream(url: string, init: HttpInit, ctx: ErrorContext, expectStatus: number): Promise<Readable> {
  const source = got.stream(url, gotOptions(init));
  let status: number;
  try {
    status = await new Promise<number>((resolve, reject) => {
      source.once('response', (res: { statusCode: number }) => resolve(res.statusCode));
      source.once('error', reject);
    });
  } catch (err) {
    source.destroy();
    throw transportError(err, ctx, init.signal);
  }
  if (status !== expectStatus) {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (size < MAX_ERROR_BODY) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_ERROR_BODY) break;
      }
    } catch {
      // The status is what matters; a broken error body still maps by status.
    } finally {
      source.destroy();
    }
    throw webHdfsHttpError(status, Buffer.concat(chunks), ctx);
  }
  const out = new PassThrough();
  pipeline(source, out, (err) => {
    if (err) out.destroy(transportError(err, ctx, init.signal));
  });
  return out;
}

/**
 * The HA NameNode list with a sticky active one: requests start at the last NameNode that answered as active,
 * so the happy path costs one request; on a standby answer or a refused connection the next one in list order
 * is tried. Safe to share between concurrent requests (a single index, last writer wins).
 */
export class NameNodeRotation {
  readonly urls: readonly string[];
  #active = 0;

  constructor(urls: readonly string[]) {
    const normalized = [...new Set(urls.map(normalizeNameNodeUrl))];
    if (normalized.length === 0) throw new ConfigError('WebHDFS needs at least one NameNode URL');
    this.urls = normalized;
  }

  /** The URL currently believed active. */
  get active(): string {
    return this.urls[this.#active] as string;
  }

  /** All URLs in the order one attempt should try them: the active one first, then the others cyclically. */
  order(): string[] {
    const n = this.urls.length;
    return Array.from({ length: n }, (_, i) => this.urls[(this.#active + i) % n] as string);
  }

  /** This NameNode answered as active: start there next time. */
  markActive(url: string): void {
    const i = this.urls.indexOf(url);
    if (i >= 0) this.#active = i;
  }

  /**
   * This NameNode failed after connecting (reset, response timeout): the attempt ends (the request may have
   * been executed), but the next attempt starts at the following NameNode, so a hung active one cannot pin us.
   */
  markSuspect(url: string): void {
    if (url === this.active && this.urls.length > 1) this.#active = (this.#active + 1) % this.urls.length;
  }
}

export type SkipListener = (info: { url: string; error: PipelineError }) => void;

export function isReplayable(body: RequestBody): body is Uint8Array {
  return body instanceof Uint8Array;
}
