import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchStamper, MAX_SEQ, formatSpoolName, newWriterId, parseSpoolName, tempNameFor } from '../../src/sinks/spool-name.ts';

const T = Date.UTC(2026, 10, 30, 5, 1, 2, 123);
const nameOf = (s: { fetchedAtMs: number; seq: number }): string => formatSpoolName(s.fetchedAtMs, s.seq, 'w1');

test('formatSpoolName: UTC fetch time, millis, 2-digit seq, writer', () => {
  assert.equal(formatSpoolName(T, 7, 'k3f9qa'), 'response_20261130_050102_123_07_k3f9qa.json');
  assert.equal(formatSpoolName(T, 0), 'response_20261130_050102_123_00.json');
  assert.equal(formatSpoolName(Date.UTC(2026, 0, 1, 0, 0, 0, 5), 99, 'a'), 'response_20260101_000000_005_99_a.json');
});

test('formatSpoolName refuses what would not round-trip', () => {
  assert.throws(() => formatSpoolName(T, 100), RangeError);
  assert.throws(() => formatSpoolName(T, -1), RangeError);
  assert.throws(() => formatSpoolName(T, 1.5), RangeError);
  assert.throws(() => formatSpoolName(T, 0, 'UPPER'), RangeError);
  assert.throws(() => formatSpoolName(T, 0, 'has_underscore'), RangeError);
  assert.throws(() => formatSpoolName(Number.NaN, 0), RangeError);
});

test('parseSpoolName reads back fetch time, seq and writer', () => {
  for (const [ms, seq, writer] of [
    [T, 7, 'k3f9qa'],
    [T, 0, undefined],
    [Date.UTC(1999, 11, 31, 23, 59, 59, 999), 99, 'z'],
  ] as const) {
    const parsed = parseSpoolName(formatSpoolName(ms, seq, writer));
    assert.deepEqual(parsed, writer === undefined ? { fetchedAtMs: ms, seq } : { fetchedAtMs: ms, seq, writer });
  }
});

test("parseSpoolName accepts the seed script's legacy names (seq 0, whole second)", () => {
  assert.deepEqual(parseSpoolName('response_20261130_050102.json'), { fetchedAtMs: Date.UTC(2026, 10, 30, 5, 1, 2), seq: 0 });
});

test('parseSpoolName rejects temp files, processed files, foreign names and impossible dates', () => {
  const name = formatSpoolName(T, 3, 'abc');
  for (const bad of [
    tempNameFor(name),
    `${name}.COMPLETED`,
    'response_20261130_050102_123_07_abc.json.tmp',
    'users.json',
    'response_20261131_050102_123_00.json', // 31 November
    'response_20261130_250102_123_00.json',
    'response_20261130_050102_12_00.json',
    'response_20261130_050102_123_0.json',
    'response_20261130_050102_123_00_ABC.json',
  ]) {
    assert.equal(parseSpoolName(bad), undefined, bad);
  }
});

test('tempNameFor is hidden and in the same directory', () => {
  const t = tempNameFor('response_20261130_050102_123_00_abc.json');
  assert.ok(t.startsWith('.'));
  assert.ok(!t.includes('/'));
});

test('newWriterId: short lower-case alphanumerics, different per call', () => {
  const ids = new Set(Array.from({ length: 200 }, () => newWriterId()));
  for (const id of ids) assert.match(id, /^[a-z0-9]{6}$/);
  assert.ok(ids.size >= 199, 'random ids should practically never collide');
  formatSpoolName(T, 0, [...ids][0]); // accepted by the formatter
});

test('FetchStamper: hundreds of responses in one millisecond get unique, ordered names', () => {
  let now = T;
  const stamper = new FetchStamper(() => now);
  const names: string[] = [];
  // 250 stamps in the same millisecond, then the clock moves on by 1 ms.
  for (let i = 0; i < 250; i++) names.push(nameOf(stamper.next()));
  now += 1;
  names.push(nameOf(stamper.next()));
  assert.equal(new Set(names).size, names.length, 'names unique');
  assert.deepEqual([...names].sort(), names, 'sorting names gives the order they were made in');
  // Past seq 99 the stamper borrows the next millisecond instead of wrapping.
  assert.deepEqual(parseSpoolName(names[99] as string), { fetchedAtMs: T, seq: MAX_SEQ, writer: 'w1' });
  assert.deepEqual(parseSpoolName(names[100] as string), { fetchedAtMs: T + 1, seq: 0, writer: 'w1' });
});

test('FetchStamper: high rate over real time stays unique and sorted, and never leads the clock by much', () => {
  const stamper = new FetchStamper();
  const stamps = Array.from({ length: 20_000 }, () => stamper.next());
  const names = stamps.map((s) => formatSpoolName(s.fetchedAtMs, s.seq, 'abc'));
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual([...names].sort(), names);
  const last = stamps.at(-1) as { fetchedAtMs: number };
  assert.ok(last.fetchedAtMs - Date.now() < 250, `stamp ran ${last.fetchedAtMs - Date.now()} ms ahead of the clock`);
});

test('FetchStamper: a clock stepping backwards never makes a stamp go backwards', () => {
  const times = [T, T + 10, T + 5, T + 5, T + 11];
  let i = 0;
  const stamper = new FetchStamper(() => times[i++] as number);
  const stamps = times.map(() => stamper.next());
  assert.deepEqual(stamps, [
    { fetchedAtMs: T, seq: 0 },
    { fetchedAtMs: T + 10, seq: 0 },
    { fetchedAtMs: T + 10, seq: 1 },
    { fetchedAtMs: T + 10, seq: 2 },
    { fetchedAtMs: T + 11, seq: 0 },
  ]);
});

test('names of several writers sort by (time, seq) first, writer last', () => {
  const names = [
    formatSpoolName(T + 1, 0, 'aaaaaa'),
    formatSpoolName(T, 1, 'zzzzzz'),
    formatSpoolName(T, 0, 'mmmmmm'),
    formatSpoolName(T, 0, 'bbbbbb'),
  ].sort();
  assert.deepEqual(
    names.map((n) => parseSpoolName(n)),
    [
      { fetchedAtMs: T, seq: 0, writer: 'bbbbbb' },
      { fetchedAtMs: T, seq: 0, writer: 'mmmmmm' },
      { fetchedAtMs: T, seq: 1, writer: 'zzzzzz' },
      { fetchedAtMs: T + 1, seq: 0, writer: 'aaaaaa' },
    ],
  );
});
