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

/** The obvious LRU (a Map in recency order): the reference the compact window must agree with. */
class ReferenceWindow<V> {
  private readonly m = new Map<string, V>();
  private readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  check(key: string, value: V): V | undefined {
    const seen = this.m.get(key);
    if (seen !== undefined) {
      this.m.delete(key);
      this.m.set(key, seen);
      return seen;
    }
    if (this.m.size >= this.capacity) this.m.delete(this.m.keys().next().value as string);
    this.m.set(key, value);
    return undefined;
  }
}

test('dedupe window: agrees with a plain Map LRU over 200,000 random checks (uuids and other keys, evictions)', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const uuid = (i: number): string => {
    const h = (i * 2654435761 >>> 0).toString(16).padStart(8, '0');
    return `${h}-${h.slice(0, 4)}-4${h.slice(1, 4)}-a${h.slice(5, 8)}-${h}${h.slice(0, 4)}`;
  };
  for (const capacity of [1, 7, 1000]) {
    const w = new DedupeWindow<number>(capacity);
    const ref = new ReferenceWindow<number>(capacity);
    for (let i = 0; i < 200_000 / 3; i++) {
      const r = rnd(capacity * 3);
      // Mostly canonical uuids (parsed exactly), some other strings (hashed).
      const key = r % 10 === 0 ? `not-a-uuid-${r}` : uuid(r);
      assert.equal(w.check(key, i), ref.check(key, i), `capacity ${capacity}, step ${i}, key ${key}`);
    }
    assert.equal(w.size, capacity);
  }
});

test('dedupe window: update replaces a remembered value; has does not refresh', () => {
  const w = new DedupeWindow<string>(2);
  const a = '123e4567-e89b-12d3-a456-426614174000';
  const b = '123e4567-e89b-12d3-a456-426614174001';
  w.check(a, 'pending');
  assert.equal(w.update(a, 'done'), true);
  assert.equal(w.update(b, 'x'), false);
  assert.equal(w.check(a, 'other'), 'done');
  assert.equal(w.check(a.toUpperCase(), 'other'), 'done', 'a uuid in capitals is the same uuid');
  w.check(b, 'b');
  assert.equal(w.has(a), true);
  w.check('c', 'c'); // a was seen before b: evicted (has() did not refresh it)
  assert.equal(w.has(a), false);
  assert.equal(w.has(b), true);
});
