/**
 * RandomUser user -> InfluxDB point (pure). The schema is fixed so every field keeps ONE type whatever the
 * nationality or the `inc`/`exc` choice: InfluxDB rejects a write whose field type differs from the type
 * already stored for that measurement (per shard), so a type that varied by user would lose data.
 *
 * Tags (indexed; each distinct combination is one series, so only low-cardinality values, all bounded by the
 * API's 21 nationalities):
 * - `gender`: 2 values.
 * - `nat`: 21 values (the API's nationality codes).
 * - `country`: ~21 values, one per nationality.
 * - `state`: a few hundred values in total (each nationality draws from its own fixed list of regions).
 *   Series count stays around the number of distinct (gender, nat, state) triples: about 1-2 thousand.
 * Not tags: `title` (7+ values, but it nearly duplicates gender and would multiply series for no query
 * benefit), and anything unique per user (uuid, email, username, names, city, phone): those are fields.
 *
 * Fields: uuid, email, username, title, first_name, last_name, street, city, postcode, tz_offset, phone,
 * cell, dob, registered (strings); age, registered_age (integers); latitude, longitude (floats);
 * picture (string URL). `postcode` is ALWAYS a string: the API gives a number for most nationalities and a
 * string for CA, GB and NO ("Y3D 4T5", "FX42 7YJ", "0550" - a number would also lose the leading zero).
 * Left out on purpose: login.password/salt/md5/sha1/sha256 (credential material) and id.value (a national
 * id number, PII, null for several nationalities).
 *
 * Missing keys and empty strings only omit their tag/field. A value of the wrong JSON type is omitted too (never coerced to a
 * different field type), except numbers where a string field is expected, which become their decimal string.
 * A user without `login.uuid` cannot be identified and is refused with INVALID_INPUT (dead-lettered).
 */
import { PipelineError } from '../core/errors.ts';
import type { FieldValue, Point } from './line-protocol.ts';
import type { RandomUser } from './randomuser-types.ts';
import { type UserOrigin, userTimestampNs } from './user-message.ts';

export interface UserPointOptions {
  /** Measurement name, validated once at start (`validateMeasurement`). Default `users`. */
  measurement: string;
}

/** Tag keys, in the order of the doc above; exported for schema docs and tests. */
export const USER_TAG_KEYS = ['gender', 'nat', 'country', 'state'] as const;

/** Field keys and their one type. */
export const USER_FIELD_TYPES = {
  uuid: 'string',
  email: 'string',
  username: 'string',
  title: 'string',
  first_name: 'string',
  last_name: 'string',
  street: 'string',
  city: 'string',
  postcode: 'string',
  latitude: 'float',
  longitude: 'float',
  tz_offset: 'string',
  phone: 'string',
  cell: 'string',
  dob: 'string',
  age: 'integer',
  registered: 'string',
  registered_age: 'integer',
  picture: 'string',
} as const satisfies Record<string, FieldValue['type']>;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** A string, or a finite number as its decimal string; anything else is absent. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A safe integer, or a string holding only one; anything else is absent. */
function int(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A float from the API's decimal string ("-2.2617") or a number; absent unless finite. */
function float(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  // Number('') is 0 and Number('0x10') is 16: accept plain decimals only.
  if (!DECIMAL.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function setString(fields: Record<string, FieldValue>, key: string, v: unknown): void {
  const s = str(v);
  if (s !== undefined && s !== '') fields[key] = { type: 'string', value: s };
}

function setTag(tags: Record<string, string>, key: string, v: unknown): void {
  if (typeof v === 'string' && v !== '') tags[key] = v;
}

/**
 * Map one user to one point at its deterministic timestamp (`userTimestampNs(origin)`): the same user from
 * the same origin gives the identical point, so a redelivered write overwrites instead of duplicating.
 * Throws PipelineError INVALID_INPUT (not retryable) for a user without `login.uuid`.
 */
export function userToPoint(user: RandomUser, origin: UserOrigin, opts: UserPointOptions): Point {
  const u = obj(user);
  if (u === undefined) throw new PipelineError('INVALID_INPUT', 'user is not a JSON object');
  const login = obj(u.login);
  const uuid = login?.uuid;
  if (typeof uuid !== 'string' || uuid.trim() === '') {
    throw new PipelineError('INVALID_INPUT', 'user has no login.uuid', {
      details: { keys: Object.keys(u).slice(0, 20) },
    });
  }
  const name = obj(u.name);
  const location = obj(u.location);
  const street = obj(location?.street);
  const coordinates = obj(location?.coordinates);
  const timezone = obj(location?.timezone);
  const dob = obj(u.dob);
  const registered = obj(u.registered);
  const picture = obj(u.picture);

  const tags: Record<string, string> = {};
  setTag(tags, 'gender', u.gender);
  setTag(tags, 'nat', u.nat);
  setTag(tags, 'country', location?.country);
  setTag(tags, 'state', location?.state);

  const fields: Record<string, FieldValue> = {};
  fields.uuid = { type: 'string', value: uuid };
  setString(fields, 'email', u.email);
  setString(fields, 'username', login?.username);
  setString(fields, 'title', name?.title);
  setString(fields, 'first_name', name?.first);
  setString(fields, 'last_name', name?.last);
  const number = str(street?.number);
  const streetName = str(street?.name);
  setString(fields, 'street', [number, streetName].filter((s) => s !== undefined && s !== '').join(' '));
  setString(fields, 'city', location?.city);
  setString(fields, 'postcode', location?.postcode);
  const latitude = float(coordinates?.latitude);
  if (latitude !== undefined) fields.latitude = { type: 'float', value: latitude };
  const longitude = float(coordinates?.longitude);
  if (longitude !== undefined) fields.longitude = { type: 'float', value: longitude };
  setString(fields, 'tz_offset', timezone?.offset);
  setString(fields, 'phone', u.phone);
  setString(fields, 'cell', u.cell);
  setString(fields, 'dob', dob?.date);
  const age = int(dob?.age);
  if (age !== undefined) fields.age = { type: 'integer', value: age };
  setString(fields, 'registered', registered?.date);
  const registeredAge = int(registered?.age);
  if (registeredAge !== undefined) fields.registered_age = { type: 'integer', value: registeredAge };
  setString(fields, 'picture', picture?.large);

  return { measurement: opts.measurement, tags, fields, timestampNs: userTimestampNs(origin) };
}
