import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  checkResponseCompleteness,
  partitionUsers,
  validateResponse,
  validateUser,
} from '../../src/transforms/user-schema.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import type { RandomUserResponse } from '../../src/transforms/randomuser-types.ts';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/randomuser/${name}`, import.meta.url), 'utf8'));
}

test('every user of the hand-written quirks fixture is valid, with its string postcodes, null ids and extra keys', () => {
  const r = validateResponse(fixture('quirks.json'));
  assert.ok(r.ok);
  assert.equal(r.value.results.length, 8);
  for (const [i, u] of r.value.results.entries()) assert.deepEqual(validateUser(u), { ok: true }, `user ${i}`);
  const postcodes = r.value.results.map((u) => u.location?.postcode);
  assert.deepEqual(postcodes.slice(1, 4), ['V2C 1K3', 'YO22 4JT', '0001']);
  assert.equal(r.value.results[4]?.id?.value, null);
});

test('invalid users are reported with the path and what is wrong, first error only', () => {
  const r = validateResponse(fixture('invalid-users.json'));
  assert.ok(r.ok);
  const { valid, invalid } = partitionUsers(r.value.results);
  assert.equal(valid.length, 2);
  assert.deepEqual(
    invalid.map(({ index, reason }) => [index, reason]),
    [
      [1, '/location/postcode must be number or string (got object)'],
      [2, '/id/value must be string or null (got 101223303)'],
      [3, '/nat must be one of AU, BR, CA, CH, DE, DK, ES, FI, FR, GB, IE, IN, IR, MX, NL, NO, NZ, RS, TR, UA, US (got "XX")'],
      [4, '/dob/age must be integer (got "37")'],
      [5, '/login/uuid has an unexpected format (got "not-a-uuid")'],
      [6, '/location/coordinates/latitude must be string (got 44.1234)'],
      [7, '/ must be object (got "just a string")'],
      [8, '/name must be object (got null)'],
    ],
  );
  // valid users keep their order
  assert.equal(valid[0]?.name?.first, 'Nadia');
  assert.equal(valid[1]?.name?.first, 'Rowena');
});

test('every user key is optional, but a present key has a strict type', () => {
  assert.deepEqual(validateUser({}), { ok: true });
  assert.deepEqual(validateUser({ name: { first: 'A' }, nat: 'US' }), { ok: true });
  assert.deepEqual(validateUser({ location: { postcode: 12345 } }), { ok: true });
  assert.deepEqual(validateUser({ location: { postcode: 'Y3D 4T5' } }), { ok: true });
  assert.deepEqual(validateUser({ id: { name: '', value: null } }), { ok: true });
  assert.deepEqual(validateUser({ somethingNew: [1, 2] }), { ok: true });
  const bad: [unknown, string][] = [
    [{ location: { postcode: null } }, '/location/postcode must be number or string (got null)'],
    [{ location: { postcode: [1] } }, '/location/postcode must be number or string (got array)'],
    [{ id: { value: 5 } }, '/id/value must be string or null (got 5)'],
    [{ nat: 'us' }, '/nat must be one of'],
    [{ dob: { age: 4.5 } }, '/dob/age must be integer (got 4.5)'],
    [{ registered: { age: -1 } }, '/registered/age must be >= 0 (got -1)'],
    [{ dob: { date: 'yesterday' } }, '/dob/date has an unexpected format'],
    [{ gender: 'other' }, '/gender must be one of male, female'],
    [{ location: { street: { number: '12' } } }, '/location/street/number must be integer'],
    [{ login: { md5: 'xyz' } }, '/login/md5 has an unexpected format'],
    [{ email: 42 }, '/email must be string (got 42)'],
    [null, '/ must be object (got null)'],
    [[], '/ must be object (got array)'],
  ];
  for (const [u, prefix] of bad) {
    const r = validateUser(u);
    assert.equal(r.ok, false, JSON.stringify(u));
    assert.ok(!r.ok && r.reason.startsWith(prefix), `${JSON.stringify(u)}: ${!r.ok ? r.reason : ''}`);
  }
});

test('validateResponse checks the envelope and names the service error body', () => {
  const cases: [unknown, string][] = [
    [{ results: {} }, '/results must be array (got object)'],
    [{ results: 'x' }, '/results must be array (got "x")'],
    [{ info: { results: 1 } }, '/ must have property results'],
    [null, '/ must be object (got null)'],
    [[], '/ must be object (got array)'],
    ['{"results":[]}', '/ must be object (got "{\\"results\\":[]}")'],
    [{ results: [], info: { results: '1' } }, '/info/results must be integer (got "1")'],
    [{ results: [], info: 'x' }, '/info must be object (got "x")'],
    [
      { error: 'Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you.' },
      'API error body: Uh oh, something has gone wrong.',
    ],
  ];
  for (const [x, prefix] of cases) {
    const r = validateResponse(x);
    assert.equal(r.ok, false, JSON.stringify(x));
    assert.ok(!r.ok && r.reason.startsWith(prefix), `${JSON.stringify(x)}: ${!r.ok ? r.reason : ''}`);
  }
  const ok = validateResponse({ results: [] });
  assert.ok(ok.ok, 'noinfo response without users is a valid envelope (completeness is a separate check)');
});

test('checkResponseCompleteness: empty or short results are incomplete, expected from info or the request', () => {
  const resp = (n: number, info?: number): RandomUserResponse => ({
    results: Array.from({ length: n }, () => ({})),
    ...(info === undefined ? {} : { info: { results: info, seed: 's', page: 1, version: '1.4' } }),
  });
  assert.deepEqual(checkResponseCompleteness(resp(0, 1)), { ok: false, reason: 'empty results (expected 1)', expected: 1, received: 0 });
  assert.deepEqual(checkResponseCompleteness(resp(3, 50)), { ok: false, reason: 'short results: 3 of 50', expected: 50, received: 3 });
  assert.deepEqual(checkResponseCompleteness(resp(50, 50)), { ok: true });
  assert.deepEqual(checkResponseCompleteness(resp(51, 50)), { ok: true });
  // noinfo: the requested count is the expectation
  assert.deepEqual(checkResponseCompleteness(resp(10), 20), { ok: false, reason: 'short results: 10 of 20', expected: 20, received: 10 });
  assert.deepEqual(checkResponseCompleteness(resp(20), 20), { ok: true });
  assert.equal(checkResponseCompleteness(resp(0)).ok, false);
  // info wins over the request: the service answers 1 user for out-of-range requests and says so
  assert.deepEqual(checkResponseCompleteness(resp(1, 1), 9000), { ok: true });
});

test('validating 1000 users takes milliseconds', () => {
  const { results } = generateResponse({ seed: 'schema-speed', page: 1, results: 1000 });
  partitionUsers(results); // warm up the compiled validator
  const runs = 50;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) assert.equal(partitionUsers(results).invalid.length, 0);
  const perThousand = (performance.now() - t0) / runs;
  // About 1 ms on a laptop core; 25 ms leaves room for a loaded CI machine while catching a pathological schema.
  assert.ok(perThousand < 25, `1000 users took ${perThousand.toFixed(2)} ms`);
});
