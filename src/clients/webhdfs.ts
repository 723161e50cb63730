import { userInfo } from 'node:os';
import type { Readable } from 'node:stream';
import { PipelineError } from '../core/errors.ts';
import { retry } from '../core/retry.ts';
import type { RetryContext, RetryOptions } from '../core/retry.ts';
import { abortedError } from '../core/sleep.ts';
import { isConnectPhaseError, webHdfsHttpError } from './webhdfs-errors.ts';
import type { ErrorContext } from './webhdfs-errors.ts';
import { DEFAULT_TIMEOUTS, NameNodeRotation, httpRequest, httpStream, isReplayable } from './webhdfs-http.ts';
import type { HttpInit, RequestBody, SkipListener, WebHdfsTimeouts } from './webhdfs-http.ts';
import { WebHdfsRequests } from './webhdfs-requests.ts';
import type { WebHdfsFileStatus } from './webhdfs-types.ts';
import { assertHdfsPath, normalizePermission, redactUrl } from './webhdfs-url.ts';
import type { WebHdfsParams } from './webhdfs-url.ts';

export type { WebHdfsFileStatus, WebHdfsFileType } from './webhdfs-types.ts';
export type { WebHdfsTimeouts, RequestBody as WebHdfsBody } from './webhdfs-http.ts';

/** Retry policy of the operations that are safe to retry (see the class comment). `signal` comes per call. */
export type WebHdfsRetryOptions = Partial<Omit<RetryOptions, 'signal'>>;

export const DEFAULT_RETRY: Readonly<WebHdfsRetryOptions> = {
  maxAttempts: 5,
  maxElapsedMs: 60_000,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

export interface WebHdfsClientOptions {
  /** NameNode base URLs, e.g. ["http://nn1:9870", "http://nn2:9870"] for HA. A gateway path prefix is kept. */
  urls: readonly string[];
  /** `user.name` of every request. Default: see `defaultHdfsUser()`. */
  user?: string;
  timeouts?: Partial<WebHdfsTimeouts>;
  retry?: WebHdfsRetryOptions;
  /** Aborts every request of this client (e.g. the process shutdown signal); combined with per-call signals. */
  signal?: AbortSignal;
  /** Rewrite the DataNode URL of a 307 (NAT, containers: a DataNode hostname the client cannot resolve). */
  rewriteDataNodeUrl?: (location: URL) => URL;
  /** Called when an HA NameNode is skipped (standby or unreachable): the place to log failovers. */
  onNameNodeSkipped?: SkipListener;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  /** Replace an existing file (true) or fail with REJECTED / FileAlreadyExistsException (false, the default). */
  overwrite?: boolean;
  /** Octal, e.g. "644". Default: the server's (644 minus umask). */
  permission?: string | number;
  replication?: number;
  blockSize?: number;
}

export interface OpenOptions extends CallOptions {
  /** Start byte. */
  offset?: number;
  /** Number of bytes; default to the end of the file. */
  length?: number;
}

/**
 * Hadoop's own rule for an insecure cluster: HADOOP_USER_NAME, else the OS login user. The last resort when the
 * process has no passwd entry (some containers) is Hadoop's default anonymous web user, "dr.who".
 */
export function defaultHdfsUser(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.HADOOP_USER_NAME?.trim();
  if (fromEnv) return fromEnv;
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for our uid.
  }
  return env.USER?.trim() || 'dr.who';
}

/**
 * A small typed WebHDFS client (Hadoop 3 REST API, simple auth with `user.name`).
 *
 * Errors: every method rejects with a PipelineError classified by `webhdfs-errors.ts` (NOT_FOUND, AUTH,
 * UNAVAILABLE for standby/safe mode/no DataNode, REJECTED for "file exists", quotas, bad paths, NETWORK,
 * TIMEOUT, BAD_RESPONSE, ABORTED). `details` holds op, path, step ("namenode" | "datanode"), server, status and,
 * for RemoteExceptions, exception / javaClassName / message.
 *
 * Retries (bounded by the `retry` option, abortable): a NameNode request carries no body and the redirect step
 * of CREATE/APPEND changes nothing on the server, so that step is always retried. Whole operations are retried
 * when repeating them is harmless: all reads, MKDIRS (idempotent), DELETE (a repeat answers false: "already
 * gone"), RENAME (see `rename`), CREATE with overwrite=true and a Buffer body (replayable, last write wins).
 * APPEND and CREATE with a stream body or overwrite=false are not repeated once bytes may have reached a
 * DataNode: the error is surfaced as classified (often `retryable: true`), and the caller, who knows what was
 * written, decides. With a Buffer body a DataNode that refused the connection is retried (nothing was sent).
 *
 * HA: see NameNodeRotation. Concurrency: one instance can serve concurrent calls; it holds no sockets of its own
 * (Node's global keep-alive agent), so there is nothing to close.
 */
export class WebHdfsClient {
  readonly #req: WebHdfsRequests;
  readonly #retry: WebHdfsRetryOptions;
  readonly #signal: AbortSignal | undefined;

  constructor(options: WebHdfsClientOptions) {
    this.#req = new WebHdfsRequests({
      nameNodes: new NameNodeRotation(options.urls),
      user: options.user ?? defaultHdfsUser(),
      timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
      rewriteDataNodeUrl: options.rewriteDataNodeUrl,
      onNameNodeSkipped: options.onNameNodeSkipped,
    });
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#signal = options.signal;
  }

  /** The `user.name` sent with every request. */
  get user(): string {
    return this.#req.user;
  }
  /** The NameNode URLs in use (normalised), and the one currently believed active. */
  get nameNodes(): readonly string[] {
    return this.#req.nameNodes.urls;
  }
  get activeNameNode(): string {
    return this.#req.nameNodes.active;
  }

  /** Create a directory and its parents (like `mkdir -p`). Existing directory: fine. A file in the way: REJECTED. */
  async mkdirs(path: string, options: CallOptions & { permission?: string | number } = {}): Promise<void> {
    const params = { permission: options.permission === undefined ? undefined : normalizePermission(options.permission) };
    await this.#run(options.signal, async (signal) => {
      const ok = await this.#req.jsonBoolean('PUT', 'MKDIRS', path, params, signal);
      if (!ok) throw new PipelineError('REJECTED', `WebHDFS MKDIRS ${path}: answered false`, { details: { op: 'MKDIRS', path } });
    });
  }

  /**
   * Rename a file or directory. A `false` answer rejects (non-retryable) with `details.reason`:
   * "source-missing" (NOT_FOUND), "destination-exists" or "destination-parent-missing" or "unknown" (REJECTED);
   * the reason costs two GETFILESTATUS calls, on the failure path only.
   * Beware HDFS semantics: if `dst` is an existing DIRECTORY, `src` is moved INTO it (dst/<name>) and this succeeds.
   * Retried on transient errors: when a retry answers false with the source gone and the destination present, the
   * earlier attempt did the rename and only its answer was lost, so this resolves (a concurrent renamer of the
   * same source is the one case this misreads; the pipeline has one writer per path).
   */
  async rename(src: string, dst: string, options: CallOptions = {}): Promise<void> {
    assertHdfsPath(dst);
    await this.#run(options.signal, async (signal, ctx) => {
      if (await this.#req.jsonBoolean('PUT', 'RENAME', src, { destination: dst }, signal)) return;
      const [srcStatus, dstStatus] = await Promise.all([
        this.#req.statusOrNull('GETFILESTATUS', src, signal),
        this.#req.statusOrNull('GETFILESTATUS', dst, signal),
      ]);
      if (ctx.attempt > 1 && srcStatus === null && dstStatus !== null) return;
      let reason = 'unknown';
      if (srcStatus === null) reason = 'source-missing';
      else if (dstStatus !== null) reason = 'destination-exists';
      else if ((await this.#req.statusOrNull('GETFILESTATUS', parentOf(dst), signal)) === null) reason = 'destination-parent-missing';
      const code = reason === 'source-missing' ? 'NOT_FOUND' : 'REJECTED';
      throw new PipelineError(code, `WebHDFS RENAME ${src} -> ${dst}: answered false (${reason})`, {
        retryable: false,
        details: { op: 'RENAME', path: src, destination: dst, reason },
      });
    });
  }

  /** Delete a file or directory. Resolves true if it was deleted, false if it did not exist (or was already gone). */
  async delete(path: string, options: CallOptions & { recursive?: boolean } = {}): Promise<boolean> {
    return this.#run(options.signal, (signal) =>
      this.#req.jsonBoolean('DELETE', 'DELETE', path, { recursive: options.recursive ?? false }, signal),
    );
  }

  /** The status of a path, or null if it does not exist (FileNotFoundException only; any other error rejects). */
  async getFileStatus(path: string, options: CallOptions = {}): Promise<WebHdfsFileStatus | null> {
    return this.#run(options.signal, (signal) => this.#req.statusOrNull('GETFILESTATUS', path, signal));
  }

  /**
   * The entries of a directory (in HDFS order, by name), or null if the path does not exist. On a file: one
   * entry with pathSuffix "". Whole listing in one answer: meant for directories of up to some thousand entries.
   */
  async listStatus(path: string, options: CallOptions = {}): Promise<WebHdfsFileStatus[] | null> {
    return this.#run(options.signal, (signal) => this.#req.statusOrNull('LISTSTATUS', path, signal));
  }

  /** Read a file (or a range) into memory. Missing file or a directory: NOT_FOUND. */
  async open(path: string, options: OpenOptions = {}): Promise<Buffer> {
    return this.#run(options.signal, async (signal) => {
      const location = await this.#req.redirect('GET', 'OPEN', path, openParams(options), signal);
      const ctx: ErrorContext = { op: 'OPEN', path, step: 'datanode', server: redactUrl(location) };
      const answer = await httpRequest(location, this.#req.init('GET', signal), ctx);
      if (answer.status !== 200) throw webHdfsHttpError(answer.status, answer.body, ctx, answer.headers['retry-after']);
      return answer.body;
    });
  }

  /**
   * Read a file as a stream. The NameNode and DataNode requests up to the response headers are retried; errors
   * while reading the body are emitted on the stream as PipelineErrors (retryable ones: read again, with offset).
   */
  async openStream(path: string, options: OpenOptions = {}): Promise<Readable> {
    return this.#run(options.signal, async (signal) => {
      const location = await this.#req.redirect('GET', 'OPEN', path, openParams(options), signal);
      const ctx: ErrorContext = { op: 'OPEN', path, step: 'datanode', server: redactUrl(location) };
      return httpStream(location, this.#req.init('GET', signal), ctx, 200);
    });
  }

  /**
   * Create a file with `body` (CREATE: NameNode 307, then PUT to the DataNode, 201). Resolves once the DataNode
   * answered, i.e. the file is closed and its bytes durable. A Readable/AsyncIterable body is consumed. On failure
   * or abort mid-body the DataNode CLOSES THE FILE WITH THE BYTES RECEIVED SO FAR (measured): a truncated file that
   * looks complete. So write to a temporary name and `rename` after success, or recreate with overwrite=true.
   */
  async create(path: string, body: RequestBody, options: CreateOptions = {}): Promise<void> {
    const overwrite = options.overwrite ?? false;
    const params: WebHdfsParams = {
      overwrite,
      permission: options.permission === undefined ? undefined : normalizePermission(options.permission),
      replication: options.replication,
      blocksize: options.blockSize,
    };
    await this.#write('CREATE', path, body, params, overwrite && isReplayable(body), options.signal);
  }

  /**
   * Append `body` to an existing file (APPEND: NameNode 307, then POST to the DataNode, 200). Never repeated
   * automatically once bytes may have been sent: a failure (or an abort) may have appended PART of the body,
   * and the DataNode closes the file with it. To undo, note the length before and `truncate` back to it.
   */
  async append(path: string, body: RequestBody, options: CallOptions = {}): Promise<void> {
    await this.#write('APPEND', path, body, {}, false, options.signal);
  }

  /**
   * Cut a file to `newLength` bytes (e.g. to undo a partial append). Idempotent, so retried. Resolves true when
   * done at once, false when HDFS must first recover the last block (length not on a block boundary): the file
   * then refuses appends (UNAVAILABLE, RecoveryInProgressException) for a moment.
   */
  async truncate(path: string, newLength: number, options: CallOptions = {}): Promise<boolean> {
    if (!Number.isSafeInteger(newLength) || newLength < 0) {
      throw new PipelineError('INVALID_INPUT', `WebHDFS TRUNCATE ${path}: bad length ${newLength}`, { details: { path, newLength } });
    }
    return this.#run(options.signal, (signal) => this.#req.jsonBoolean('POST', 'TRUNCATE', path, { newlength: newLength }, signal));
  }

  async #write(
    op: 'CREATE' | 'APPEND',
    path: string,
    body: RequestBody,
    params: WebHdfsParams,
    repeatable: boolean,
    callSignal: AbortSignal | undefined,
  ): Promise<void> {
    const method = op === 'CREATE' ? 'PUT' : 'POST';
    const expected = op === 'CREATE' ? 201 : 200;
    await this.#run(callSignal, async (signal, { bail }) => {
      const location = await this.#req.redirect(method, op, path, params, signal);
      const ctx: ErrorContext = { op, path, step: 'datanode', server: redactUrl(location) };
      try {
        const init: HttpInit = { ...this.#req.init(method, signal), body, headers: { 'content-type': 'application/octet-stream' } };
        const answer = await httpRequest(location, init, ctx);
        if (answer.status !== expected) {
          throw webHdfsHttpError(answer.status, answer.body, ctx, answer.headers['retry-after']);
        }
      } catch (err) {
        if (repeatable || (isReplayable(body) && isConnectPhaseError(err))) throw err;
        bail(err);
      }
    });
  }

  /** Run `fn` under the retry policy with the combined signal; an abort always surfaces as ABORTED. */
  async #run<T>(callSignal: AbortSignal | undefined, fn: (signal: AbortSignal | undefined, ctx: RetryContext) => Promise<T>): Promise<T> {
    const signals = [this.#signal, callSignal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      return await retry((ctx) => fn(signal, ctx), { ...this.#retry, maxAttempts: this.#retry.maxAttempts ?? 5, signal });
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal);
      throw err;
    }
  }

}

function openParams(options: OpenOptions): WebHdfsParams {
  return { offset: options.offset, length: options.length };
}

/** "/a/b" -> "/a", "/a" -> "/". */
export function parentOf(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const i = trimmed.lastIndexOf('/');
  return i <= 0 ? '/' : trimmed.slice(0, i);
}
