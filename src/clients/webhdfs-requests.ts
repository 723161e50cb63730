import { PipelineError } from '../core/errors.ts';
import { badResponse, isConnectPhaseError, isStandbyError, webHdfsHttpError } from './webhdfs-errors.ts';
import type { ErrorContext } from './webhdfs-errors.ts';
import { httpRequest } from './webhdfs-http.ts';
import type { HttpAnswer, HttpInit, NameNodeRotation, SkipListener, WebHdfsTimeouts } from './webhdfs-http.ts';
import { parseBooleanAnswer, parseGetFileStatus, parseJson, parseListStatus } from './webhdfs-types.ts';
import type { WebHdfsFileStatus } from './webhdfs-types.ts';
import { buildWebHdfsUrl } from './webhdfs-url.ts';
import type { WebHdfsParams } from './webhdfs-url.ts';

/**
 * Single attempts of WebHDFS requests, no retries (the client decides what may be repeated): NameNode calls
 * through the HA rotation, the 307 redirect step, JSON answers. Every failure is a classified PipelineError.
 */
export class WebHdfsRequests {
  readonly nameNodes: NameNodeRotation;
  readonly user: string;
  readonly timeouts: WebHdfsTimeouts;
  readonly #rewrite: ((location: URL) => URL) | undefined;
  readonly #onSkip: SkipListener | undefined;

  constructor(options: {
    nameNodes: NameNodeRotation;
    user: string;
    timeouts: WebHdfsTimeouts;
    rewriteDataNodeUrl?: ((location: URL) => URL) | undefined;
    onNameNodeSkipped?: SkipListener | undefined;
  }) {
    this.nameNodes = options.nameNodes;
    this.user = options.user;
    this.timeouts = options.timeouts;
    this.#rewrite = options.rewriteDataNodeUrl;
    this.#onSkip = options.onNameNodeSkipped;
  }

  init(method: HttpInit['method'], signal: AbortSignal | undefined): HttpInit {
    return { method, timeouts: this.timeouts, signal };
  }

  /**
   * One request to the NameNodes, trying each at most once from the active one (see NameNodeRotation). Resolves
   * with the first answer that is not a StandbyException; rejects on any other failure status.
   */
  async nameNode(method: HttpInit['method'], op: string, path: string, params: WebHdfsParams, signal: AbortSignal | undefined): Promise<HttpAnswer> {
    let skipped: PipelineError | undefined;
    let sawStandby = false;
    for (const base of this.nameNodes.order()) {
      const url = buildWebHdfsUrl(base, path, op, this.user, params);
      const ctx: ErrorContext = { op, path, step: 'namenode', server: base };
      let answer: HttpAnswer;
      try {
        answer = await httpRequest(url, this.init(method, signal), ctx);
      } catch (err) {
        if (isConnectPhaseError(err)) {
          skipped = this.#skip(base, err as PipelineError);
          continue;
        }
        if (!signal?.aborted) this.nameNodes.markSuspect(base);
        throw err;
      }
      if (answer.status >= 400) {
        const error = webHdfsHttpError(answer.status, answer.body, ctx, answer.headers['retry-after']);
        if (isStandbyError(error)) {
          sawStandby = true;
          skipped = this.#skip(base, error);
          continue;
        }
        this.nameNodes.markActive(base);
        throw error;
      }
      this.nameNodes.markActive(base);
      return answer;
    }
    const last = skipped as PipelineError;
    if (this.nameNodes.urls.length === 1) throw last;
    // Standby somewhere: the cluster is there but failing over (UNAVAILABLE); else all unreachable (NETWORK...).
    const code = sawStandby ? 'UNAVAILABLE' : last.code;
    throw new PipelineError(code, `WebHDFS ${op} ${path}: no active NameNode reachable (last: ${last.message})`, {
      retryable: true,
      cause: last,
      details: { ...last.details, nameNodes: this.nameNodes.urls },
    });
  }

  #skip(url: string, error: PipelineError): PipelineError {
    if (this.nameNodes.urls.length > 1) this.#onSkip?.({ url, error });
    return error;
  }

  /** First step of OPEN/CREATE/APPEND: the DataNode URL from the NameNode's 307 (or a noredirect 200 JSON). */
  async redirect(method: HttpInit['method'], op: string, path: string, params: WebHdfsParams, signal: AbortSignal | undefined): Promise<string> {
    const answer = await this.nameNode(method, op, path, params, signal);
    const ctx: ErrorContext = { op, path, step: 'namenode' };
    let location = answer.status === 307 ? answer.headers.location : undefined;
    if (answer.status === 200) location = (parseJson(answer.body) as { Location?: string } | undefined)?.Location;
    if (typeof location !== 'string' || location === '') {
      throw badResponse(ctx, `expected a 307 with a DataNode Location, got HTTP ${answer.status}`, { status: answer.status });
    }
    let url: URL;
    try {
      url = new URL(location, this.nameNodes.active);
    } catch {
      throw badResponse(ctx, 'unparsable DataNode Location');
    }
    if (this.#rewrite) url = this.#rewrite(url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badResponse(ctx, `DataNode Location is not http(s)`);
    return url.toString();
  }

  async json(method: HttpInit['method'], op: string, path: string, params: WebHdfsParams, signal: AbortSignal | undefined): Promise<unknown> {
    const answer = await this.nameNode(method, op, path, params, signal);
    const json = answer.status === 200 ? parseJson(answer.body) : undefined;
    if (json === undefined) {
      throw badResponse({ op, path, step: 'namenode' }, `expected JSON with HTTP 200, got HTTP ${answer.status}`, { status: answer.status });
    }
    return json;
  }

  async jsonBoolean(method: HttpInit['method'], op: string, path: string, params: WebHdfsParams, signal: AbortSignal | undefined): Promise<boolean> {
    const value = parseBooleanAnswer(await this.json(method, op, path, params, signal));
    if (value === undefined) throw badResponse({ op, path, step: 'namenode' }, 'expected {"boolean": ...}');
    return value;
  }

  statusOrNull(op: 'GETFILESTATUS', path: string, signal: AbortSignal | undefined): Promise<WebHdfsFileStatus | null>;
  statusOrNull(op: 'LISTSTATUS', path: string, signal: AbortSignal | undefined): Promise<WebHdfsFileStatus[] | null>;
  async statusOrNull(op: 'GETFILESTATUS' | 'LISTSTATUS', path: string, signal: AbortSignal | undefined): Promise<WebHdfsFileStatus | WebHdfsFileStatus[] | null> {
    let json: unknown;
    try {
      json = await this.json('GET', op, path, {}, signal);
    } catch (err) {
      // Only Hadoop's own "no such path" means null: a bare 404 (wrong gateway path, proxy) stays an error.
      if (err instanceof PipelineError && err.details.exception === 'FileNotFoundException') return null;
      throw err;
    }
    const parsed = op === 'GETFILESTATUS' ? parseGetFileStatus(json) : parseListStatus(json);
    if (parsed === undefined) throw badResponse({ op, path, step: 'namenode' }, 'unexpected JSON shape');
    return parsed;
  }
}
