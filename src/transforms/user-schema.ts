/**
 * The runtime check of RandomUser API 1.4 data (the static shapes are in `randomuser-types.ts`).
 *
 * Decisions:
 * - Every key of a user is optional (`inc`/`exc` drop any of them), but a key that is present has a strict type:
 *   downstream stages (Kafka keys from `login.uuid`, InfluxDB fields from ages and coordinates) rely on it.
 * - Unknown keys are allowed everywhere: the API may add fields, and refusing a whole user for an extra key would
 *   quarantine good data. We are strict about types, lenient about additions.
 * - The response check looks at the envelope only (`results` an array, `info` well formed); users are checked one
 *   by one so one bad user is quarantined while the others go on.
 * - Compiled once at module load with `allErrors: false`: the first error is enough for a quarantine reason, and
 *   stopping there keeps the hot path fast (about a microsecond per user).
 *
 * All functions here are pure and never throw on any input.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { NATIONALITIES } from './randomuser-types.ts';
import type { RandomUser, RandomUserResponse } from './randomuser-types.ts';

const str = { type: 'string' } as const;
/** Coordinates travel as numeric strings ("-2.2617"); a number or "abc" there is a shape change, not data. */
const numericString = { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' } as const;
const isoDate = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$' } as const;
const dateAndAge = {
  type: 'object',
  properties: { date: isoDate, age: { type: 'integer', minimum: 0 } },
} as const;

/** JSON Schema (draft-07, ajv's default) of one API 1.4 user. Exported for documentation and reuse. */
export const USER_SCHEMA = {
  $id: 'https://userpipe.dev/schemas/randomuser-1.4-user.json',
  type: 'object',
  properties: {
    gender: { enum: ['male', 'female'] },
    name: { type: 'object', properties: { title: str, first: str, last: str } },
    location: {
      type: 'object',
      properties: {
        street: { type: 'object', properties: { number: { type: 'integer' }, name: str } },
        city: str,
        state: str,
        country: str,
        postcode: { type: ['number', 'string'] },
        coordinates: { type: 'object', properties: { latitude: numericString, longitude: numericString } },
        timezone: { type: 'object', properties: { offset: { type: 'string', pattern: '^[+-]?[0-9]{1,2}:[0-9]{2}$' }, description: str } },
      },
    },
    email: str,
    login: {
      type: 'object',
      properties: {
        // Kafka message key downstream: it must look like a UUID, not merely be a string.
        uuid: { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' },
        username: str,
        password: str,
        salt: str,
        md5: { type: 'string', pattern: '^[0-9a-f]{32}$' },
        sha1: { type: 'string', pattern: '^[0-9a-f]{40}$' },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      },
    },
    dob: dateAndAge,
    registered: dateAndAge,
    phone: str,
    cell: str,
    id: { type: 'object', properties: { name: str, value: { type: ['string', 'null'] } } },
    picture: { type: 'object', properties: { large: str, medium: str, thumbnail: str } },
    nat: { enum: [...NATIONALITIES] },
  },
} as const;

/** JSON Schema of the response envelope; `results` items are checked by USER_SCHEMA one at a time. */
export const RESPONSE_SCHEMA = {
  $id: 'https://userpipe.dev/schemas/randomuser-1.4-response.json',
  type: 'object',
  required: ['results'],
  properties: {
    results: { type: 'array' },
    info: {
      type: 'object',
      properties: {
        seed: str,
        results: { type: 'integer', minimum: 0 },
        page: { type: 'integer', minimum: 0 },
        version: str,
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const checkUser = ajv.compile(USER_SCHEMA);
const checkEnvelope = ajv.compile(RESPONSE_SCHEMA);

export type ValidationResult = { ok: true } | { ok: false; reason: string };
export type ResponseValidation = { ok: true; value: RandomUserResponse } | { ok: false; reason: string };

/**
 * Whether `x` is a usable API response envelope: an object whose `results` is an array, with `info` optional.
 * Does not look inside the users (see `validateUser`). An error body (`{"error": "..."}`, what the service sends
 * when it is down or rate limiting) is reported with the service's own message.
 */
export function validateResponse(x: unknown): ResponseValidation {
  if (checkEnvelope(x)) return { ok: true, value: x as RandomUserResponse };
  const apiError = (x as { error?: unknown } | null)?.error;
  if (typeof apiError === 'string' && (x as { results?: unknown }).results === undefined) {
    return { ok: false, reason: `API error body: ${clip(apiError, 120)}` };
  }
  return { ok: false, reason: describe(checkEnvelope.errors, x) };
}

/** Whether one user matches API 1.4; the reason names the JSON path, e.g. `/location/postcode must be number or string (got object)`. */
export function validateUser(u: unknown): ValidationResult {
  if (checkUser(u)) return { ok: true };
  return { ok: false, reason: describe(checkUser.errors, u) };
}

export interface InvalidUser {
  /** 0-based position in the response's `results`. */
  index: number;
  user: unknown;
  reason: string;
}

/** Splits `results` into valid users (order kept) and invalid ones with their reason, for the quarantine file. */
export function partitionUsers(results: readonly unknown[]): { valid: RandomUser[]; invalid: InvalidUser[] } {
  const valid: RandomUser[] = [];
  const invalid: InvalidUser[] = [];
  for (let index = 0; index < results.length; index++) {
    const user = results[index];
    if (checkUser(user)) valid.push(user as RandomUser);
    else invalid.push({ index, user, reason: describe(checkUser.errors, user) });
  }
  return { valid, invalid };
}

export type CompletenessResult =
  | { ok: true }
  | { ok: false; reason: string; expected: number; received: number };

/**
 * Whether a 200 answer carries all the users it should. The service, when unwell, answers 200 with an empty
 * `results` or fewer users than `info.results`; the fetch source treats that as retryable (BAD_RESPONSE).
 * `expected` is `info.results` when present, else `requested` (with `noinfo`), else at least one user.
 * More users than expected is not an error.
 */
export function checkResponseCompleteness(resp: RandomUserResponse, requested?: number): CompletenessResult {
  const received = resp.results.length;
  const infoResults = resp.info?.results;
  const expected = Math.max(1, typeof infoResults === 'number' ? infoResults : (requested ?? 1));
  if (received === 0) return { ok: false, reason: `empty results (expected ${expected})`, expected, received };
  if (received < expected) {
    return { ok: false, reason: `short results: ${received} of ${expected}`, expected, received };
  }
  return { ok: true };
}

function describe(errors: ErrorObject[] | null | undefined, root: unknown): string {
  const e = errors?.[0];
  if (!e) return 'invalid';
  const path = e.instancePath === '' ? '/' : e.instancePath;
  const got = describeValue(valueAt(root, e.instancePath));
  switch (e.keyword) {
    case 'type': {
      const t = (e.params as { type: string | string[] }).type;
      const want = Array.isArray(t) ? t.join(' or ') : t.replaceAll(',', ' or ');
      return `${path} must be ${want} (got ${got})`;
    }
    case 'enum':
      return `${path} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')} (got ${got})`;
    case 'required':
      return `${path} must have property ${(e.params as { missingProperty: string }).missingProperty}`;
    case 'pattern':
      return `${path} has an unexpected format (got ${got})`;
    default:
      return `${path} ${e.message ?? 'is invalid'} (got ${got})`;
  }
}

/** Follows a JSON pointer; only used to quote the offending value in a reason. */
function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[raw.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'string') return JSON.stringify(clip(v, 40));
  return String(v);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}...`;
}
