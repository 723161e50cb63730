import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FieldValue,
  type Point,
  compareUtf8,
  escapeKey,
  escapeMeasurement,
  escapeStringField,
  normalizePoint,
  renderBatch,
  renderPoint,
  validateMeasurement,
} from '../../src/transforms/line-protocol.ts';
import { PipelineError } from '../../src/core/errors.ts';

// ---------------------------------------------------------------------------------------------------------
// Two small, independent line-protocol tokenizers, written from the two parsers InfluxDB servers use:
// - `parseSpec`: the grammar of influxdata/line-protocol (v2 decoder): `\` escapes only the characters its
//   section allows, any other backslash is literal and consumes nothing more; non-printable bytes are refused
//   outside string fields.
// - `parse18`: InfluxDB 1.8's models/points.go: a character is escaped when the byte BEFORE it is `\`
//   (scanning), and escapes are undone afterwards by plain replacement (tags: `\,` `\ ` `\=`; measurement and
//   field keys: also `\"`).
// A rendered line must mean the same to both.

interface Parsed {
  measurement: string;
  tags: [string, string][];
  fields: [string, FieldValue][];
  timestamp: string;
}

class ParseError extends Error {}

function isNonPrintable(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

function parseFieldValue(raw: string): FieldValue {
  if (/^-?\d+i$/.test(raw)) return { type: 'integer', value: BigInt(raw.slice(0, -1)) };
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return { type: 'boolean', value: true };
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return { type: 'boolean', value: false };
  if (/^-?(\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(raw)) return { type: 'float', value: Number(raw) };
  throw new ParseError(`bad field value ${JSON.stringify(raw)}`);
}

export function parseSpec(line: string): Parsed {
  let i = 0;
  const n = line.length;
  // Read an identifier until one of `stops`, undoing escapes of `escapable`.
  const ident = (stops: string, escapable: string, forbidden: string): string => {
    let out = '';
    while (i < n) {
      const c = line[i] as string;
      if (c === '\\' && i + 1 < n && escapable.includes(line[i + 1] as string)) {
        out += line[i + 1];
        i += 2;
        continue;
      }
      if (stops.includes(c)) break;
      if (forbidden.includes(c) || isNonPrintable(c)) throw new ParseError(`unexpected ${JSON.stringify(c)} at ${i}`);
      out += c;
      i++;
    }
    return out;
  };
  if (line[0] === '#') throw new ParseError('comment');
  const measurement = ident(', ', ', ', '');
  if (measurement === '') throw new ParseError('no measurement');
  const tags: [string, string][] = [];
  while (line[i] === ',') {
    i++;
    const key = ident('=', ',= ', ', ');
    if (line[i] !== '=' || key === '') throw new ParseError('bad tag key');
    i++;
    const value = ident(', ', ',= ', '=');
    if (value === '') throw new ParseError('empty tag value');
    tags.push([key, value]);
  }
  if (line[i] !== ' ') throw new ParseError(`expected space at ${i}`);
  i++;
  const fields: [string, FieldValue][] = [];
  for (;;) {
    const key = ident('=', ',= ', ', ');
    if (line[i] !== '=' || key === '') throw new ParseError('bad field key');
    i++;
    if (line[i] === '"') {
      i++;
      let s = '';
      for (;;) {
        if (i >= n) throw new ParseError('unterminated string');
        const c = line[i] as string;
        if (c === '"') break;
        if (c === '\\' && i + 1 < n) {
          const e = line[i + 1] as string;
          const table: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', t: '\t' };
          if (table[e] !== undefined) {
            s += table[e];
            i += 2;
            continue;
          }
        }
        s += c;
        i++;
      }
      i++;
      fields.push([key, { type: 'string', value: s }]);
    } else {
      const start = i;
      while (i < n && line[i] !== ',' && line[i] !== ' ') i++;
      fields.push([key, parseFieldValue(line.slice(start, i))]);
    }
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  if (line[i] !== ' ') throw new ParseError('expected timestamp');
  const timestamp = line.slice(i + 1);
  if (!/^-?\d+$/.test(timestamp)) throw new ParseError(`bad timestamp ${JSON.stringify(timestamp)}`);
  return { measurement, tags, fields, timestamp };
}

export function parse18(line: string): Parsed {
  const n = line.length;
  const unescapeAll = (s: string, codes: string): string => {
    let out = s;
    for (const c of codes) out = out.split('\\' + c).join(c);
    return out;
  };
  // scanMeasurement: a byte is escaped when the previous byte is a backslash.
  let i = 0;
  if (line[0] === ',' || line[0] === '#') throw new ParseError('missing measurement');
  let state: 'tags' | 'fields';
  for (;;) {
    i++;
    if (i >= n) throw new ParseError('missing fields');
    if (line[i - 1] === '\\') continue;
    if (line[i] === ',') {
      state = 'tags';
      break;
    }
    if (line[i] === ' ') {
      state = 'fields';
      break;
    }
  }
  const measurement = unescapeAll(line.slice(0, i), '," =');
  const tags: [string, string][] = [];
  i++;
  while (state === 'tags') {
    const kStart = i;
    if (i >= n || line[i] === ' ' || line[i] === ',' || line[i] === '=') throw new ParseError('missing tag key');
    for (;;) {
      i++;
      if (i >= n || ((line[i] === ' ' || line[i] === ',') && line[i - 1] !== '\\')) throw new ParseError('missing tag value');
      if (line[i] === '=' && line[i - 1] !== '\\') break;
    }
    const key = line.slice(kStart, i);
    i++;
    const vStart = i;
    if (i >= n || line[i] === ',' || line[i] === ' ') throw new ParseError('missing tag value');
    for (;;) {
      i++;
      if (i >= n) throw new ParseError('missing fields');
      if (line[i] === '=' && line[i - 1] !== '\\') throw new ParseError('invalid tag format');
      if (line[i] === ',' && line[i - 1] !== '\\') break;
      if (line[i] === ' ' && line[i - 1] !== '\\') {
        state = 'fields';
        break;
      }
    }
    tags.push([unescapeAll(key, ', ='), unescapeAll(line.slice(vStart, i), ', =')]);
    i++;
  }
  // scanFields: backslash skips the next byte everywhere; quotes toggle after an `=`.
  const fStart = i;
  let quoted = false;
  let equals = 0;
  let commas = 0;
  while (i < n) {
    const c = line[i];
    if (c === '\\' && i + 1 < n) {
      i += 2;
      continue;
    }
    if (c === '"' && equals > commas) quoted = !quoted;
    else if (c === '=' && !quoted) equals++;
    else if (c === ',' && !quoted) commas++;
    else if (c === ' ' && !quoted) break;
    i++;
  }
  if (quoted) throw new ParseError('unbalanced quotes');
  if (equals === 0 || commas !== equals - 1) throw new ParseError('invalid field format');
  const fieldText = line.slice(fStart, i);
  const timestamp = line.slice(i + 1);
  if (!/^-?\d+$/.test(timestamp)) throw new ParseError('bad timestamp');
  // walkFields: key = scanTo '=' (prev-byte rule); value = scanFieldValue (`\\` and `\"` skip 2 in strings).
  const fields: [string, FieldValue][] = [];
  let j = 0;
  while (j < fieldText.length) {
    const ks = j;
    while (j < fieldText.length && !(fieldText[j] === '=' && (j === 0 || fieldText[j - 1] !== '\\'))) j++;
    const key = unescapeAll(fieldText.slice(ks, j), '," =');
    j++;
    const vs = j;
    let q = false;
    while (j < fieldText.length) {
      if (fieldText[j] === '\\' && j + 1 < fieldText.length && (fieldText[j + 1] === '"' || fieldText[j + 1] === '\\')) {
        j += 2;
        continue;
      }
      if (fieldText[j] === '"') q = !q;
      else if (fieldText[j] === ',' && !q) break;
      j++;
    }
    const raw = fieldText.slice(vs, j);
    if (raw.startsWith('"')) {
      const inner = raw.slice(1, -1);
      let s = '';
      for (let k = 0; k < inner.length; k++) {
        if (inner[k] === '\\' && (inner[k + 1] === '\\' || inner[k + 1] === '"')) {
          s += inner[k + 1];
          k++;
        } else s += inner[k];
      }
      fields.push([key, { type: 'string', value: s }]);
    } else fields.push([key, parseFieldValue(raw)]);
    j++;
  }
  return { measurement, tags, fields, timestamp };
}

// ---------------------------------------------------------------------------------------------------------
// The documented treatment, written again here (independently of the module) as the expected result.

function expectIdentifier(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, ' ')
    // eslint-disable-next-line no-control-regex -- control characters are the point
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\\+(?=[ ,="]|$)/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function expectString(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function comparable(v: FieldValue): unknown {
  if (v.type === 'integer') return { type: 'integer', value: BigInt(v.value) };
  if (v.type === 'float') return { type: 'float', value: v.value === 0 ? 0 : v.value };
  return v;
}

function expected(p: Point): { measurement: string; tags: Record<string, string>; fields: Record<string, unknown>; timestamp: string } {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.tags)) {
    if (expectIdentifier(v) !== '') tags[expectIdentifier(k)] = expectIdentifier(v);
  }
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.fields)) {
    fields[expectIdentifier(k)] = comparable(v.type === 'string' ? { type: 'string', value: expectString(v.value) } : v);
  }
  return { measurement: expectIdentifier(p.measurement), tags, fields, timestamp: p.timestampNs.toString() };
}

function asComparable(parsed: Parsed): ReturnType<typeof expected> {
  return {
    measurement: parsed.measurement,
    tags: Object.fromEntries(parsed.tags),
    fields: Object.fromEntries(parsed.fields.map(([k, v]) => [k, comparable(v)])),
    timestamp: parsed.timestamp,
  };
}

// Seeded PRNG (mulberry32) so a failure is reproducible from the printed seed.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE = [',', '=', '"', '\\', '\\', ' ', '\n', '\r', '\r\n', '\t', '\u0000', '\u007f', '#', 'i', '0', '-', 'a', 'Z',
  'é', 'ß', '東', '😀', '👩‍👩‍👧', '\uD800', '\uDC00', '\uFFFF', '\u2028', "'", '/', '.'];

function hostile(r: () => number, maxLen = 12): string {
  const len = Math.floor(r() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < len; i++) s += HOSTILE[Math.floor(r() * HOSTILE.length)];
  // Often end with a backslash: the classic line breaker.
  if (r() < 0.2) s += '\\'.repeat(1 + Math.floor(r() * 3));
  return s;
}

function randomValue(r: () => number): FieldValue {
  const k = r();
  if (k < 0.5) return { type: 'string', value: hostile(r, 20) };
  if (k < 0.7) {
    const choices = [0, -0, 1.5, -2.2617, 85.4014, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, -Number.MIN_VALUE, r() * 1e6 - 5e5, 123];
    return { type: 'float', value: choices[Math.floor(r() * choices.length)] as number };
  }
  if (k < 0.85) {
    const ints = [0, -1, 42, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    return r() < 0.5
      ? { type: 'integer', value: ints[Math.floor(r() * ints.length)] as number }
      : { type: 'integer', value: r() < 0.5 ? 2n ** 63n - 1n : -(2n ** 63n) };
  }
  return { type: 'boolean', value: r() < 0.5 };
}

function randomPoint(r: () => number): Point {
  const tags: Record<string, string> = {};
  const nTags = Math.floor(r() * 5);
  for (let t = 0; t < nTags; t++) tags[`t${t}_${hostile(r, 4)}`] = hostile(r);
  const fields: Record<string, FieldValue> = {};
  const nFields = 1 + Math.floor(r() * 5);
  for (let f = 0; f < nFields; f++) fields[`f${f}_${hostile(r, 4)}`] = randomValue(r);
  return {
    measurement: 'm' + hostile(r, 6),
    tags,
    fields,
    timestampNs: BigInt(Math.floor(r() * 2e18)) - 10n ** 18n,
  };
}

describe('line protocol: escaping', () => {
  it('escapes the measurement (comma, space; not =)', () => {
    assert.equal(escapeMeasurement('my meas,ure=ment'), 'my\\ meas\\,ure=ment');
    assert.equal(escapeMeasurement('users'), 'users');
  });

  it('escapes tag keys, tag values and field keys (comma, =, space)', () => {
    assert.equal(escapeKey('New South Wales'), 'New\\ South\\ Wales');
    assert.equal(escapeKey('a,b=c'), 'a\\,b\\=c');
    assert.equal(escapeKey('plain'), 'plain');
  });

  it('drops a backslash run that would escape a separator, keeps other backslashes', () => {
    assert.equal(escapeKey('state\\'), 'state');
    assert.equal(escapeKey('state\\\\\\'), 'state');
    assert.equal(escapeKey('a\\,b'), 'a\\,b'); // the literal backslash is dropped; the comma is escaped
    assert.equal(escapeKey('a\\ b'), 'a\\ b');
    assert.equal(escapeKey('a\\"b'), 'a"b');
    assert.equal(escapeKey('a\\b'), 'a\\b');
    assert.equal(escapeKey('a\\\\b'), 'a\\\\b');
    assert.equal(escapeKey('\\'), '');
  });

  it('replaces line breaks and control characters in identifiers by a space', () => {
    assert.equal(escapeKey('a\r\nb'), 'a\\ b');
    assert.equal(escapeKey('a\nb\rc\td'), 'a\\ b\\ c\\ d');
  });

  it('escapes string field values: quote and backslash; line breaks become one space', () => {
    assert.equal(escapeStringField('say "hi" \\o/'), 'say \\"hi\\" \\\\o/');
    assert.equal(escapeStringField('trailing\\'), 'trailing\\\\');
    assert.equal(escapeStringField('two\r\nlines\nthree\rfour'), 'two lines three four');
    assert.equal(escapeStringField('tab\tkept'), 'tab\tkept');
    assert.equal(escapeStringField('O\'Brien, Zoë 😀'), "O'Brien, Zoë 😀");
  });
});

describe('line protocol: renderPoint', () => {
  const base: Point = {
    measurement: 'users',
    tags: { state: 'New South Wales', gender: 'female', nat: 'AU' },
    fields: {
      uuid: { type: 'string', value: 'f52745a3' },
      age: { type: 'integer', value: 50 },
      latitude: { type: 'float', value: -2.2617 },
      ok: { type: 'boolean', value: true },
    },
    timestampNs: 1_700_000_000_000_000_123n,
  };

  it('renders a point with sorted tags, typed fields and the ns timestamp', () => {
    assert.equal(
      renderPoint(base),
      'users,gender=female,nat=AU,state=New\\ South\\ Wales uuid="f52745a3",age=50i,latitude=-2.2617,ok=true 1700000000000000123',
    );
  });

  it('omits empty tag values (also when sanitizing empties them)', () => {
    const line = renderPoint({ ...base, tags: { a: '', b: '\\', c: 'x' } });
    assert.ok(line.startsWith('users,c=x '), line);
  });

  it('sorts tag keys in UTF-8 byte order', () => {
    assert.ok(compareUtf8('\uFF5E', '😀') < 0); // U+FF5E (EF BD 9E) < U+1F600 (F0 ...) in UTF-8
    assert.ok('\uFF5E' > '😀'); // ...although JS code-unit order says otherwise
    assert.ok(compareUtf8('B', 'a') < 0);
    assert.ok(compareUtf8('a', 'ab') < 0);
    const line = renderPoint({ ...base, tags: { '😀': '1', '\uFF5E': '2', B: '3', a: '4' } });
    assert.ok(line.startsWith('users,B=3,a=4,\uFF5E=2,😀=1 '), line);
  });

  it('renders floats so they parse back to the same double', () => {
    const r = rng(7);
    for (let i = 0; i < 10_000; i++) {
      const bits = new Float64Array(new Uint32Array([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]).buffer)[0] as number;
      if (!Number.isFinite(bits)) continue;
      const line = renderPoint({ measurement: 'm', tags: {}, fields: { v: { type: 'float', value: bits } }, timestampNs: 1n });
      const parsed = parseSpec(line).fields[0]?.[1];
      assert.equal(parsed?.type, 'float');
      assert.equal(parsed.value, bits === 0 ? 0 : bits, line);
    }
  });

  it('refuses what InfluxDB cannot store, with INVALID_INPUT', () => {
    const bad: Point[] = [
      { ...base, fields: { v: { type: 'float', value: NaN } } },
      { ...base, fields: { v: { type: 'float', value: Infinity } } },
      { ...base, fields: { v: { type: 'float', value: -Infinity } } },
      { ...base, fields: { v: { type: 'integer', value: 2 ** 53 } } },
      { ...base, fields: { v: { type: 'integer', value: 1.5 } } },
      { ...base, fields: { v: { type: 'integer', value: 2n ** 63n } } },
      { ...base, fields: {} },
      { ...base, fields: { '': { type: 'boolean', value: true } } },
      { ...base, fields: { 'a\\': { type: 'boolean', value: true }, a: { type: 'boolean', value: false } } },
      { ...base, tags: { '\\': 'x' } },
      { ...base, measurement: '' },
      { ...base, measurement: '#comment' },
      { ...base, timestampNs: 2n ** 63n },
    ];
    for (const p of bad) {
      assert.throws(
        () => renderPoint(p),
        (e: unknown) => e instanceof PipelineError && e.code === 'INVALID_INPUT' && !e.retryable,
        JSON.stringify(p, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      );
    }
  });

  it('renderBatch joins lines with \\n and no trailing newline', () => {
    const b = renderBatch([base, { ...base, timestampNs: 2n }]);
    assert.equal(b.split('\n').length, 2);
    assert.ok(!b.endsWith('\n'));
    assert.equal(renderBatch([]), '');
  });
});

describe('line protocol: property test over hostile strings', () => {
  it('one line per point, read back identically by both the spec tokenizer and the 1.8 tokenizer', () => {
    const seed = Number(process.env.LP_SEED ?? Date.now() % 1_000_000);
    const r = rng(seed);
    const N = 5000;
    const points: Point[] = [];
    for (let n = 0; n < N; n++) {
      const p = randomPoint(r);
      points.push(p);
      const line = renderPoint(p);
      const where = `seed=${seed} point#${n} line=${JSON.stringify(line)}`;
      // (a) exactly one line: no raw line break can reach the body.
      assert.ok(!line.includes('\n') && !line.includes('\r'), where);
      // What the server decodes: the UTF-8 bytes of the line.
      const wire = Buffer.from(line, 'utf8').toString('utf8');
      const want = expected(p);
      let spec: Parsed;
      let old: Parsed;
      try {
        spec = parseSpec(wire);
        old = parse18(wire);
      } catch (e) {
        assert.fail(`${where}: ${String(e)}`);
      }
      assert.deepEqual(asComparable(spec), want, where);
      assert.deepEqual(asComparable(old), want, where);
      // Tags in byte order, as InfluxDB recommends.
      for (let t = 1; t < spec.tags.length; t++) {
        const a = Buffer.from((spec.tags[t - 1] as [string, string])[0]);
        const b = Buffer.from((spec.tags[t] as [string, string])[0]);
        assert.ok(Buffer.compare(a, b) < 0, where);
      }
      // The module's own normalizePoint documents the same treatment.
      const norm = normalizePoint(p);
      assert.deepEqual(
        { measurement: norm.measurement, tags: norm.tags, fields: Object.fromEntries(Object.entries(norm.fields).map(([k, v]) => [k, comparable(v)])), timestamp: norm.timestampNs.toString() },
        want,
        where,
      );
    }
    // A whole batch splits into exactly N lines.
    assert.equal(renderBatch(points).split('\n').length, N);
  });

  it('the tokenizers themselves reject broken lines (so the property above can fail)', () => {
    const broken = [
      'm,t=a\\ f=1i 1', // tag value ending in a backslash swallowed the separator
      'm,t=a\\\\,u=b f=1i 1', // 1.8 and the spec disagree: must be refused by one of them
      'm f="unterminated 1',
      'm,t= f=1i 1',
      '#m f=1i 1',
    ];
    for (const line of broken) {
      let failures = 0;
      for (const parse of [parseSpec, parse18]) {
        try {
          const p = parse(line);
          // A tokenizer that accepts must at least not see the intended tag set.
          if (p.tags.length !== 1 || p.fields.length !== 1) failures++;
        } catch {
          failures++;
        }
      }
      assert.ok(failures > 0, line);
    }
  });
});

describe('line protocol: measurement validation', () => {
  it('accepts ordinary names and refuses names that cannot round-trip', () => {
    validateMeasurement('users');
    validateMeasurement('user logs,v2');
    for (const bad of ['', '#users', '_users', 'a\\b', 'a\nb']) assert.throws(() => validateMeasurement(bad), bad);
  });
});

describe('line protocol: speed (hot path of process)', () => {
  it('renders 100k typical user points well under a second', () => {
    const p: Point = {
      measurement: 'users',
      tags: { gender: 'female', nat: 'GB', country: 'United Kingdom', state: 'West Midlands' },
      fields: {
        uuid: { type: 'string', value: 'f52745a3-6234-4ee3-a508-b29aebf15226' },
        email: { type: 'string', value: 'vicki.gray@example.com' },
        username: { type: 'string', value: 'orangepeacock252' },
        title: { type: 'string', value: 'Miss' },
        first_name: { type: 'string', value: 'Vicki' },
        last_name: { type: 'string', value: 'Gray' },
        street: { type: 'string', value: '3105 Hamilton Ave' },
        city: { type: 'string', value: 'Oklahoma City' },
        postcode: { type: 'string', value: 'FX42 7YJ' },
        latitude: { type: 'float', value: 85.4014 },
        longitude: { type: 'float', value: 24.7322 },
        tz_offset: { type: 'string', value: '+5:30' },
        phone: { type: 'string', value: '(791) 411-4351' },
        cell: { type: 'string', value: '(863) 476-7864' },
        dob: { type: 'string', value: '1976-11-14T08:01:28.106Z' },
        age: { type: 'integer', value: 50 },
        registered: { type: 'string', value: '2015-12-30T16:50:24.644Z' },
        registered_age: { type: 'integer', value: 10 },
        picture: { type: 'string', value: 'https://randomuser.me/api/portraits/women/89.jpg' },
      },
      timestampNs: 1_700_000_000_000_000_000n,
    };
    const N = 100_000;
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) bytes += renderPoint({ ...p, timestampNs: p.timestampNs + BigInt(i) }).length;
    const ms = performance.now() - t0;
    console.log(`renderPoint: ${N} points in ${ms.toFixed(0)} ms (${Math.round(N / (ms / 1000))} points/s, ${bytes} chars)`);
    assert.ok(ms < 1000, `too slow: ${ms} ms`);
  });
});
