import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatDuration, parseDuration, parseSize } from '../../src/core/units.ts';

void test('parseDuration: valid inputs', () => {
  const cases: Array<[string | number, number]> = [
    ['500ms', 500],
    ['250', 250],
    ['1s', 1000],
    ['1.5s', 1500],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [' 30 s ', 30_000],
    ['1S', 1000],
    ['5MS', 5],
    ['0', 0],
    ['0.0004s', 0],
    [1500, 1500],
    [0, 0],
  ];
  for (const [input, expected] of cases) assert.equal(parseDuration(input), expected, JSON.stringify(input));
});

void test('parseDuration: invalid inputs -> undefined', () => {
  for (const input of ['', ' ', 'abc', '-1s', '-5', '1w', '1sec', 's', '1e3', '1 s s', '1,5s', '.5s', Number.NaN, -1, Infinity]) {
    assert.equal(parseDuration(input), undefined, JSON.stringify(input));
  }
});

void test('parseSize: valid inputs', () => {
  const cases: Array<[string | number, number]> = [
    ['64MiB', 64 * 1024 ** 2],
    ['128MB', 128_000_000],
    ['1k', 1024],
    ['1kb', 1000],
    ['1KiB', 1024],
    ['1K', 1024],
    ['1.5k', 1536],
    ['2g', 2 * 1024 ** 3],
    ['1GB', 1e9],
    ['1gib', 1024 ** 3],
    ['10', 10],
    ['10b', 10],
    [' 3 m ', 3 * 1024 ** 2],
    [1234.9, 1234],
    [0, 0],
  ];
  for (const [input, expected] of cases) assert.equal(parseSize(input), expected, JSON.stringify(input));
});

void test('parseSize: invalid inputs -> undefined', () => {
  for (const input of ['', 'MiB', '1t', '1TB', '-1', '-1k', '1 0', '1kk', '1e6', 'ten', Number.NaN, -1, Infinity]) {
    assert.equal(parseSize(input), undefined, JSON.stringify(input));
  }
});

void test('formatDuration: the largest whole unit', () => {
  const cases: Array<[number, string]> = [
    [0, '0ms'],
    [1, '1ms'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [30_000, '30s'],
    [60_000, '1m'],
    [90_000, '90s'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
    [86_400_000, '24h'],
  ];
  for (const [ms, expected] of cases) assert.equal(formatDuration(ms), expected, String(ms));
});

void test('formatDuration and parseDuration round-trip', () => {
  for (const ms of [0, 1, 999, 1000, 1001, 59_999, 60_000, 61_000, 3_599_000, 3_600_000, 7_260_000, 86_400_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
  }
});

void test('formatBytes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(64 * 1024 ** 2), '64.0 MiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
});
