/**
 * A RandomUser-compatible HTTP server for tests and manual runs, with switchable, deterministic faults.
 *
 * Serves GET `/api/1.4/` and `/api/` (with or without the trailing slash) with the real query parameters:
 * `results` (outside 1..5000, or not a number, becomes 1), `nat` (comma list, case-insensitive; one unknown code
 * makes the whole list ignored, like the real service), `seed` (absent: a random one), `page` (default 1), `gender`,
 * `inc`, `exc`, `noinfo`, `format` (JSON only). Bodies come from the synthetic generator, so a seed and page give
 * the same users every time (`login.uuid` included), or from a responder a test installs.
 *
 * Run by hand: `node test/support/randomuser-server.ts --port 0 --fault-ratio 0.33` prints the API URL on stdout.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { BAD_GATEWAY_HTML, MAINTENANCE_HTML, OFFLINE_BODY, RATE_LIMIT_BODY, list, parseApiQuery } from './randomuser-api.ts';
import type { ApiQuery } from './randomuser-api.ts';
import { FAULT_KINDS, FaultPicker } from './fault-plan.ts';
import type { FaultKind, FaultPlanInput, FaultStep } from './fault-plan.ts';

export { FAULT_KINDS, FaultPicker } from './fault-plan.ts';
export type { FaultKind, FaultPlan, FaultPlanInput, FaultStep } from './fault-plan.ts';
export { BAD_GATEWAY_HTML, MAINTENANCE_HTML, OFFLINE_BODY, RATE_LIMIT_BODY, parseApiQuery } from './randomuser-api.ts';
export type { ApiQuery } from './randomuser-api.ts';

/** Makes the body of a good answer; the default is the synthetic generator. */
export type Responder = (query: ApiQuery, requestNumber: number) => unknown;

export interface RequestLogEntry {
  /** 1-based API request number since start (or since resetStats). */
  n: number;
  step: FaultStep;
  path: string;
  query: string;
}

export interface ServerStats {
  /** API requests received (404s excluded). */
  requests: number;
  /** Good answers sent (a `slow` answer counts as the fault, not as good). */
  good: number;
  /** Users in good answers. */
  usersServed: number;
  faults: Record<FaultKind, number>;
  notFound: number;
}

export interface RandomUserServerOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  faults?: FaultPlanInput;
  /** How long a `slow` answer waits before its headers. Default 3000 ms. */
  slowMs?: number;
  /** `Retry-After` value of `429-retry-after`, seconds or an HTTP date. Default '1'. */
  retryAfter?: string;
  /** Delay before every answer, to simulate a remote service. Default 0. */
  latencyMs?: number;
  /** Clock for `dob.age`/`registered.age`; default the generator's fixed date (byte-identical answers). */
  now?: () => number;
  responder?: Responder;
  /** Called for every API request, after the step is chosen. */
  onRequest?: (entry: RequestLogEntry) => void;
  /** How many log entries to keep. Default 10,000. */
  logLimit?: number;
}

export interface RandomUserServer {
  /** The API URL, `http://127.0.0.1:<port>/api/1.4/`. */
  url: string;
  origin: string;
  port: number;
  /** Live counters. */
  readonly stats: ServerStats;
  /** The last `logLimit` API requests, oldest first. */
  readonly log: readonly RequestLogEntry[];
  /** Replaces the fault plan; its request count restarts at 1 (stats are kept). */
  setFaults(plan: FaultPlanInput): void;
  setResponder(responder: Responder | undefined): void;
  resetStats(): void;
  /** Stops listening, drops open connections and pending slow answers. */
  close(): Promise<void>;
}

const API_PATHS = new Set(['/api/1.4/', '/api/1.4', '/api/', '/api']);

export async function startRandomUserServer(opts: RandomUserServerOptions = {}): Promise<RandomUserServer> {
  const slowMs = opts.slowMs ?? 3000;
  const latencyMs = opts.latencyMs ?? 0;
  const retryAfter = opts.retryAfter ?? '1';
  const logLimit = opts.logLimit ?? 10_000;
  let picker = new FaultPicker(opts.faults);
  let planRequests = 0;
  let responder = opts.responder;
  let stats = emptyStats();
  const log: RequestLogEntry[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const defaultResponder: Responder = (q) =>
    generateResponse({
      seed: q.seed, page: q.page, results: q.results, nat: q.nat, gender: q.gender, inc: q.inc, exc: q.exc,
      noinfo: q.noinfo, now: opts.now?.(),
    });

  const later = (ms: number, fn: () => void): void => {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const sendGood = (res: ServerResponse, q: ApiQuery, n: number): void => {
    const body = (responder ?? defaultResponder)(q, n);
    const text = JSON.stringify(body);
    stats.good++;
    stats.usersServed += usersIn(body);
    send(res, 200, 'application/json; charset=utf-8', text);
  };

  const serveFault = (kind: FaultKind, req: IncomingMessage, res: ServerResponse, q: ApiQuery, n: number): void => {
    switch (kind) {
      case '500':
        return send(res, 500, 'application/json; charset=utf-8', OFFLINE_BODY);
      case '502':
        return send(res, 502, 'text/html', BAD_GATEWAY_HTML);
      case '429':
        return send(res, 429, 'application/json; charset=utf-8', RATE_LIMIT_BODY);
      case '429-retry-after':
        res.setHeader('Retry-After', retryAfter);
        return send(res, 429, 'application/json; charset=utf-8', RATE_LIMIT_BODY);
      case 'html-200':
        return send(res, 200, 'text/html; charset=utf-8', MAINTENANCE_HTML);
      case 'empty':
      case 'short': {
        const body = (responder ?? defaultResponder)(q, n) as { results?: unknown };
        if (Array.isArray(body.results)) {
          body.results = kind === 'empty' ? [] : body.results.slice(0, Math.floor(body.results.length / 2));
        }
        return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(body));
      }
      case 'truncated': {
        const text = JSON.stringify((responder ?? defaultResponder)(q, n));
        // No Content-Length: the HTTP message ends cleanly, only the JSON inside is cut.
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
        return;
      }
      case 'slow':
        return later(slowMs, () => {
          if (!res.destroyed && !req.socket.destroyed) send(res, 200, 'application/json; charset=utf-8', JSON.stringify((responder ?? defaultResponder)(q, n)));
        });
      case 'reset':
        req.socket.resetAndDestroy();
        return;
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!API_PATHS.has(url.pathname)) {
      stats.notFound++;
      return send(res, 404, 'text/plain', 'Not found\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'Method not allowed\n');
    stats.requests++;
    planRequests++;
    const n = stats.requests;
    const step = picker.next(planRequests);
    const entry: RequestLogEntry = { n, step, path: url.pathname, query: url.search };
    log.push(entry);
    if (log.length > logLimit) log.splice(0, log.length - logLimit);
    opts.onRequest?.(entry);
    const q = parseApiQuery(url.searchParams);
    if (step !== 'ok') stats.faults[step]++;
    later(latencyMs, () => {
      if (res.destroyed) return;
      if (step === 'ok') sendGood(res, q, n);
      else serveFault(step, req, res, q, n);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    url: `${origin}/api/1.4/`,
    origin,
    port: address.port,
    get stats() {
      return stats;
    },
    log,
    setFaults(plan) {
      picker = new FaultPicker(plan);
      planRequests = 0;
    },
    setResponder(r) {
      responder = r;
    },
    resetStats() {
      stats = emptyStats();
      log.length = 0;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function emptyStats(): ServerStats {
  return {
    requests: 0,
    good: 0,
    usersServed: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    notFound: 0,
  };
}

function usersIn(body: unknown): number {
  const results = (body as { results?: unknown } | null)?.results;
  return Array.isArray(results) ? results.length : 0;
}

const CLI_HELP = `Usage: node test/support/randomuser-server.ts [options]
A RandomUser API 1.4 compatible test server. Prints the API URL on stdout, one JSON line per request on stderr.
  --host <h>            listen address (default 127.0.0.1)
  --port <n>            port, 0 picks a free one (default 0)
  --fault-ratio <r>     fail each request with probability r, 0..1 (deterministic for --fault-seed)
  --fault-seed <s>      seed of the --fault-ratio draws (default "faults")
  --fail-every <n>      fail every n-th request
  --faults <list>       a fixed sequence of steps, e.g. 500,ok,reset,truncated (with --loop: repeated)
  --kinds <list>        fault kinds to rotate through (default all: ${FAULT_KINDS.join(',')})
  --slow-ms <ms>        delay of a "slow" answer (default 3000)
  --retry-after <v>     Retry-After of "429-retry-after" (default 1)
  --latency-ms <ms>     delay before every answer (default 0)
  --real-clock          compute ages against the clock, like the real service (default: a fixed date)
  --quiet               no per-request lines`;

async function cli(argv: string[]): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' }, port: { type: 'string' }, 'fault-ratio': { type: 'string' }, 'fault-seed': { type: 'string' },
      'fail-every': { type: 'string' }, faults: { type: 'string' }, loop: { type: 'boolean' }, kinds: { type: 'string' },
      'slow-ms': { type: 'string' }, 'retry-after': { type: 'string' }, 'latency-ms': { type: 'string' },
      'real-clock': { type: 'boolean' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${CLI_HELP}\n`);
    return;
  }
  const kinds = values.kinds ? (list(values.kinds) as FaultKind[]) : undefined;
  let faults: FaultPlanInput = { kind: 'none' };
  if (values.faults) faults = { kind: 'sequence', steps: list(values.faults) as FaultStep[], loop: values.loop ?? false };
  else if (values['fail-every']) faults = { kind: 'every', failEvery: Number(values['fail-every']), kinds };
  else if (values['fault-ratio']) faults = { kind: 'ratio', ratio: Number(values['fault-ratio']), kinds, seed: values['fault-seed'] };
  const server = await startRandomUserServer({
    host: values.host,
    port: values.port ? Number(values.port) : 0,
    faults,
    slowMs: values['slow-ms'] ? Number(values['slow-ms']) : undefined,
    retryAfter: values['retry-after'],
    latencyMs: values['latency-ms'] ? Number(values['latency-ms']) : undefined,
    now: values['real-clock'] ? Date.now : undefined,
    onRequest: values.quiet ? undefined : (e) => process.stderr.write(`${JSON.stringify({ msg: 'request', ...e })}\n`),
  });
  process.stdout.write(`${server.url}\n`);
  const stop = (): void => {
    process.stderr.write(`${JSON.stringify({ msg: 'stats', ...server.stats })}\n`);
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && (await import('node:path')).resolve(process.argv[1]) === import.meta.filename) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`randomuser-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
