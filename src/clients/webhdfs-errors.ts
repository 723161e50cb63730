import { PipelineError, errorMessage, toPipelineError } from '../core/errors.ts';
import { httpStatusError } from '../core/retry.ts';
import { abortedError } from '../core/sleep.ts';

/**
 * Classification of everything a WebHDFS request can fail with, where it happens (principle 5):
 * NameNode/DataNode `RemoteException` bodies, other HTTP statuses, and transport errors from got.
 *
 * Why not just the HTTP status: Hadoop's ExceptionHandler answers 403 for EVERY IOException (standby,
 * safe mode, file exists, quota, lease conflicts...), so a 403 alone says little. The exception name decides.
 */

/** The JSON error body of WebHDFS: `{"RemoteException": {...}}`. */
export interface RemoteException {
  /** Simple class name, e.g. "FileNotFoundException". */
  exception: string;
  /** Fully qualified, e.g. "java.io.FileNotFoundException". */
  javaClassName: string;
  message: string;
}

/** Where in a two-step operation the error happened; kept in `details.step`. */
export type WebHdfsStep = 'namenode' | 'datanode';

export interface ErrorContext {
  op: string;
  path: string;
  step: WebHdfsStep;
  /** Server origin (redacted URL), for logs. */
  server?: string;
}

/** Parse a RemoteException body; undefined if the body is not one (HTML from a proxy, empty, truncated). */
export function parseRemoteException(body: Uint8Array | string): RemoteException | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const re = (parsed as { RemoteException?: unknown } | null)?.RemoteException;
  if (re === null || typeof re !== 'object') return undefined;
  const { exception, javaClassName, message } = re as Record<string, unknown>;
  const cls = typeof javaClassName === 'string' ? javaClassName : '';
  const simple = typeof exception === 'string' && exception !== '' ? exception : (cls.split('.').pop() ?? '');
  if (simple === '' && cls === '') return undefined;
  return { exception: simple, javaClassName: cls, message: typeof message === 'string' ? stripJavaStack(message) : '' };
}

/**
 * DataNode RemoteExceptions carry the NameNode's Java stack trace in `message` ("...\n\tat org.apache..."): kilobytes
 * per log line and no use to an operator of this pipeline. Keep the text before it.
 */
export function stripJavaStack(message: string): string {
  const at = message.search(/\r?\n\s*at [\w$.]+\(/);
  return (at === -1 ? message : message.slice(0, at)).trimEnd();
}

const NOT_FOUND = new Set(['FileNotFoundException']);
const AUTH = new Set(['AccessControlException', 'SecurityException', 'AuthorizationException', 'InvalidToken']);
/**
 * Transient by nature: a standby or observer NameNode, safe mode (startup, or an admin), a NameNode asking to be
 * retried, and lease conflicts that clear when HDFS recovers the lease of a writer that went away (a broken
 * append leaves the DataNode's lease behind for up to the soft limit, 60 s).
 */
const UNAVAILABLE = new Set([
  'StandbyException',
  'SafeModeException',
  'RetriableException',
  'ObserverRetryOnActiveException',
  'RecoveryInProgressException',
  'AlreadyBeingCreatedException',
  // A DataNode (or a NameNode of an HA pair) that cannot reach the NameNode answers with the network error it
  // got: the NameNode is restarting or failing over. Seen for real with the NameNode stopped mid-run.
  'EOFException',
  'ConnectException',
  'ConnectTimeoutException',
  'SocketTimeoutException',
  'NoRouteToHostException',
  'ClosedChannelException',
]);
/** Any network failure a server relays (java.net.SocketException, ConnectException, ...): transient. */
const NETWORK_CLASS = /^(java\.net\.|java\.nio\.channels\.|org\.apache\.hadoop\.net\.)|^java\.io\.(EOF|InterruptedIO)Exception$/;
/** The server refused this request for a reason a retry cannot change; needs the caller or an operator. */
const REJECTED = new Set([
  'FileAlreadyExistsException',
  'PathIsNotEmptyDirectoryException',
  'ParentNotDirectoryException',
  'PathIsNotDirectoryException',
  'QuotaExceededException',
  'DSQuotaExceededException',
  'NSQuotaExceededException',
  'PathComponentTooLongException',
  'MaxDirectoryItemsExceededException',
  'InvalidPathException',
  'IllegalArgumentException',
  'HadoopIllegalArgumentException',
  'UnsupportedOperationException',
  'UnresolvedPathException',
]);
/** Generic IOExceptions whose message says the cluster has no usable DataNode right now. */
const NO_DATANODE = /Failed to find datanode|could only be (?:written|replicated) to 0|no datanode|All datanodes .* are bad/i;

/** Is this error a NameNode telling us it is not the active one? Then the next NameNode of the HA list is tried. */
export function isStandbyError(err: unknown): boolean {
  return err instanceof PipelineError && err.details.exception === 'StandbyException';
}

/**
 * Map a RemoteException to a classified error. `status` is the HTTP status it came with; `retryAfter` the header.
 * Unknown exceptions: a plain java.io.IOException is UNAVAILABLE (server-side I/O trouble, usually transient; retries
 * are bounded), any other unknown class on a 403 is REJECTED (not AUTH: see the module comment), and the rest is
 * classified by status with `httpStatusError`.
 */
export function remoteExceptionError(
  status: number,
  remote: RemoteException,
  ctx: ErrorContext,
  retryAfter?: string | string[],
): PipelineError {
  const details = {
    status,
    op: ctx.op,
    path: ctx.path,
    step: ctx.step,
    ...(ctx.server === undefined ? {} : { server: ctx.server }),
    exception: remote.exception,
    javaClassName: remote.javaClassName,
    message: remote.message,
  };
  const msg = `WebHDFS ${ctx.op} ${ctx.path}: ${remote.exception}: ${firstLine(remote.message)}`;
  const name = remote.exception;
  if (NOT_FOUND.has(name)) return new PipelineError('NOT_FOUND', msg, { details });
  if (AUTH.has(name)) return new PipelineError('AUTH', msg, { details });
  if (UNAVAILABLE.has(name) || NETWORK_CLASS.test(remote.javaClassName)) return new PipelineError('UNAVAILABLE', msg, { retryable: true, details });
  if (REJECTED.has(name)) return new PipelineError('REJECTED', msg, { retryable: false, details });
  if (remote.javaClassName === 'java.io.IOException' || name === 'IOException') {
    const noDataNode = NO_DATANODE.test(remote.message);
    return new PipelineError('UNAVAILABLE', msg, { retryable: true, details: { ...details, noDataNode } });
  }
  if (status === 403) return new PipelineError('REJECTED', msg, { retryable: false, details });
  return httpStatusError(status, msg, { retryAfter, details });
}

/** Map a non-success HTTP answer: a RemoteException if the body is one, else by status (body start kept). */
export function webHdfsHttpError(
  status: number,
  body: Uint8Array,
  ctx: ErrorContext,
  retryAfter?: string | string[],
): PipelineError {
  const remote = parseRemoteException(body);
  if (remote !== undefined) return remoteExceptionError(status, remote, ctx, retryAfter);
  const snippet = Buffer.from(body.subarray(0, 300)).toString('utf8').replace(/\s+/g, ' ').trim();
  return httpStatusError(status, `WebHDFS ${ctx.op} ${ctx.path}: HTTP ${status}${snippet ? `: ${snippet}` : ''}`, {
    retryAfter,
    details: { op: ctx.op, path: ctx.path, step: ctx.step, ...(ctx.server === undefined ? {} : { server: ctx.server }) },
  });
}

/** A 2xx/3xx we cannot use (no Location, not the JSON we expect): BAD_RESPONSE, retryable. */
export function badResponse(ctx: ErrorContext, why: string, details: Record<string, unknown> = {}): PipelineError {
  return new PipelineError('BAD_RESPONSE', `WebHDFS ${ctx.op} ${ctx.path}: ${why}`, {
    details: { op: ctx.op, path: ctx.path, step: ctx.step, ...details },
  });
}

/** Connection never established: nothing reached the server, so trying elsewhere or again is always safe. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECT_TIMEOUT_EVENTS = new Set(['lookup', 'connect', 'secureConnect']);
const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

/**
 * Map an error thrown by got (or by our own code around it). `signal` decides ABORTED first: an abort often
 * surfaces as a socket error. Sets `details.phase = 'connect'` when nothing was sent (see `isConnectPhaseError`).
 */
export function transportError(err: unknown, ctx: ErrorContext, signal?: AbortSignal): PipelineError {
  if (signal?.aborted) return abortedError(signal);
  if (err instanceof PipelineError) return err;
  const e = err as { name?: unknown; code?: unknown; event?: unknown; cause?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const base = { op: ctx.op, path: ctx.path, step: ctx.step, ...(ctx.server === undefined ? {} : { server: ctx.server }) };
  const where = `WebHDFS ${ctx.op} ${ctx.path} (${ctx.step}${ctx.server ? ` ${ctx.server}` : ''})`;
  if (e?.name === 'UploadError') {
    // The caller's body stream failed: not a server problem. Keep its classification if it has one.
    return toPipelineError(e.cause ?? err, 'INTERNAL');
  }
  if (e?.name === 'TimeoutError') {
    const event = typeof e.event === 'string' ? e.event : 'unknown';
    const phase = CONNECT_TIMEOUT_EVENTS.has(event) ? 'connect' : event;
    return new PipelineError('TIMEOUT', `${where}: ${event} timeout`, {
      cause: err,
      details: { ...base, phase, timeout: event },
    });
  }
  if (CONNECT_CODES.has(code)) {
    return new PipelineError('NETWORK', `${where}: ${code}`, { cause: err, details: { ...base, phase: 'connect', errno: code } });
  }
  if (NETWORK_CODES.has(code) || e?.name === 'ReadError') {
    return new PipelineError('NETWORK', `${where}: ${code || 'read error'}: ${errorMessage(err)}`, {
      cause: err,
      details: { ...base, errno: code },
    });
  }
  if (code.startsWith('HPE_')) {
    return new PipelineError('BAD_RESPONSE', `${where}: malformed HTTP: ${errorMessage(err)}`, {
      cause: err,
      details: { ...base, errno: code },
    });
  }
  const fallback = toPipelineError(err, 'INTERNAL');
  return new PipelineError(fallback.code, `${where}: ${fallback.message}`, {
    cause: err,
    retryable: fallback.retryable,
    details: { ...base, ...(code ? { errno: code } : {}) },
  });
}

/** True when the request provably never reached the server (refused, unresolvable, connect timeout). */
export function isConnectPhaseError(err: unknown): boolean {
  return err instanceof PipelineError && err.details.phase === 'connect';
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}
