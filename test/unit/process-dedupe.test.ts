import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DedupeWindow } from '../../src/transforms/dedupe-window.ts';

test('dedupe window: a key seen among the last n is a duplicate and returns what the first occurrence stored', () => {
  const w = new DedupeWindow<number>(3);
  assert.equal(w.check('a', 1), undefined);
  assert.equal(w.check('b', 2), undefined);
  assert.equal(w.check('a', 3), 1, 'duplicate: the first value is kept');
  assert.equal(w.size, 2);
});

test('dedupe window: count-bounded, least recently seen evicted first', () => {
  const w = new DedupeWindow<number>(3);
  w.check('a', 1);
  w.check('b', 2);
  w.check('c', 3);
  w.check('a', 0); // refreshes a: b is now the oldest
  w.check('d', 4); // evicts b
  assert.equal(w.size, 3);
  assert.equal(w.has('b'), false);
  assert.equal(w.has('a'), true);
  assert.equal(w.check('b', 5), undefined, 'forgotten: not a duplicate any more (written again, same point)');
  assert.equal(w.has('c'), false, 'b came back and evicted c');
});

test('dedupe window: size never exceeds the capacity over a long stream', () => {
  const w = new DedupeWindow<true>(1000);
  let dups = 0;
  for (let i = 0; i < 100_000; i++) {
    if (w.check(`k${i % 1500}`, true) !== undefined) dups += 1;
    assert.ok(w.size <= 1000);
  }
  // keys cycle through 1,500 > 1,000: each is evicted before it comes back
  assert.equal(dups, 0);
  const small = new DedupeWindow<true>(1000);
  let smallDups = 0;
  for (let i = 0; i < 10_000; i++) if (small.check(`k${i % 500}`, true) !== undefined) smallDups += 1;
  assert.equal(smallDups, 10_000 - 500);
});

test('dedupe window: capacity 0 is off (remembers nothing)', () => {
  const w = new DedupeWindow<number>(0);
  assert.equal(w.check('a', 1), undefined);
  assert.equal(w.check('a', 1), undefined);
  assert.equal(w.size, 0);
  assert.throws(() => new DedupeWindow(-1), RangeError);
  assert.throws(() => new DedupeWindow(1.5), RangeError);
});
