/**
 * Against the REAL InfluxDB (1.8.10 of test/stack, v2 write API): USERPIPE_TEST_INFLUX_URL, default
 * http://127.0.0.1:8086. A unique database per run, dropped at the end. Unless USERPIPE_SKIP_INTEGRATION=1,
 * a missing InfluxDB is a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PipelineError } from '../../src/core/errors.ts';
import { InfluxWriter, type InfluxQueryResponse } from '../../src/clients/influx-writer.ts';
import { generateUser } from '../../src/sources/synthetic-generator.ts';
import { type Point, normalizeIdentifier, normalizePoint, normalizeStringField, renderPoint } from '../../src/transforms/line-protocol.ts';
import type { RandomUser } from '../../src/transforms/randomuser-types.ts';
import { userToPoint } from '../../src/transforms/user-point.ts';
import { type UserOrigin, userTimestampNs } from '../../src/transforms/user-message.ts';

const URL_ = process.env.USERPIPE_TEST_INFLUX_URL ?? 'http://127.0.0.1:8086';
const SKIP = process.env.USERPIPE_SKIP_INTEGRATION === '1';
const RUN = `${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
const DB = `userpipe_it_${RUN}`;
const FETCHED_AT = 1_763_000_000_000;

const admin = new InfluxWriter({ url: URL_, bucket: DB, retry: { maxAttempts: 1 } });

function writer(over: Partial<ConstructorParameters<typeof InfluxWriter>[0]> = {}): InfluxWriter {
  return new InfluxWriter({ url: URL_, bucket: DB, retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 }, ...over });
}

type Row = Record<string, unknown>;

function rows(res: InfluxQueryResponse): Row[] {
  const out: Row[] = [];
  for (const r of res.results) {
    for (const s of r.series ?? []) {
      for (const v of s.values) out.push(Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
    }
  }
  return out;
}

async function count(measurement: string, field = 'uuid'): Promise<number> {
  const r = rows(await admin.query(`SELECT COUNT("${field}") FROM "${measurement}"`, DB));
  return (r[0]?.count as number | undefined) ?? 0;
}

/** RFC3339Nano as InfluxDB prints it (trailing zeros of the fraction trimmed). */
function rfc3339(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, frac ? `.${frac}Z` : 'Z');
}

function base(index: number, nat: 'US' | 'CA' | 'GB' | 'NO' | 'AU' = 'US'): RandomUser {
  const u = generateUser({ seed: `influx-it-${RUN}`, page: 1, nat: [nat] }, index);
  return { ...u, login: { ...u.login, uuid: `it-${RUN}-${index}` } };
}

const origin = (index: number): UserOrigin => ({ fetchedAtMs: FETCHED_AT, seq: 1, index });

// Strings that break naive line protocol.
const HOSTILE: [string, string, string, string][] = [
  // first, last, city, state (a tag)
  ['Ann Marie', 'van der Berg', 'New York, NY', 'New South Wales'],
  ["O'Neil, Jr.", 'Smith=Jones', 'a=b,c=d', 'a,b=c d'],
  ['"Quoted"', 'Back\\slash', 'São Paulo "SP"', '"Quoted State"'],
  ['Trailing\\', 'Double\\\\', 'Zürich\\', 'State\\'],
  ['Emoji 😀👩‍👩‍👧', 'Ünïcödé 東京', '😀', 'Île-de-France'],
  ['Multi\nLine', 'Carriage\r\nReturn', 'Line\nBreak\rCity', 'Line\nState'],
  ['Tab\there', 'a,b=c d"e\\f', 'x\\"y', 'Tab\tState'],
  ['#hash', ' leading space', 'trailing space ', '\\,'],
  ['\\', '\\"', '"', '=\\'],
  ['Zoë', 'Ng', 'Ville\\ Spaced', 'Rheinland\\Pfalz'],
];

describe('InfluxWriter against the real InfluxDB', { skip: SKIP ? 'USERPIPE_SKIP_INTEGRATION=1' : false }, () => {
  before(async () => {
    try {
      await admin.ping();
    } catch (err) {
      throw new Error(`InfluxDB is not reachable at ${URL_} (start it with test/stack/stack up, or set USERPIPE_SKIP_INTEGRATION=1): ${String(err)}`, { cause: err });
    }
    await admin.query(`CREATE DATABASE "${DB}"`);
  });

  after(async () => {
    if (!SKIP) await admin.query(`DROP DATABASE "${DB}"`).catch(() => {});
  });

  it('pings the server and reports its version', async () => {
    const p = await admin.ping();
    assert.ok(p.status === 204 || p.status === 200);
    assert.match(p.version ?? '', /^\d+\.\d+/);
  });

  it('hostile strings: every user written, every string read back exactly as sent (line breaks as documented)', async () => {
    const users = HOSTILE.map(([first, last, city, state], i) => {
      const u = base(i);
      return { ...u, name: { title: 'Mx', first, last }, location: { ...u.location, city, state } };
    });
    const points = users.map((u, i) => userToPoint(u, origin(i), { measurement: 'users' }));
    const w = writer();
    const result = await w.write(points.map(renderPoint));
    assert.deepEqual(result, { written: users.length, rejected: [], requests: 1 });

    const byUuid = new Map(rows(await admin.query('SELECT * FROM "users"', DB)).map((r) => [r.uuid as string, r]));
    assert.equal(byUuid.size, users.length);
    for (const [i, p] of points.entries()) {
      const row = byUuid.get(p.fields.uuid?.value as string);
      assert.ok(row, `user ${i} missing`);
      assert.equal(row.time, rfc3339(userTimestampNs(origin(i))));
      for (const [k, v] of Object.entries(p.fields)) {
        const want = v.type === 'string' ? normalizeStringField(v.value) : v.value;
        assert.deepEqual(row[k], want, `user ${i} field ${k}: ${JSON.stringify(v.value)}`);
      }
      for (const [k, v] of Object.entries(p.tags)) {
        const want = normalizeIdentifier(v);
        assert.equal(row[k], want === '' ? null : want, `user ${i} tag ${k}: ${JSON.stringify(v)}`);
      }
    }
    // The documented treatments, seen from the database:
    const multi = byUuid.get(`it-${RUN}-5`) as Row;
    assert.equal(multi.first_name, 'Multi Line');
    assert.equal(multi.last_name, 'Carriage Return');
    assert.equal(multi.state, 'Line State');
    const trailing = byUuid.get(`it-${RUN}-3`) as Row;
    assert.equal(trailing.first_name, 'Trailing\\'); // kept in fields
    assert.equal(trailing.city, 'Zürich\\');
    assert.equal(trailing.state, 'State'); // dropped at the end of a tag
    assert.equal((byUuid.get(`it-${RUN}-9`) as Row).state, 'Rheinland\\Pfalz'); // kept inside a tag
  });

  it('postcodes are strings for every nationality; coordinates floats; ages integers', async () => {
    const users: RandomUser[] = [
      { ...base(100, 'CA'), location: { ...base(100, 'CA').location, postcode: 'Y3D 4T5' } },
      { ...base(101, 'GB'), location: { ...base(101, 'GB').location, postcode: 'FX42 7YJ' } },
      { ...base(102, 'NO'), location: { ...base(102, 'NO').location, postcode: '0550' } },
      { ...base(103, 'US'), location: { ...base(103, 'US').location, postcode: 48285 } },
      { ...base(104, 'AU'), location: { ...base(104, 'AU').location, coordinates: { latitude: '-2.2617', longitude: '145' } } },
    ];
    const lines = users.map((u, i) => renderPoint(userToPoint(u, origin(100 + i), { measurement: 'postcodes' })));
    assert.equal((await writer().write(lines)).written, users.length);
    const got = new Map(rows(await admin.query('SELECT uuid, postcode, latitude, longitude, age FROM postcodes', DB)).map((r) => [r.uuid, r]));
    assert.equal(got.get(`it-${RUN}-100`)?.postcode, 'Y3D 4T5');
    assert.equal(got.get(`it-${RUN}-101`)?.postcode, 'FX42 7YJ');
    assert.equal(got.get(`it-${RUN}-102`)?.postcode, '0550');
    assert.equal(got.get(`it-${RUN}-103`)?.postcode, '48285');
    assert.equal(got.get(`it-${RUN}-104`)?.latitude, -2.2617);
    assert.equal(got.get(`it-${RUN}-104`)?.longitude, 145);
    const types = Object.fromEntries(rows(await admin.query('SHOW FIELD KEYS FROM postcodes', DB)).map((r) => [r.fieldKey, r.fieldType]));
    assert.equal(types.postcode, 'string');
    assert.equal(types.latitude, 'float');
    assert.equal(types.longitude, 'float');
    assert.equal(types.age, 'integer');
    assert.equal(types.registered_age, 'integer');
  });

  it('redelivery is idempotent: the same users written twice are still one point each', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => renderPoint(userToPoint(base(1000 + i), origin(1000 + i), { measurement: 'redelivery' })));
    const w = writer();
    await w.write(lines);
    await w.write(lines);
    await w.write(lines.slice(100, 200));
    assert.equal(await count('redelivery'), 300);
  });

  it('a 400 is isolated: good lines written, each bad line returned with InfluxDB\'s message', async () => {
    const good = (i: number): string => renderPoint(userToPoint(base(2000 + i), origin(2000 + i), { measurement: 'iso' }));
    const w = writer();
    // Establish `age` as an integer field, then send a batch with malformed lines and one type conflict.
    assert.equal((await w.write([good(0)])).written, 1);
    const bad = new Map<number, string>([
      [3, 'iso,bad'],
      [50, 'iso f='],
      [51, 'iso f="unterminated 1'],
      [120, `iso age="not a number",uuid="conflict" ${userTimestampNs(origin(9999))}`],
      [199, 'iso,t=x'],
    ]);
    const batch: string[] = [];
    for (let i = 1; i <= 200; i++) batch.push(bad.get(i) ?? good(i));
    const result = await w.write(batch);
    assert.equal(result.written, 200 - bad.size);
    assert.deepEqual(result.rejected.map((r) => r.line).sort(), [...bad.values()].sort());
    for (const r of result.rejected) {
      assert.equal(r.status, 400);
      if (r.line.includes('conflict')) assert.match(r.message, /field type conflict/);
      else assert.match(r.message, /unable to parse/);
    }
    assert.ok(result.requests <= 2 * bad.size * 8 + 1, `requests: ${result.requests}`);
    console.log(`isolation: ${bad.size} bad of 200 lines isolated in ${result.requests} requests`);
    assert.equal(await count('iso'), 200 - bad.size + 1); // the good ones of 1..200, plus good(0)
  });

  it('a type conflict inside one batch (1.8 refuses the whole batch, naming no line) is isolated too', async () => {
    const good = (i: number): string => renderPoint(userToPoint(base(2500 + i), origin(2500 + i), { measurement: 'conf' }));
    const batch = [good(0), good(1), 'conf age=1i 11', good(2), 'conf age="one" 12', good(3)];
    const result = await writer().write(batch);
    // Depth-first, left half first: the integer line is stored first, so the string one is the conflict.
    assert.deepEqual(result.rejected.map((r) => r.line), ['conf age="one" 12']);
    assert.match(result.rejected[0]?.message ?? '', /field type conflict/);
    assert.equal(result.written, 5);
    assert.equal(await count('conf', 'age'), 5);
  });

  it('random hostile strings round-trip through the real server (property test)', async () => {
    const seed = Number(process.env.LP_SEED ?? Date.now() % 1_000_000);
    let a = seed >>> 0;
    const r = (): number => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const alphabet = [',', '=', '"', '\\', ' ', '\n', '\r\n', '\t', '\u0000', '\u0001', '#', 'a', 'Z', '0', 'é', '東', '😀', '👩‍👩‍👧', "'", '\\'];
    const hostile = (max: number): string => {
      let s = '';
      const len = Math.floor(r() * (max + 1));
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
      return r() < 0.25 ? s + '\\' : s;
    };
    const points: Point[] = [];
    for (let i = 0; i < 1000; i++) {
      points.push({
        measurement: 'prop',
        tags: { t0: hostile(8), t1: hostile(3), t2: 'fixed' },
        fields: {
          id: { type: 'string', value: `p${i}` },
          s0: { type: 'string', value: hostile(30) },
          s1: { type: 'string', value: hostile(5) },
          fl: { type: 'float', value: (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20) },
          n: { type: 'integer', value: Math.floor((r() - 0.5) * Number.MAX_SAFE_INTEGER) },
          b: { type: 'boolean', value: r() < 0.5 },
        },
        timestampNs: 1_700_000_000_000_000_000n + BigInt(i),
      });
    }
    const result = await writer().write(points.map(renderPoint));
    assert.deepEqual(result.rejected, [], `seed=${seed}`);
    const byId = new Map(rows(await admin.query('SELECT * FROM prop', DB)).map((row) => [row.id, row]));
    assert.equal(byId.size, points.length, `seed=${seed}`);
    for (const p of points) {
      const want = normalizePoint(p);
      const row = byId.get(p.fields.id?.value) as Row;
      const where = `seed=${seed} ${JSON.stringify(renderPoint(p))}`;
      for (const k of ['t0', 't1', 't2']) assert.equal(row[k], want.tags[k] ?? null, `${where} tag ${k}`);
      for (const [k, v] of Object.entries(want.fields)) assert.deepEqual(row[k], v.value, `${where} field ${k}`);
      assert.equal(row.time, rfc3339(p.timestampNs), where);
    }
  });

  it('a database that does not exist is NOT_FOUND with a clear message, nothing retried', async () => {
    const missing = `userpipe_missing_${RUN}`;
    const w = writer({ bucket: missing });
    await assert.rejects(w.write([renderPoint(userToPoint(base(1), origin(1), { measurement: 'users' }))]), (e: unknown) => {
      assert.ok(e instanceof PipelineError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.equal(e.retryable, false);
      assert.match(e.message, /database not found/);
      assert.match(e.message, new RegExp(missing));
      return true;
    });
  });

  it('bucket "db/rp" addresses a retention policy', async () => {
    const w = writer({ bucket: `${DB}/autogen` });
    const lines = Array.from({ length: 10 }, (_, i) => renderPoint(userToPoint(base(3000 + i), origin(3000 + i), { measurement: 'rp' })));
    assert.equal((await w.write(lines)).written, 10);
    assert.equal(await count('rp'), 10);
  });

  it('gzip bodies are decoded by the server (and plain bodies work too)', async () => {
    const lines = (m: string): string[] => Array.from({ length: 50 }, (_, i) => renderPoint(userToPoint(base(4000 + i), origin(4000 + i), { measurement: m })));
    assert.equal((await writer({ gzip: true }).write(lines('gz'))).written, 50);
    assert.equal((await writer({ gzip: false }).write(lines('plain'))).written, 50);
    // Had the server ignored Content-Encoding, the gzip bytes would have been refused as line protocol.
    assert.equal(await count('gz'), 50);
    assert.equal(await count('plain'), 50);
  });

  it('writes 5,000 users in one batch: exactly 5,000 points', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(renderPoint(userToPoint(base(10_000 + i), origin(i), { measurement: 'bulk' })));
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const t0 = performance.now();
    const r = await writer().write(lines);
    const ms = performance.now() - t0;
    console.log(`bulk: 5000 lines (${(bytes / 1e6).toFixed(2)} MB raw) written in ${ms.toFixed(0)} ms (${Math.round(5000 / (ms / 1000))} points/s)`);
    assert.deepEqual(r, { written: 5000, rejected: [], requests: 1 });
    assert.equal(await count('bulk'), 5000);
  });
});
