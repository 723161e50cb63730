import { TimeoutError } from '@platformatic/kafka';
import { PipelineError, isAbortError, type ErrorCode } from '../core/errors.ts';

/**
 * Turn whatever @platformatic/kafka throws into a PipelineError with the right code and `retryable` flag.
 * The one place that knows the library's error shapes:
 *
 * - `GenericError`s carry `code` (`PLT_KFK_*`), `canRetry`, and for broker answers `apiId` (the Kafka error
 *   name, e.g. `NOT_LEADER_OR_FOLLOWER`);
 * - `MultipleErrors` (an AggregateError) wraps the attempts of an internal retry or the partitions of one
 *   response, in `errors`;
 * - a failed connection is a `NetworkError` whose `cause` is the real reason: a Node socket error
 *   (`ECONNREFUSED`), a TLS error, or an `AuthenticationError` for SASL. The library's own `findBy` does not
 *   look into `cause`, so it even retries SASL failures; we walk `cause` and `errors` ourselves.
 * - `TimeoutError` instances report `code: 'PLT_KFK_NETWORK'` and no distinctive `name` (library quirk), so
 *   they are recognised with `instanceof`.
 *
 * Precedence: abort > auth > TLS/config > bad record > rebalance > unknown topic > timeout > network >
 * other retriable broker errors > not retryable. `details.kafka` lists the broker error names seen.
 */

/** Broker errors meaning "you may not" or "wrong credentials": fatal, retrying only locks accounts. */
const AUTH_API_IDS = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);

/** The record itself can never be written: dead-letter / quarantine it. */
const INVALID_RECORD_API_IDS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP']);

/**
 * The group moved on (rebalance, eviction): a commit with this generation is refused. The records are not
 * lost: whoever owns the partition now re-reads them from the last committed offset. Not retryable as is.
 */
const REBALANCE_API_IDS = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
  'STALE_MEMBER_EPOCH',
  'FENCED_MEMBER_EPOCH',
]);

const UNKNOWN_TOPIC_API_IDS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']);

const CONFIG_API_IDS = new Set([
  'UNSUPPORTED_COMPRESSION_TYPE',
  'INVALID_REQUIRED_ACKS',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'INVALID_TOPIC_EXCEPTION',
  'POLICY_VIOLATION',
  'INVALID_CONFIG',
]);

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
]);

/** Node/OpenSSL codes of a TLS setup that can never work as configured (wrong CA, plaintext port...). */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH/;

interface Node {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  apiId?: unknown;
  canRetry?: unknown;
  closed?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Every error in the tree (self, `cause` chain, `errors` of aggregates), depth-bounded against cycles. */
export function errorTree(err: unknown, limit = 64): Node[] {
  const out: Node[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 8 || out.length >= limit) return;
    seen.add(e);
    const node = e as Node;
    out.push(node);
    if (Array.isArray(node.errors)) for (const child of node.errors) visit(child, depth + 1);
    visit(node.cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

/** Kafka error names (`apiId`) anywhere in the tree, deduplicated, in discovery order. */
export function kafkaErrorNames(err: unknown): string[] {
  const names: string[] = [];
  for (const n of errorTree(err)) if (typeof n.apiId === 'string' && !names.includes(n.apiId)) names.push(n.apiId);
  return names;
}

/** True when a commit (or a group call) failed because the group rebalanced or evicted this member. */
export function isRebalanceError(err: unknown): boolean {
  if (err instanceof PipelineError) return err.details.rebalance === true;
  return errorTree(err).some((n) => typeof n.apiId === 'string' && REBALANCE_API_IDS.has(n.apiId));
}

/**
 * Classify a library error. `op` names the operation for the message and details (`send`, `commit`,
 * `fetch`, `createTopics`...). Already-classified PipelineErrors pass through untouched.
 */
export function classifyKafkaError(err: unknown, op: string, details: Record<string, unknown> = {}): PipelineError {
  if (err instanceof PipelineError) return err;
  const tree = errorTree(err);
  const names = kafkaErrorNames(err);
  const codes = tree.map((n) => n.code).filter((c): c is string => typeof c === 'string');
  const base = { cause: err, details: { op, ...(names.length ? { kafka: names } : {}), ...details } };
  const msg = (what: string): string => `kafka ${op}: ${what}: ${summary(tree)}`;
  const make = (code: ErrorCode, what: string, extra: { retryable?: boolean; details?: Record<string, unknown> } = {}) =>
    new PipelineError(code, msg(what), {
      ...base,
      ...(extra.retryable === undefined ? {} : { retryable: extra.retryable }),
      details: { ...base.details, ...extra.details },
    });

  if (tree.some((n) => isAbortError(n))) return make('ABORTED', 'aborted');
  // A client we closed ourselves: the operation was cut short on purpose.
  if (tree.some((n) => n.closed === true)) return make('ABORTED', 'client closed', { retryable: false });

  if (
    codes.includes('PLT_KFK_AUTHENTICATION') ||
    names.some((n) => AUTH_API_IDS.has(n)) ||
    tree.some((n) => typeof n.message === 'string' && /^SASL mechanism .* not supported/.test(n.message))
  ) {
    return make('AUTH', 'authentication or authorization failed');
  }
  if (codes.some((c) => TLS_CODE.test(c))) {
    return make('CONFIG', 'TLS handshake failed', { retryable: false });
  }
  if (codes.includes('PLT_KFK_UNSUPPORTED_COMPRESSION') || names.some((n) => CONFIG_API_IDS.has(n))) {
    return make('CONFIG', 'rejected by configuration', { retryable: false });
  }
  if (names.some((n) => INVALID_RECORD_API_IDS.has(n))) {
    return make('INVALID_INPUT', 'record refused by the broker');
  }
  if (names.some((n) => REBALANCE_API_IDS.has(n))) {
    return make('UNAVAILABLE', 'group rebalanced; uncommitted records will be redelivered', {
      retryable: false,
      details: { rebalance: true },
    });
  }
  if (
    names.some((n) => UNKNOWN_TOPIC_API_IDS.has(n)) ||
    tree.some((n) => typeof n.message === 'string' && /^Unknown topic /.test(n.message))
  ) {
    return make('NOT_FOUND', 'unknown topic or partition', { retryable: false });
  }
  if (tree.some((n) => n instanceof TimeoutError) || names.includes('REQUEST_TIMED_OUT')) {
    return make('TIMEOUT', 'timed out');
  }
  if (codes.some((c) => SOCKET_CODES.has(c)) || codes.includes('PLT_KFK_NETWORK')) {
    return make('NETWORK', 'broker unreachable');
  }
  if (tree.some((n) => n.canRetry === true && typeof n.apiId === 'string')) {
    return make('UNAVAILABLE', 'broker temporarily unavailable');
  }
  return make('INTERNAL', 'failed', { retryable: false });
}

/** A short, single-line account of the distinct leaf messages (the aggregate's own text says little). */
function summary(tree: Node[]): string {
  const hasChildren = (n: Node): boolean =>
    (Array.isArray(n.errors) && n.errors.length > 0) || (n.cause !== undefined && n.cause !== null);
  const leaves = tree.filter((n) => !hasChildren(n));
  const parts: string[] = [];
  for (const n of leaves.length > 0 ? leaves : tree.slice(0, 1)) {
    let text = typeof n.message === 'string' ? n.message : '';
    if (typeof n.apiId === 'string' && !text.includes(n.apiId)) text = `${n.apiId}: ${text}`;
    else if (typeof n.code === 'string' && !n.code.startsWith('PLT_KFK_') && !text.includes(n.code)) text = `${n.code}: ${text}`;
    if (text && !parts.includes(text)) parts.push(text);
    if (parts.length >= 3) break;
  }
  return parts.join('; ') || 'unknown error';
}
