import { createHash } from 'node:crypto';

/**
 * The bounded memory of recently seen keys (`process --dedupe-window <n>`, keyed by `login.uuid`) that
 * replaces the Spark job's ever-growing set of e-mails: at most `capacity` keys, least recently seen evicted
 * first, so memory is flat whatever the backlog.
 *
 * It is an optimisation, not the correctness mechanism: a user it forgets (evicted, or after a restart) is
 * written again at its deterministic timestamp, which overwrites the same point. Each key carries a value
 * (the process stage keeps there the durability of the first occurrence, so a skipped duplicate is settled
 * only once its original is written).
 *
 * Compact on purpose: a Map of 100,000 uuid strings with a value object each held about 17 MB of V8 heap
 * (measured, heap snapshot), a tenth of userpipe's memory budget. Here a key is its 128 bits (a canonical
 * UUID parsed exactly; any other string by its MD5), kept in typed arrays with an open-addressing index and an
 * intrusive LRU list: about 45 bytes per key, 4.5 MB for 100,000, outside the garbage collector's way.
 *
 * Pure data structure: no I/O, no clock.
 */
const NONE = -1;

export class DedupeWindow<V> {
  readonly capacity: number;
  #size = 0;
  /** Entry e's key is words 4e..4e+3. */
  readonly #keys: Uint32Array;
  readonly #values: (V | undefined)[];
  /** LRU list through the entries: head = least recently seen (evicted first), tail = most recent. */
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  #head = NONE;
  #tail = NONE;
  /** Open addressing, linear probing: slot -> entry + 1 (0 = empty). At most half full. */
  readonly #slots: Int32Array;
  readonly #mask: number;
  /** The key being looked up, parsed once. */
  readonly #k = new Uint32Array(4);

  /** `capacity` 0 turns the window off: nothing is remembered, nothing is a duplicate. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('dedupe window capacity must be an integer >= 0');
    if (capacity > 2 ** 26) throw new RangeError('dedupe window capacity must be at most 67,108,864');
    this.capacity = capacity;
    const n = Math.max(1, capacity);
    this.#keys = new Uint32Array(n * 4);
    this.#values = new Array<V | undefined>(n).fill(undefined);
    this.#prev = new Int32Array(n);
    this.#next = new Int32Array(n);
    let size = 2;
    while (size < n * 2) size *= 2;
    this.#slots = new Int32Array(size);
    this.#mask = size - 1;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * The value remembered for `key` when it was seen among the last `capacity` distinct keys (and marks it
   * as just seen); otherwise undefined, and `key` is remembered with `value` (evicting the least recently
   * seen key when full).
   */
  check(key: string, value: V): V | undefined {
    if (this.capacity === 0) return undefined;
    this.#parse(key);
    const found = this.#find();
    if (found >= 0) {
      const e = (this.#slots[found] as number) - 1;
      this.#unlink(e);
      this.#append(e);
      return this.#values[e];
    }
    let e: number;
    if (this.#size < this.capacity) e = this.#size++;
    else {
      e = this.#head;
      this.#unlink(e);
      this.#removeSlotOf(e);
    }
    const k = this.#k;
    this.#keys.set(k, e * 4);
    this.#values[e] = value;
    this.#append(e);
    // #find left #k unchanged; the first empty slot on the probe path (after the removal) takes the entry.
    let s = this.#home(e);
    while (this.#slots[s] !== 0) s = (s + 1) & this.#mask;
    this.#slots[s] = e + 1;
    return undefined;
  }

  /** Whether `key` is remembered (does not refresh it). */
  has(key: string): boolean {
    if (this.capacity === 0) return false;
    this.#parse(key);
    return this.#find() >= 0;
  }

  /** Replace the value of a remembered key (not refreshed); false when it is not remembered. */
  update(key: string, value: V): boolean {
    if (this.capacity === 0) return false;
    this.#parse(key);
    const found = this.#find();
    if (found < 0) return false;
    this.#values[(this.#slots[found] as number) - 1] = value;
    return true;
  }

  /** Key words of `key` into #k: a canonical UUID exactly, anything else by MD5. */
  #parse(key: string): void {
    const k = this.#k;
    if (key.length === 36 && parseUuid(key, k)) return;
    const d = createHash('md5').update(key).digest();
    k[0] = d.readUInt32LE(0);
    k[1] = d.readUInt32LE(4);
    k[2] = d.readUInt32LE(8);
    k[3] = d.readUInt32LE(12);
  }

  #hash(a: number, b: number, c: number, d: number): number {
    let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(c ^ (d >>> 7), 0xc2b2ae35) ^ d;
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    return h & this.#mask;
  }

  /** Home slot of entry e's key. */
  #home(e: number): number {
    const ks = this.#keys;
    const o = e * 4;
    return this.#hash(ks[o] as number, ks[o + 1] as number, ks[o + 2] as number, ks[o + 3] as number);
  }

  /** Slot holding #k, or -1. */
  #find(): number {
    const k = this.#k;
    const ks = this.#keys;
    const k0 = k[0] as number;
    const k1 = k[1] as number;
    const k2 = k[2] as number;
    const k3 = k[3] as number;
    let s = this.#hash(k0, k1, k2, k3);
    for (;;) {
      const v = this.#slots[s] as number;
      if (v === 0) return -1;
      const o = (v - 1) * 4;
      if (ks[o] === k0 && ks[o + 1] === k1 && ks[o + 2] === k2 && ks[o + 3] === k3) return s;
      s = (s + 1) & this.#mask;
    }
  }

  /** Remove entry e from the index, shifting later members of its probe run back (no tombstones). */
  #removeSlotOf(e: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let s = this.#home(e);
    while (slots[s] !== e + 1) s = (s + 1) & mask;
    let hole = s;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const v = slots[j] as number;
      if (v === 0) break;
      const home = this.#home(v - 1);
      // Move v into the hole unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        slots[hole] = v;
        hole = j;
      }
    }
    slots[hole] = 0;
    this.#values[e] = undefined;
  }

  #unlink(e: number): void {
    const p = this.#prev[e] as number;
    const n = this.#next[e] as number;
    if (p === NONE) this.#head = n;
    else this.#next[p] = n;
    if (n === NONE) this.#tail = p;
    else this.#prev[n] = p;
  }

  #append(e: number): void {
    this.#prev[e] = this.#tail;
    this.#next[e] = NONE;
    if (this.#tail === NONE) this.#head = e;
    else this.#next[this.#tail] = e;
    this.#tail = e;
  }
}

/** Hex digit value, or -1. */
function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** 8-4-4-4-12 hex digits into four words (case-insensitive); false when `s` is not one. */
function parseUuid(s: string, out: Uint32Array): boolean {
  let word = 0;
  let acc = 0;
  let digits = 0;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    const v = hex(c);
    if (v < 0) return false;
    acc = ((acc << 4) | v) >>> 0;
    if (++digits === 8) {
      out[word++] = acc;
      acc = 0;
      digits = 0;
    }
  }
  return true;
}
