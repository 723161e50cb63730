/**
 * How the real RandomUser service reads a query and what its error bodies look like: the part of the test server
 * that is about the API, not about faults or sockets.
 */
import { randomBytes } from 'node:crypto';
import { NATIONALITIES } from '../../src/transforms/randomuser-types.ts';
import type { Nationality } from '../../src/transforms/randomuser-types.ts';

const NAT_SET: ReadonlySet<string> = new Set(NATIONALITIES);

/** The real service's bodies, verbatim. */
export const OFFLINE_BODY = '{"error":"Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."}';
export const RATE_LIMIT_BODY =
  '{"error":"Whoa, ease up there cowboy. You\'ve requested 20013 users in the last minute. Help us keep this service free and spare some bandwidth for other users please :)"}';
export const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
export const MAINTENANCE_HTML = '<!DOCTYPE html><html><head><title>Random User Generator</title></head><body><h1>Down for maintenance</h1></body></html>\n';

/** The query as the real service interprets it. */
export interface ApiQuery {
  results: number;
  /** Undefined when absent or ignored because of an unknown code (then `natIgnored`). */
  nat: Nationality[] | undefined;
  natIgnored: boolean;
  seed: string;
  seedGiven: boolean;
  page: number;
  gender: 'male' | 'female' | undefined;
  inc: string[];
  exc: string[];
  noinfo: boolean;
}

export function parseApiQuery(params: URLSearchParams, randomSeed: () => string = defaultSeed): ApiQuery {
  const rawResults = Number(params.get('results') ?? '1');
  const results = Number.isInteger(rawResults) && rawResults >= 1 && rawResults <= 5000 ? rawResults : 1;
  let nat: Nationality[] | undefined;
  let natIgnored = false;
  const rawNat = params.get('nat');
  if (rawNat) {
    const codes = rawNat.split(',').map((c) => c.trim().toUpperCase()).filter((c) => c !== '');
    if (codes.every((c) => NAT_SET.has(c))) nat = codes as Nationality[];
    else natIgnored = true;
  }
  const rawPage = Number(params.get('page') ?? '1');
  const gender = params.get('gender');
  const seed = params.get('seed');
  return {
    results,
    nat,
    natIgnored,
    seed: seed || randomSeed(),
    seedGiven: Boolean(seed),
    page: Number.isInteger(rawPage) && rawPage >= 1 ? rawPage : 1,
    gender: gender === 'male' || gender === 'female' ? gender : undefined,
    inc: list(params.get('inc')),
    exc: list(params.get('exc')),
    noinfo: params.has('noinfo'),
  };
}

export function list(s: string | null): string[] {
  return s ? s.split(',').map((x) => x.trim()).filter((x) => x !== '') : [];
}

function defaultSeed(): string {
  return randomBytes(8).toString('hex');
}

