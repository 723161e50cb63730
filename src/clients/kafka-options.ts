import { readFile } from 'node:fs/promises';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { BaseOptions } from '@platformatic/kafka';
import { ConfigError } from '../core/errors.ts';

/**
 * Connection settings shared by the producer, the consumer and the admin client, and their mapping onto
 * @platformatic/kafka's `BaseOptions`. Everything here is pure except `loadTls`, which reads the PEM files.
 *
 * Secrets: the SASL password is handed to the library as a function (a credential provider), so it never
 * sits in an options object that could be logged or inspected. Nothing in this module logs.
 */

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

export interface KafkaSaslOptions {
  mechanism: SaslMechanism;
  username: string;
  /** Read by the caller (CLI: env var or file). Never logged. */
  password: string;
}

export interface KafkaTlsOptions {
  /** PEM CA bundle file; absent = Node's default trust store. */
  caFile?: string;
  /** Client certificate and key (PEM files) for mutual TLS: both or neither. */
  certFile?: string;
  keyFile?: string;
  /** SNI / certificate host name override, when brokers are reached through an address not in the cert. */
  servername?: string;
}

export interface KafkaConnectionOptions {
  /** Bootstrap brokers, `host:port` (IPv6 as `[::1]:9092`). */
  brokers: string[];
  clientId: string;
  /** `true` = TLS with the default trust store; an object to add a CA / client certificate. */
  tls?: boolean | KafkaTlsOptions;
  sasl?: KafkaSaslOptions;
  /** TCP + TLS + SASL handshake bound per connection attempt. Default 10 s. */
  connectTimeoutMs?: number;
  /** Client-side bound on one request/response. Default 30 s (the consumer raises it above the rebalance timeout). */
  requestTimeoutMs?: number;
  /**
   * Retries the library does by itself inside one operation (metadata refresh after a leader move, a refused
   * connection...). Kept small on purpose: the real retry policy (backoff, logging, giving up) lives in the
   * caller's `retry()`. Default 2.
   */
  retries?: number;
  /** Pause between those library retries. Default 250 ms. */
  retryDelayMs?: number;
}

export const CONNECTION_DEFAULTS = {
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  retries: 2,
  retryDelayMs: 250,
} as const;

/** TLS material already read from disk, ready for `tls.connect`. */
export type LoadedTls = TlsConnectionOptions | undefined;

/**
 * Validate connection options; throws ConfigError (exit code 2 in the CLI) naming the bad field.
 * Does not touch the network or the disk.
 */
export function validateConnection(options: KafkaConnectionOptions): void {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new ConfigError('kafka: at least one broker is required', { field: 'brokers' });
  }
  for (const broker of options.brokers) parseBroker(broker);
  if (typeof options.clientId !== 'string' || !/^\S+$/.test(options.clientId)) {
    throw new ConfigError('kafka: clientId must be a non-empty string without spaces', { field: 'clientId' });
  }
  const sasl = options.sasl;
  if (sasl) {
    if (!SASL_MECHANISMS.includes(sasl.mechanism)) {
      throw new ConfigError(`kafka: unsupported SASL mechanism (use ${SASL_MECHANISMS.join(', ')})`, {
        field: 'sasl.mechanism',
        value: String(sasl.mechanism),
      });
    }
    if (!sasl.username) throw new ConfigError('kafka: SASL username is empty', { field: 'sasl.username' });
    if (!sasl.password) throw new ConfigError('kafka: SASL password is empty', { field: 'sasl.password' });
  }
  const tls = options.tls;
  if (tls && typeof tls === 'object' && Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
    throw new ConfigError('kafka: TLS client certificate and key go together', { field: 'tls.certFile/keyFile' });
  }
  positive(options.connectTimeoutMs, 'connectTimeoutMs');
  positive(options.requestTimeoutMs, 'requestTimeoutMs');
  nonNegativeInt(options.retries, 'retries');
  nonNegative(options.retryDelayMs, 'retryDelayMs');
}

/** `host:port` -> parts; ConfigError when malformed. */
export function parseBroker(broker: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(typeof broker === 'string' ? broker.trim() : '');
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw new ConfigError('kafka: broker must be host:port', { field: 'brokers', value: String(broker) });
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Read the PEM files named in the TLS options. ConfigError if one cannot be read. */
export async function loadTls(tls: KafkaConnectionOptions['tls']): Promise<LoadedTls> {
  if (!tls) return undefined;
  if (tls === true) return {};
  const out: TlsConnectionOptions = {};
  if (tls.caFile) out.ca = await readPem(tls.caFile, 'tls.caFile');
  if (tls.certFile) out.cert = await readPem(tls.certFile, 'tls.certFile');
  if (tls.keyFile) out.key = await readPem(tls.keyFile, 'tls.keyFile');
  if (tls.servername) out.servername = tls.servername;
  return out;
}

async function readPem(path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`kafka: cannot read ${field}`, { field, path, reason: (err as Error).message });
  }
}

/**
 * The library options every client shares. `tls` must come from `loadTls` (already read).
 * `strict: true` makes the library validate its own options too, so a mistake here fails at construction.
 */
export function toBaseOptions(options: KafkaConnectionOptions, tls: LoadedTls): BaseOptions {
  validateConnection(options);
  const base: BaseOptions = {
    clientId: options.clientId,
    bootstrapBrokers: options.brokers.map((b) => b.trim()),
    connectTimeout: options.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs,
    requestTimeout: options.requestTimeoutMs ?? CONNECTION_DEFAULTS.requestTimeoutMs,
    retries: options.retries ?? CONNECTION_DEFAULTS.retries,
    retryDelay: options.retryDelayMs ?? CONNECTION_DEFAULTS.retryDelayMs,
    // Never create topics as a side effect of a metadata request: a typo in --topic must fail loudly.
    autocreateTopics: false,
    strict: true,
  };
  if (tls) base.tls = tls;
  const sasl = options.sasl;
  if (sasl) {
    const password = sasl.password;
    base.sasl = { mechanism: sasl.mechanism, username: sasl.username, password: () => password };
  }
  return base;
}

/** Read TLS files, validate, map: the one call the clients make. */
export async function resolveBaseOptions(options: KafkaConnectionOptions): Promise<BaseOptions> {
  validateConnection(options);
  return toBaseOptions(options, await loadTls(options.tls));
}

// ---- producer settings --------------------------------------------------------------------------------

export type Acks = 'all' | 1 | 0;
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Kafka wire value of `acks`: all = -1 (every in-sync replica), 1 = leader only, 0 = no response at all. */
export function acksValue(acks: Acks): -1 | 0 | 1 {
  if (acks === 'all') return -1;
  if (acks === 1 || acks === 0) return acks;
  throw new ConfigError('kafka: acks must be all, 1 or 0', { field: 'acks', value: String(acks) });
}

/** Parse a CLI/config spelling of acks (`all`, `-1`, `1`, `0`). */
export function parseAcks(value: string | number): Acks {
  const v = String(value).trim().toLowerCase();
  if (v === 'all' || v === '-1') return 'all';
  if (v === '1') return 1;
  if (v === '0') return 0;
  throw new ConfigError('kafka: acks must be all, 1 or 0', { field: 'acks', value: String(value) });
}

export function parseCompression(value: string): Compression {
  const v = value.trim().toLowerCase() as Compression;
  if (!COMPRESSIONS.includes(v)) {
    throw new ConfigError(`kafka: compression must be one of ${COMPRESSIONS.join(', ')}`, {
      field: 'compression',
      value,
    });
  }
  return v;
}

/**
 * Idempotence needs acks=all (the library refuses anything else). Default: on exactly when acks=all.
 * Asking for it with acks 0/1 is a configuration error rather than a silent downgrade.
 */
export function resolveIdempotent(acks: Acks, idempotent: boolean | undefined): boolean {
  if (idempotent === undefined) return acks === 'all';
  if (idempotent && acks !== 'all') {
    throw new ConfigError('kafka: an idempotent producer needs acks=all', { field: 'idempotent', acks: String(acks) });
  }
  return idempotent;
}

/**
 * The library turns `retries <= 1` into "retry forever" for idempotent producers (Java's default). We want a
 * bounded send that surfaces a classified error, so an idempotent producer gets at least 2.
 */
export function producerRetries(retries: number | undefined, idempotent: boolean): number {
  const r = retries ?? CONNECTION_DEFAULTS.retries;
  return idempotent ? Math.max(2, r) : r;
}

// ---- consumer group timing ----------------------------------------------------------------------------

export interface GroupTiming {
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Bound on the onRevoked callback: must leave time to rejoin before the session expires. */
  revokeTimeoutMs: number;
}

export const GROUP_DEFAULTS: GroupTiming = {
  sessionTimeoutMs: 45_000,
  rebalanceTimeoutMs: 60_000,
  heartbeatIntervalMs: 3_000,
  revokeTimeoutMs: 30_000,
};

/**
 * Fill defaults and check the relations Kafka and the library enforce (heartbeat < session <= rebalance),
 * plus ours: while onRevoked runs, the library sends no heartbeat, so it must end well before the session
 * timeout or the broker evicts the member and its commits are refused.
 */
export function resolveGroupTiming(partial: Partial<GroupTiming>): GroupTiming {
  const t: GroupTiming = {
    sessionTimeoutMs: partial.sessionTimeoutMs ?? GROUP_DEFAULTS.sessionTimeoutMs,
    rebalanceTimeoutMs: partial.rebalanceTimeoutMs ?? Math.max(GROUP_DEFAULTS.rebalanceTimeoutMs, partial.sessionTimeoutMs ?? 0),
    heartbeatIntervalMs: partial.heartbeatIntervalMs ?? GROUP_DEFAULTS.heartbeatIntervalMs,
    revokeTimeoutMs: 0,
  };
  t.revokeTimeoutMs = partial.revokeTimeoutMs ?? Math.min(GROUP_DEFAULTS.revokeTimeoutMs, Math.floor(t.sessionTimeoutMs * 2 / 3));
  for (const [k, v] of Object.entries(t)) positive(v, k);
  if (t.heartbeatIntervalMs >= t.sessionTimeoutMs) {
    throw new ConfigError('kafka: heartbeat interval must be below the session timeout', { field: 'heartbeatIntervalMs' });
  }
  if (t.rebalanceTimeoutMs < t.sessionTimeoutMs) {
    throw new ConfigError('kafka: rebalance timeout must be >= session timeout', { field: 'rebalanceTimeoutMs' });
  }
  if (t.revokeTimeoutMs >= t.sessionTimeoutMs) {
    throw new ConfigError('kafka: revoke timeout must be below the session timeout', { field: 'revokeTimeoutMs' });
  }
  return t;
}

function positive(v: number | undefined, field: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
    throw new ConfigError(`kafka: ${field} must be a positive number`, { field, value: v });
  }
}

function nonNegative(v: number | undefined, field: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
    throw new ConfigError(`kafka: ${field} must be >= 0`, { field, value: v });
  }
}

function nonNegativeInt(v: number | undefined, field: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
    throw new ConfigError(`kafka: ${field} must be an integer >= 0`, { field, value: v });
  }
}
