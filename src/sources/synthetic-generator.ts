/**
 * Synthetic RandomUser API 1.4 responses: pure (no I/O, no clock, no Math.random), deterministic, fast.
 *
 * Determinism contract: user `i` of page `p` for seed `s` depends only on (s, p, i) and the options that shape
 * it (`nat`, `gender`, `now`). Its `login.uuid` depends on (s, p, i) alone, so asking for more results gives a
 * longer list with the same prefix, and `inc`/`exc` drop keys without changing the values of the others.
 *
 * The real service's quirks are reproduced: postcodes are strings for CA, GB and NO and numbers elsewhere;
 * `id` is `{ name: '', value: null }` for IR, NZ, TR and UA; FI's `id.value` is the service's broken
 * "NaNNA###undefined"; CA and UA phone numbers contain letters; coordinates are numeric strings; ages are
 * computed against `now` (the real service uses the request time).
 */
import { hash } from 'node:crypto';
import { NATIONALITIES } from '../transforms/randomuser-types.ts';
import type { Nationality, RandomUser, RandomUserResponse } from '../transforms/randomuser-types.ts';
import { ADJECTIVES, ANIMALS, NAT_TABLES, PASSWORDS, TIMEZONES } from './synthetic-data.ts';
import type { NatTable } from './synthetic-data.ts';
import { Sfc32, hash128 } from './synthetic-prng.ts';

/** The top-level user keys, in the order the API writes them; the vocabulary of `inc`/`exc`. */
export const USER_FIELDS = [
  'gender', 'name', 'location', 'email', 'login', 'dob', 'registered', 'phone', 'cell', 'id', 'picture', 'nat',
] as const;
export type UserField = (typeof USER_FIELDS)[number];

/** The default `now` for ages, so that output is reproducible byte for byte unless a caller passes the clock. */
export const SYNTHETIC_NOW = Date.UTC(2026, 0, 1);

export interface GenerateOptions {
  seed: string;
  /** Page number as the API uses it (1-based); any integer works. */
  page: number;
  /** Number of users, a non-negative integer (the API's 1..5000 rule is the caller's business). */
  results: number;
  /** Nationalities to draw from; absent or empty means all 21. */
  nat?: readonly Nationality[];
  gender?: 'male' | 'female';
  /** Keep only these top-level keys (unknown names ignored). */
  inc?: readonly string[];
  /** Drop these top-level keys. Applied after `inc`. */
  exc?: readonly string[];
  /** Omit `info`, like `?noinfo`. */
  noinfo?: boolean;
  /** Epoch milliseconds against which `dob.age` and `registered.age` are computed. Default SYNTHETIC_NOW. */
  now?: number;
}

interface NameEntry {
  display: string;
  /** Lower-case ASCII used in the e-mail address. */
  slug: string;
}

interface PreparedNat {
  code: Nationality;
  table: NatTable;
  male: NameEntry[];
  female: NameEntry[];
  last: NameEntry[];
  maleTitles: readonly string[];
  femaleTitles: readonly string[];
}

const SPECIAL_LETTERS: Record<string, string> = { ı: 'i', ø: 'o', æ: 'ae', đ: 'd', ß: 'ss', ł: 'l' };

function toEntry(raw: string): NameEntry {
  const bar = raw.indexOf('|');
  if (bar >= 0) return { display: raw.slice(0, bar), slug: raw.slice(bar + 1) };
  const slug = raw
    .toLowerCase()
    .replace(/[ıøæđßł]/g, (c) => SPECIAL_LETTERS[c] ?? '')
    .normalize('NFD')
    .replace(/[^a-z]/g, '');
  return { display: raw, slug };
}

const PREPARED: Readonly<Record<Nationality, PreparedNat>> = Object.fromEntries(
  NATIONALITIES.map((code) => {
    const table = NAT_TABLES[code];
    const prepared: PreparedNat = {
      code,
      table,
      male: table.male.map(toEntry),
      female: table.female.map(toEntry),
      last: table.last.map(toEntry),
      maleTitles: table.titles?.male ?? ['Mr'],
      femaleTitles: table.titles?.female ?? ['Miss', 'Ms', 'Mrs'],
    };
    return [code, prepared];
  }),
) as Record<Nationality, PreparedNat>;

const ALL_PREPARED: readonly PreparedNat[] = NATIONALITIES.map((c) => PREPARED[c]);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const SALT_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DOB_MIN = Date.UTC(1944, 0, 1);
const DOB_SPAN = Date.UTC(2002, 0, 1) - DOB_MIN;
const REG_MIN = Date.UTC(2002, 2, 1);
const REG_SPAN = Date.UTC(2022, 5, 1) - REG_MIN;
const PORTRAITS = 'https://randomuser.me/api/portraits/';

/** Everything that is the same for every user of one call, computed once. */
interface Context {
  key: [number, number, number, number];
  nats: readonly PreparedNat[];
  gender: 'male' | 'female' | undefined;
  keep: Record<UserField, boolean>;
  nowYear: number;
  /** month * 100 + day of `now`, to compare birthdays without Date objects per user. */
  nowMonthDay: number;
}

/** One API-1.4-shaped response. Throws RangeError when `results` is not a non-negative integer. */
export function generateResponse(opts: GenerateOptions): RandomUserResponse {
  if (!Number.isInteger(opts.results) || opts.results < 0) throw new RangeError(`results must be a non-negative integer, got ${opts.results}`);
  const ctx = makeContext(opts);
  const results: RandomUser[] = new Array<RandomUser>(opts.results);
  for (let i = 0; i < opts.results; i++) results[i] = makeUser(ctx, i);
  if (opts.noinfo) return { results };
  return { results, info: { seed: opts.seed, results: opts.results, page: opts.page, version: '1.4' } };
}

/** User `index` (0-based) of the page described by `opts`; identical to `generateResponse(opts).results[index]`. */
export function generateUser(opts: Omit<GenerateOptions, 'results' | 'noinfo'>, index: number): RandomUser {
  return makeUser(makeContext(opts), index);
}

function makeContext(opts: Omit<GenerateOptions, 'results' | 'noinfo'>): Context {
  const inc = opts.inc && opts.inc.length > 0 ? new Set(opts.inc) : undefined;
  const exc = new Set(opts.exc ?? []);
  const keep = {} as Record<UserField, boolean>;
  for (const f of USER_FIELDS) keep[f] = (inc === undefined || inc.has(f)) && !exc.has(f);
  const now = new Date(opts.now ?? SYNTHETIC_NOW);
  return {
    key: hash128(`${opts.seed}\u0000${opts.page}`),
    nats: opts.nat && opts.nat.length > 0 ? opts.nat.map((c) => PREPARED[c]) : ALL_PREPARED,
    gender: opts.gender,
    keep,
    nowYear: now.getUTCFullYear(),
    nowMonthDay: (now.getUTCMonth() + 1) * 100 + now.getUTCDate(),
  };
}

function makeUser(ctx: Context, index: number): RandomUser {
  const [k0, k1, k2, k3] = ctx.key;
  const rng = new Sfc32(k0 ^ index, (k1 + Math.imul(index, 0x9e3779b9)) | 0, k2, k3 ^ Math.imul(index, 0x85ebca6b));
  // Drawn first, so the uuid depends on (seed, page, index) only.
  const uuid = uuidV4(rng);
  const male = ctx.gender ? ctx.gender === 'male' : (rng.next() & 1) === 0;
  if (ctx.gender) rng.next(); // keep the number of draws independent of the gender filter
  const nat = rng.pick(ctx.nats);
  const t = nat.table;
  const first = rng.pick(male ? nat.male : nat.female);
  const last = rng.pick(nat.last);
  const title = rng.pick(male ? nat.maleTitles : nat.femaleTitles);
  const streetNumber = rng.range(1, 9999);
  const streetName = rng.pick(t.streets);
  const city = rng.pick(t.cities);
  const state = rng.pick(t.states);
  const postcode = makePostcode(t.postcode, rng);
  const latitude = (rng.float() * 180 - 90).toFixed(4);
  const longitude = (rng.float() * 360 - 180).toFixed(4);
  const tz = rng.pick(TIMEZONES);
  const username = `${rng.pick(ADJECTIVES)}${rng.pick(ANIMALS)}${rng.range(100, 999)}`;
  const password = rng.pick(PASSWORDS);
  let salt = '';
  for (let i = 0; i < 8; i++) salt += SALT_CHARS[rng.int(62)];
  const dobMs = DOB_MIN + rng.int(DOB_SPAN);
  const regMs = REG_MIN + rng.int(REG_SPAN);
  const dobDate = new Date(dobMs).toISOString();
  const regDate = new Date(regMs).toISOString();
  const phone = fill(t.phone, rng);
  const cell = fill(t.cell, rng);
  const idValue = makeId(t, dobDate, male, rng);
  const portrait = `${male ? 'men' : 'women'}/${rng.int(100)}.jpg`;

  const k = ctx.keep;
  const u: RandomUser = {};
  if (k.gender) u.gender = male ? 'male' : 'female';
  if (k.name) u.name = { title, first: first.display, last: last.display };
  if (k.location) {
    u.location = {
      street: { number: streetNumber, name: streetName },
      city,
      state,
      country: t.country,
      postcode,
      coordinates: { latitude, longitude },
      timezone: { offset: tz[0], description: tz[1] },
    };
  }
  if (k.email) u.email = `${first.slug}.${last.slug}@example.com`;
  if (k.login) {
    // Real digests of password+salt, as the service computes them; node:crypto's one-shot hash keeps it cheap.
    const salted = password + salt;
    u.login = {
      uuid, username, password, salt,
      md5: hash('md5', salted), sha1: hash('sha1', salted), sha256: hash('sha256', salted),
    };
  }
  if (k.dob) u.dob = { date: dobDate, age: ageAt(ctx, dobDate) };
  if (k.registered) u.registered = { date: regDate, age: ageAt(ctx, regDate) };
  if (k.phone) u.phone = phone;
  if (k.cell) u.cell = cell;
  if (k.id) u.id = { name: t.idName, value: idValue };
  if (k.picture) u.picture = { large: PORTRAITS + portrait, medium: `${PORTRAITS}med/${portrait}`, thumbnail: `${PORTRAITS}thumb/${portrait}` };
  if (k.nat) u.nat = nat.code;
  return u;
}

function uuidV4(rng: Sfc32): string {
  const a = rng.next();
  const b = rng.next();
  const c = rng.next();
  const d = rng.next();
  return (
    HEX[a >>> 24]! + HEX[(a >>> 16) & 255]! + HEX[(a >>> 8) & 255]! + HEX[a & 255]! + '-' +
    HEX[b >>> 24]! + HEX[(b >>> 16) & 255]! + '-' +
    HEX[0x40 | ((b >>> 8) & 0x0f)]! + HEX[b & 255]! + '-' +
    HEX[0x80 | ((c >>> 24) & 0x3f)]! + HEX[(c >>> 16) & 255]! + '-' +
    HEX[(c >>> 8) & 255]! + HEX[c & 255]! + HEX[d >>> 24]! + HEX[(d >>> 16) & 255]! + HEX[(d >>> 8) & 255]! + HEX[d & 255]!
  );
}

/** `#` becomes a digit, `A` an upper-case letter; everything else is copied. */
function fill(pattern: string, rng: Sfc32): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charCodeAt(i);
    if (ch === 35) out += String.fromCharCode(48 + rng.int(10));
    else if (ch === 65) out += LETTERS[rng.int(26)];
    else out += pattern[i];
  }
  return out;
}

function makePostcode(rule: NatTable['postcode'], rng: Sfc32): number | string {
  const first = rule[0];
  if (typeof first === 'number') return rng.range(first, rule[1] as number);
  return fill(rng.pick(rule as readonly string[]), rng);
}

function makeId(t: NatTable, dobIso: string, male: boolean, rng: Sfc32): string | null {
  const id = t.id;
  switch (id.kind) {
    case 'pattern':
      return fill(id.pattern, rng);
    case 'dob': // DDMMYY from "YYYY-MM-DD..."
      return dobIso.slice(8, 10) + dobIso.slice(5, 7) + dobIso.slice(2, 4) + id.sep + fill(id.suffix, rng);
    case 'insee':
      return `${male ? 1 : 2}${dobIso.slice(2, 4)}${dobIso.slice(5, 7)}${fill('########', rng)} ${fill('##', rng)}`;
    case 'broken-hetu':
      return `NaNNA${fill('###', rng)}undefined`;
    case 'null':
      return null;
  }
}

/** Whole years from an ISO date to `now`, reading the digits instead of building a Date per user. */
function ageAt(ctx: Context, iso: string): number {
  const year = Number(iso.slice(0, 4));
  const monthDay = Number(iso.slice(5, 7)) * 100 + Number(iso.slice(8, 10));
  return Math.max(0, ctx.nowYear - year - (ctx.nowMonthDay < monthDay ? 1 : 0));
}
