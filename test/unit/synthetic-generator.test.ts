import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SYNTHETIC_NOW, USER_FIELDS, generateResponse, generateUser } from '../../src/sources/synthetic-generator.ts';
import { NATIONALITIES } from '../../src/transforms/randomuser-types.ts';
import type { RandomUser } from '../../src/transforms/randomuser-types.ts';
import { partitionUsers, validateResponse } from '../../src/transforms/user-schema.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const uuids = (users: RandomUser[]): string[] => users.map((u) => u.login?.uuid ?? '');

test('the same seed and page give the same response; another page or seed gives other users', () => {
  const a = generateResponse({ seed: 'det', page: 3, results: 200 });
  const b = generateResponse({ seed: 'det', page: 3, results: 200 });
  assert.deepEqual(a, b);
  const otherPage = generateResponse({ seed: 'det', page: 4, results: 200 });
  const otherSeed = generateResponse({ seed: 'det2', page: 3, results: 200 });
  const seen = new Set(uuids(a.results));
  assert.equal(uuids(otherPage.results).filter((u) => seen.has(u)).length, 0);
  assert.equal(uuids(otherSeed.results).filter((u) => seen.has(u)).length, 0);
  assert.deepEqual(a.info, { seed: 'det', results: 200, page: 3, version: '1.4' });
});

test('output is locked: a change here breaks resumed fetches and benchmarks that compare runs', () => {
  // If you changed the generator on purpose, update this digest and say so in the changelog.
  const text = JSON.stringify(generateResponse({ seed: 'golden', page: 1, results: 20 }));
  assert.equal(createHash('sha256').update(text).digest('hex').slice(0, 16), GOLDEN);
});
const GOLDEN = '6bf373cb0f265914';

test('more results extend the list with the same prefix; generateUser(i) equals results[i]', () => {
  const small = generateResponse({ seed: 'prefix', page: 1, results: 10 });
  const big = generateResponse({ seed: 'prefix', page: 1, results: 50 });
  assert.deepEqual(big.results.slice(0, 10), small.results);
  assert.deepEqual(generateUser({ seed: 'prefix', page: 1 }, 37), big.results[37]);
});

test('uuids are v4-formatted and unique across pages', () => {
  const all = new Set<string>();
  for (let page = 1; page <= 5; page++) {
    for (const id of uuids(generateResponse({ seed: 'uuid', page, results: 2000 }).results)) {
      assert.match(id, UUID_V4);
      all.add(id);
    }
  }
  assert.equal(all.size, 10_000);
});

test('all 21 nationalities, each with its country, and the service quirks', () => {
  for (const nat of NATIONALITIES) {
    const { results } = generateResponse({ seed: `q-${nat}`, page: 1, results: 200, nat: [nat] });
    for (const u of results) {
      assert.equal(u.nat, nat);
      const pc = u.location?.postcode;
      if (nat === 'CA') assert.match(String(pc), /^[A-Z]\d[A-Z] \d[A-Z]\d$/);
      else if (nat === 'GB') assert.match(String(pc), /^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/);
      else if (nat === 'NO') assert.match(String(pc), /^\d{4}$/);
      if (nat === 'CA' || nat === 'GB' || nat === 'NO') assert.equal(typeof pc, 'string', `${nat} postcode`);
      else assert.ok(Number.isInteger(pc), `${nat} postcode ${String(pc)}`);
      if (['IR', 'NZ', 'TR', 'UA'].includes(nat)) assert.deepEqual(u.id, { name: '', value: null });
      else assert.equal(typeof u.id?.value, 'string');
      assert.match(u.location?.coordinates?.latitude ?? '', /^-?\d{1,2}\.\d{4}$/);
      assert.match(u.location?.coordinates?.longitude ?? '', /^-?\d{1,3}\.\d{4}$/);
      assert.match(u.email ?? '', /^[a-z]+\.[a-z]+@example\.com$/);
    }
    assert.equal(new Set(results.map((u) => u.location?.country)).size, 1);
  }
  const fi = generateResponse({ seed: 'fi', page: 1, results: 5, nat: ['FI'] }).results;
  for (const u of fi) assert.match(u.id?.value ?? '', /^NaNNA\d{3}undefined$/);
  const dk = generateResponse({ seed: 'dk', page: 1, results: 5, nat: ['DK'] }).results;
  for (const u of dk) {
    const d = u.dob?.date ?? '';
    assert.equal(u.id?.value?.slice(0, 6), d.slice(8, 10) + d.slice(5, 7) + d.slice(2, 4));
  }
  const ch = generateResponse({ seed: 'ch', page: 1, results: 50, nat: ['CH'] }).results;
  assert.ok(ch.every((u) => ['Monsieur', 'Madame', 'Mademoiselle'].includes(u.name?.title ?? '')));
});

test('without a nat filter every nationality shows up; with one, only the listed ones', () => {
  const mixed = generateResponse({ seed: 'mix', page: 1, results: 2000 }).results;
  assert.equal(new Set(mixed.map((u) => u.nat)).size, 21);
  const two = generateResponse({ seed: 'mix', page: 1, results: 500, nat: ['US', 'FR'] }).results;
  assert.deepEqual([...new Set(two.map((u) => u.nat))].sort(), ['FR', 'US']);
  const women = generateResponse({ seed: 'mix', page: 1, results: 300, gender: 'female' }).results;
  assert.ok(women.every((u) => u.gender === 'female' && u.picture?.large?.includes('/women/')));
  assert.ok(mixed.some((u) => u.gender === 'male') && mixed.some((u) => u.gender === 'female'));
});

test('inc and exc drop keys without changing the other values', () => {
  const full = generateResponse({ seed: 'inc', page: 2, results: 30 }).results;
  const inc = generateResponse({ seed: 'inc', page: 2, results: 30, inc: ['name', 'email', 'nat', 'login', 'bogus'] }).results;
  const exc = generateResponse({ seed: 'inc', page: 2, results: 30, exc: ['login', 'picture'] }).results;
  for (let i = 0; i < 30; i++) {
    const f = full[i]!;
    assert.deepEqual(Object.keys(f), [...USER_FIELDS]);
    assert.deepEqual(inc[i], { name: f.name, email: f.email, login: f.login, nat: f.nat });
    const { login: _l, picture: _p, ...rest } = f;
    assert.deepEqual(exc[i], rest);
  }
  const both = generateResponse({ seed: 'inc', page: 2, results: 1, inc: ['name', 'nat'], exc: ['nat'] }).results[0];
  assert.deepEqual(Object.keys(both ?? {}), ['name']);
});

test('noinfo omits info; results must be a non-negative integer', () => {
  assert.equal('info' in generateResponse({ seed: 'n', page: 1, results: 2, noinfo: true }), false);
  assert.deepEqual(generateResponse({ seed: 'n', page: 1, results: 0 }).results, []);
  assert.throws(() => generateResponse({ seed: 'n', page: 1, results: -1 }), RangeError);
  assert.throws(() => generateResponse({ seed: 'n', page: 1, results: 1.5 }), RangeError);
});

test('hashes are the real digests of password+salt; ages follow dates and now', () => {
  const users = generateResponse({ seed: 'h', page: 1, results: 50 }).results;
  for (const u of users) {
    const l = u.login!;
    const s = `${l.password}${l.salt}`;
    assert.equal(l.md5, createHash('md5').update(s).digest('hex'));
    assert.equal(l.sha1, createHash('sha1').update(s).digest('hex'));
    assert.equal(l.sha256, createHash('sha256').update(s).digest('hex'));
    assert.match(l.salt ?? '', /^[A-Za-z0-9]{8}$/);
    for (const d of [u.dob!, u.registered!]) {
      const born = new Date(d.date!);
      const now = new Date(SYNTHETIC_NOW);
      let age = now.getUTCFullYear() - born.getUTCFullYear();
      const before = now.getUTCMonth() < born.getUTCMonth() || (now.getUTCMonth() === born.getUTCMonth() && now.getUTCDate() < born.getUTCDate());
      if (before) age--;
      assert.equal(d.age, age, d.date);
    }
  }
  const later = generateResponse({ seed: 'h', page: 1, results: 50, now: Date.UTC(2036, 0, 1) }).results;
  assert.deepEqual(later.map((u) => u.dob!.age! - 10), users.map((u) => u.dob!.age));
  assert.deepEqual(uuids(later), uuids(users));
});

test('generated responses pass the API 1.4 schema, for every filter', () => {
  const variants = [
    generateResponse({ seed: 'schema', page: 1, results: 5000 }),
    generateResponse({ seed: 'schema', page: 2, results: 100, noinfo: true }),
    generateResponse({ seed: 'schema', page: 3, results: 100, inc: ['login', 'location'] }),
    ...NATIONALITIES.map((nat) => generateResponse({ seed: 'schema', page: 1, results: 100, nat: [nat] })),
  ];
  for (const r of variants) {
    const v = validateResponse(JSON.parse(JSON.stringify(r)));
    assert.ok(v.ok);
    assert.deepEqual(partitionUsers(v.value.results).invalid, []);
  }
});

test('a user weighs about 1.1 KB of JSON, like the real service', () => {
  const { results } = generateResponse({ seed: 'size', page: 1, results: 2000 });
  const avg = results.reduce((n, u) => n + Buffer.byteLength(JSON.stringify(u)), 0) / results.length;
  assert.ok(avg > 950 && avg < 1250, `average ${avg} bytes`);
});

test('generation is fast enough for benchmarks', () => {
  generateResponse({ seed: 'warm', page: 1, results: 2000 });
  const n = 20_000;
  const t0 = performance.now();
  for (let p = 0; p < n / 1000; p++) generateResponse({ seed: 'speed', page: p, results: 1000 });
  const perSecond = n / ((performance.now() - t0) / 1000);
  // About 150k/s on one laptop core; the floor is low so a busy CI machine passes, high enough to catch a regression to O(n^2) or per-user setup.
  assert.ok(perSecond > 15_000, `${Math.round(perSecond)} users/s`);
});
