/**
 * The options of `userpipe fetch` (reused by run-all) and their translation into a checked FetchConfig.
 * Generic names carry a `fetch` prefix in their key (env `USERPIPE_FETCH_INTERVAL`) and a `--fetch-...` flag in
 * run-all, so they cannot collide with another stage's option of the same flag.
 */
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { NATIONALITIES, type Nationality } from '../transforms/randomuser-types.ts';
import { USER_FIELDS } from '../sources/synthetic-generator.ts';
import { DEFAULT_API_URL } from '../sources/randomuser.ts';
import type { FetchConfig } from '../sources/fetch-stage.ts';
import type { OptionSpec, OptionValues } from './option-spec.ts';
import { DATA_DIR_OPTION, PROGRESS_OPTIONS, SPOOL_DIR_OPTION, resolveSpoolDir } from './shared-options.ts';

const SOURCE = 'Source:';
const PACE = 'Pace:';
const FAULTS = 'Retries and timeouts:';
const FILES = 'Files:';

export const FETCH_OPTIONS: OptionSpec[] = [
  {
    key: 'fetchSource',
    flag: '--source <source>',
    runAllFlag: '--fetch-source <source>',
    description: 'where responses come from: the RandomUser API, or generated locally (deterministic for a --seed, any rate)',
    type: 'enum',
    choices: ['randomuser', 'synthetic'],
    default: 'randomuser',
    group: SOURCE,
  },
  {
    key: 'apiUrl',
    flag: '--api-url <url>',
    description: 'RandomUser API URL; the version is pinned so the schema is stable',
    type: 'string',
    default: DEFAULT_API_URL,
    group: SOURCE,
  },
  { key: 'results', flag: '--results <n>', description: 'users per request, 1..5000', type: 'integer', default: 1, min: 1, max: 5000, group: SOURCE },
  {
    key: 'nat',
    flag: '--nat <codes>',
    description: `nationalities, comma-separated, any case (${NATIONALITIES.join(' ')}); an unknown code is an error, since the API would silently ignore the whole list`,
    type: 'list',
    default: ['us'],
    group: SOURCE,
  },
  { key: 'gender', flag: '--gender <gender>', description: 'only users of this gender', defaultLabel: 'both', type: 'enum', choices: ['male', 'female'], group: SOURCE },
  {
    key: 'inc',
    flag: '--inc <fields>',
    description: `only these user fields, comma-separated (${USER_FIELDS.join(' ')})`,
    defaultLabel: 'all',
    type: 'list',
    itemChoices: USER_FIELDS,
    group: SOURCE,
  },
  { key: 'exc', flag: '--exc <fields>', description: 'leave these user fields out, comma-separated', defaultLabel: 'none', type: 'list', itemChoices: USER_FIELDS, group: SOURCE },
  {
    key: 'seed',
    flag: '--seed <seed>',
    description: 'fetch the pages of this seed in order, resumably: the page cursor is saved in <data-dir>/state and advances only once a page is durably written, so a restart continues at the next unwritten page',
    defaultLabel: 'none: random users',
    type: 'string',
    group: SOURCE,
  },
  {
    key: 'page',
    flag: '--page <n>',
    description: 'first page of a --seed run when it has no cursor yet (an existing cursor wins)',
    type: 'integer',
    default: 1,
    min: 1,
    group: SOURCE,
  },
  {
    key: 'lastPage',
    flag: '--last-page <n>',
    description: 'with --seed: stop once this page is written; a restart after a crash fetches only the pages still missing',
    defaultLabel: 'no limit',
    type: 'integer',
    min: 1,
    group: SOURCE,
  },
  {
    key: 'fetchInterval',
    flag: '--interval <duration>',
    runAllFlag: '--fetch-interval <duration>',
    description: 'time between request starts; 0 = as fast as responses are written',
    type: 'duration',
    default: 1000,
    group: PACE,
  },
  {
    key: 'fetchCount',
    flag: '--count <n>',
    runAllFlag: '--fetch-count <n>',
    description: 'stop after this many responses (failed requests do not count)',
    defaultLabel: 'no limit',
    type: 'integer',
    min: 1,
    group: PACE,
  },
  { key: 'maxUsers', flag: '--max-users <n>', description: 'stop after this many users; the last request asks only for what remains', defaultLabel: 'no limit', type: 'integer', min: 1, group: PACE },
  {
    key: 'fetchOnce',
    flag: '--once',
    runAllFlag: '--fetch-once',
    description: 'one request (with its retries), then exit 0, or 1 if it failed: for cron',
    type: 'boolean',
    default: false,
    group: PACE,
  },
  {
    key: 'rateLimit',
    flag: '--rate-limit <users>',
    description: 'client-side limit of users requested per --rate-window, kept under the service\'s own (20,000 per 5 minutes per IP, then 429s); applies to the randomuser source whatever --api-url, 0 = off',
    type: 'integer',
    default: 20_000,
    min: 0,
    group: PACE,
  },
  { key: 'rateWindow', flag: '--rate-window <duration>', description: 'window of --rate-limit', type: 'duration', default: 300_000, min: 1, group: PACE },
  {
    key: 'fetchMaxAttempts',
    flag: '--max-attempts <n>',
    runAllFlag: '--fetch-max-attempts <n>',
    description: 'attempts per request (network errors, timeouts, 429, 5xx, HTML or truncated bodies, short results are retried); then the request counts as failed and polling goes on',
    type: 'integer',
    default: 5,
    min: 1,
    max: 100,
    group: FAULTS,
  },
  {
    key: 'fetchRetryMaxTime',
    flag: '--retry-max-time <duration>',
    runAllFlag: '--fetch-retry-max-time <duration>',
    description: 'give a request up once its retries have taken this long',
    type: 'duration',
    default: 120_000,
    group: FAULTS,
  },
  {
    key: 'fetchRetryDelay',
    flag: '--retry-delay <duration>',
    runAllFlag: '--fetch-retry-delay <duration>',
    description: 'first backoff ceiling; doubles per attempt, full jitter',
    type: 'duration',
    default: 1000,
    group: FAULTS,
  },
  {
    key: 'fetchRetryMaxDelay',
    flag: '--retry-max-delay <duration>',
    runAllFlag: '--fetch-retry-max-delay <duration>',
    description: 'largest backoff, and cap on a server\'s Retry-After',
    type: 'duration',
    default: 60_000,
    group: FAULTS,
  },
  {
    key: 'fetchMaxFailures',
    flag: '--max-failures <n>',
    runAllFlag: '--fetch-max-failures <n>',
    description: 'exit 1 after this many failed requests in a row; 0 = keep polling',
    type: 'integer',
    default: 0,
    min: 0,
    group: FAULTS,
  },
  {
    key: 'fetchConnectTimeout',
    flag: '--connect-timeout <duration>',
    runAllFlag: '--fetch-connect-timeout <duration>',
    description: 'DNS lookup, TCP connect and TLS handshake, each',
    type: 'duration',
    default: 10_000,
    min: 1,
    group: FAULTS,
  },
  {
    key: 'fetchResponseTimeout',
    flag: '--response-timeout <duration>',
    runAllFlag: '--fetch-response-timeout <duration>',
    description: 'from the request sent to the response headers',
    type: 'duration',
    default: 30_000,
    min: 1,
    group: FAULTS,
  },
  {
    key: 'fetchReadTimeout',
    flag: '--read-timeout <duration>',
    runAllFlag: '--fetch-read-timeout <duration>',
    description: 'from the response headers to the end of the body',
    type: 'duration',
    default: 30_000,
    min: 1,
    group: FAULTS,
  },
  DATA_DIR_OPTION,
  SPOOL_DIR_OPTION,
  {
    key: 'quarantineDir',
    flag: '--quarantine-dir <dir>',
    description: 'where invalid records go, one NDJSON line each with the reason (fetch-YYYYmmdd.ndjson)',
    type: 'string',
    defaultLabel: '<data-dir>/quarantine',
    group: FILES,
  },
  {
    key: 'fetchStdout',
    flag: '--stdout',
    runAllFlag: '--fetch-stdout',
    description: 'write NDJSON to stdout (one response per line) instead of spool files',
    type: 'boolean',
    default: false,
    group: FILES,
  },
  ...PROGRESS_OPTIONS,
];

const NAT_SET: ReadonlySet<string> = new Set(NATIONALITIES);

/** Check resolved option values beyond their types, and build the FetchConfig. Throws ConfigError (exit 2). */
export function parseFetchConfig(values: OptionValues): FetchConfig {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof values[k] === 'number' ? (values[k] as number) : undefined);
  const list = (k: string): string[] => (Array.isArray(values[k]) ? (values[k] as string[]) : []);

  const nat: Nationality[] = [];
  for (const code of list('nat')) {
    const up = code.toUpperCase();
    if (!NAT_SET.has(up)) {
      throw new ConfigError(`invalid --nat: unknown nationality "${code}" (known: ${NATIONALITIES.join(', ')})`, { key: 'nat' });
    }
    if (!nat.includes(up as Nationality)) nat.push(up as Nationality);
  }

  const apiUrl = str('apiUrl') ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ConfigError(`invalid --api-url: not a URL: ${JSON.stringify(apiUrl)}`, { key: 'apiUrl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`invalid --api-url: must be http or https, got ${url.protocol}`, { key: 'apiUrl' });
  }

  const results = num('results') ?? 1;
  const rateLimit = num('rateLimit') ?? 20_000;
  const source = str('fetchSource') === 'synthetic' ? 'synthetic' : 'randomuser';
  if (source === 'randomuser' && rateLimit > 0 && results > rateLimit) {
    throw new ConfigError(`invalid --results: ${results} users per request can never fit under --rate-limit ${rateLimit}`, { key: 'results' });
  }
  const seed = str('seed');
  if (seed === '') throw new ConfigError('invalid --seed: must not be empty', { key: 'seed' });
  if (values.lastPage !== undefined && seed === undefined) throw new ConfigError('--last-page needs --seed (pages exist only in a seeded run)', { key: 'lastPage' });

  const dataDir = str('dataDir') ?? './userpipe-data';
  const gender = str('gender');
  return {
    source,
    apiUrl,
    query: {
      results,
      nat,
      ...(gender === 'male' || gender === 'female' ? { gender } : {}),
      inc: list('inc'),
      exc: list('exc'),
    },
    ...(seed === undefined ? {} : { seed }),
    page: num('page') ?? 1,
    ...(num('lastPage') === undefined ? {} : { lastPage: num('lastPage') }),
    intervalMs: num('fetchInterval') ?? 1000,
    ...(num('fetchCount') === undefined ? {} : { count: num('fetchCount') }),
    ...(num('maxUsers') === undefined ? {} : { maxUsers: num('maxUsers') }),
    once: values.fetchOnce === true,
    maxFailures: num('fetchMaxFailures') ?? 0,
    rateLimit: { users: rateLimit, windowMs: num('rateWindow') ?? 300_000 },
    retry: {
      maxAttempts: num('fetchMaxAttempts') ?? 5,
      maxElapsedMs: num('fetchRetryMaxTime') ?? 120_000,
      baseDelayMs: num('fetchRetryDelay') ?? 1000,
      maxDelayMs: num('fetchRetryMaxDelay') ?? 60_000,
    },
    timeouts: {
      connectMs: num('fetchConnectTimeout') ?? 10_000,
      responseMs: num('fetchResponseTimeout') ?? 30_000,
      readMs: num('fetchReadTimeout') ?? 30_000,
    },
    dataDir,
    spoolDir: resolveSpoolDir(values),
    quarantineDir: str('quarantineDir') ?? join(dataDir, 'quarantine'),
    stdout: values.fetchStdout === true,
  };
}
