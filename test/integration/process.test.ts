/**
 * `userpipe process` (the real CLI, spawned) against the REAL Kafka and InfluxDB 1.8 of test/stack: a unique
 * topic, groups and database per run, all removed at the end. Must-show 1-3 and the 1.8 half of 5 of the
 * process issue, shortened (2,000 users; the 5,000-user version is test/scenarios/process-5k.ts).
 * The auth-checking server of must-show 5 is in process-auth.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaAdmin } from '../../src/clients/kafka.ts';
import type { KafkaLog } from '../../src/clients/kafka-log.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { normalizeIdentifier, normalizeStringField } from '../../src/transforms/line-protocol.ts';
import type { RandomUser } from '../../src/transforms/randomuser-types.ts';
import { runCli } from '../support/run-cli.ts';
import {
  SKIP,
  countPoints,
  influxAdmin,
  ingestMessages,
  kafkaAdmin,
  kafkaLog,
  processArgs,
  produceAll,
  rows,
  unique,
  type Row,
} from './process-helpers.ts';

const N = 2000;
const DB = unique('userpipe_process_it');
const TOPIC = unique('process-it');
const influx = influxAdmin();

// Strings that break naive line protocol: [first, last, city, state (a tag)].
const HOSTILE: [string, string, string, string][] = [
  ['Ann Marie', 'van der Berg', 'New York, NY', 'New South Wales'],
  ["O'Neil, Jr.", 'Smith=Jones', 'a=b,c=d', 'a,b=c d'],
  ['"Quoted"', 'Back\\slash', 'São Paulo "SP"', '"Quoted State"'],
  ['Trailing\\', 'Double\\\\', 'Zürich\\', 'State\\'],
  ['Emoji 😀👩‍👩‍👧', 'Ünïcödé 東京', '😀', 'Île-de-France'],
  ['Multi\nLine', 'Carriage\r\nReturn', 'Line\nBreak\rCity', 'Line\nState'],
  ['x" y=1i 123\nusers,gender=male uuid="injected"', '\\', '"', '=\\'],
  ['#hash', ' leading space', 'trailing space ', 'Rheinland\\Pfalz'],
];

describe('userpipe process against the real Kafka and InfluxDB 1.8', { skip: SKIP }, () => {
  let log: KafkaLog;
  let admin: KafkaAdmin;
  const users: RandomUser[] = generateResponse({ seed: DB, page: 1, results: N }).results;
  const groups: string[] = [];
  const group = (name: string): string => {
    const g = unique(`process-it-${name}`);
    groups.push(g);
    return g;
  };

  before(async () => {
    try {
      await influx.ping();
    } catch (err) {
      throw new Error('InfluxDB is not reachable (test/stack/stack up, or USERPIPE_SKIP_INTEGRATION=1)', { cause: err });
    }
    await influx.query(`CREATE DATABASE "${DB}"`);
    log = kafkaLog();
    admin = await kafkaAdmin();
    await log.ensureTopic(TOPIC, { partitions: 3 });
    await produceAll(log, TOPIC, ingestMessages(users, 'user', TOPIC));
  });

  after(async () => {
    await influx.query(`DROP DATABASE "${DB}"`).catch(() => {});
    for (const t of [TOPIC, `${TOPIC}.dlq`, `${TOPIC}-hostile`, `${TOPIC}-hostile.dlq`]) await admin?.deleteTopic(t).catch(() => {});
    await admin?.close();
    await log?.close();
  });

  it(`${N} users, process --once: exactly ${N} points, CA/GB/NO postcodes intact strings, coordinates floats, offsets committed`, async () => {
    const g = group('first');
    const r = await runCli(processArgs({ topic: TOPIC, group: g, db: DB, extra: ['--once'] }), { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await countPoints(influx, DB), N);

    const byUuid = new Map(rows(await influx.query('SELECT * FROM "users"', DB)).map((row) => [row.uuid as string, row]));
    assert.equal(byUuid.size, N, 'one point per uuid');
    const special = users.filter((u) => u.nat === 'CA' || u.nat === 'GB' || u.nat === 'NO');
    assert.ok(special.length > 100, `${special.length} CA/GB/NO users`);
    for (const u of special) {
      const row = byUuid.get(u.login?.uuid as string) as Row;
      assert.equal(typeof row.postcode, 'string');
      assert.equal(row.postcode, String(u.location?.postcode), `${u.nat} postcode`);
    }
    assert.ok(special.some((u) => u.nat === 'NO' && /^0/.test(String(u.location?.postcode))) || special.some((u) => /[A-Z]/.test(String(u.location?.postcode))));
    for (const u of users.slice(0, 200)) {
      const row = byUuid.get(u.login?.uuid as string) as Row;
      assert.equal(row.latitude, Number(u.location?.coordinates?.latitude));
      assert.equal(row.longitude, Number(u.location?.coordinates?.longitude));
      assert.equal(row.age, u.dob?.age);
      assert.equal(row.nat, u.nat, 'nat is a tag');
    }
    const types = new Map(rows(await influx.query('SHOW FIELD KEYS FROM "users"', DB)).map((row) => [row.fieldKey, row.fieldType]));
    assert.equal(types.get('postcode'), 'string');
    assert.equal(types.get('latitude'), 'float');
    assert.equal(types.get('longitude'), 'float');
    assert.equal(types.get('age'), 'integer');
    assert.equal(types.get('email'), 'string', 'email is a field, not a tag');
    const tags = rows(await influx.query('SHOW TAG KEYS FROM "users"', DB)).map((row) => row.tagKey);
    assert.deepEqual(tags.sort(), ['country', 'gender', 'nat', 'state']);

    const end = await log.endOffsets(TOPIC);
    const committedOffsets = await admin.committedOffsets(g, TOPIC);
    assert.deepEqual(committedOffsets, [...end.values()], 'every offset committed');
    assert.match(r.stderr, /"msg":"process done".*"written":2000/);
  });

  it('the same topic processed again from the beginning (new group, and --start earliest): still exactly N points', async () => {
    const again = await runCli(processArgs({ topic: TOPIC, group: group('again'), db: DB, extra: ['--once'] }), { timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await countPoints(influx, DB), N);
    const g = group('earliest');
    const first = await runCli(processArgs({ topic: TOPIC, group: g, db: DB, extra: ['--once'] }), { timeoutMs: 120_000 });
    assert.equal(first.code, 0, first.stderr);
    const replay = await runCli(processArgs({ topic: TOPIC, group: g, db: DB, extra: ['--once', '--start', 'earliest'] }), { timeoutMs: 120_000 });
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stderr, /"written":2000/, '--start earliest replays a group that had committed everything');
    assert.equal(await countPoints(influx, DB), N);
  });

  it('hostile names and cities: every user written, every string reads back exactly (line breaks become one space)', async () => {
    const topic = `${TOPIC}-hostile`;
    await log.ensureTopic(topic, { partitions: 1 });
    const base = generateResponse({ seed: `${DB}-hostile`, page: 1, results: HOSTILE.length * 2 }).results;
    const hostile = base.map((u, i) => {
      const [first, last, city, state] = HOSTILE[i % HOSTILE.length] as [string, string, string, string];
      return { ...u, name: { title: 'Mx', first, last }, location: { ...u.location, city, state } };
    });
    // half per user, half as one response (the exploded path)
    const half = HOSTILE.length;
    await produceAll(log, topic, [
      ...ingestMessages(hostile.slice(0, half), 'user', topic),
      ...ingestMessages(hostile.slice(half), 'response', topic).map((m) => ({ ...m, headers: { ...m.headers, 'userpipe-seq': '5' } })),
    ]);
    const r = await runCli(processArgs({ topic, group: group('hostile'), db: DB, extra: ['--once', '--measurement', 'hostile'] }), { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const byUuid = new Map(rows(await influx.query('SELECT * FROM "hostile"', DB)).map((row) => [row.uuid as string, row]));
    assert.equal(byUuid.size, hostile.length, 'every hostile user written, none injected');
    for (const u of hostile) {
      const row = byUuid.get(u.login?.uuid as string) as Row;
      assert.ok(row, u.name?.first);
      assert.equal(row.first_name, normalizeStringField(u.name?.first as string), JSON.stringify(u.name?.first));
      assert.equal(row.last_name, normalizeStringField(u.name?.last as string), JSON.stringify(u.name?.last));
      assert.equal(row.city, normalizeStringField(u.location?.city as string), JSON.stringify(u.location?.city));
      const state = normalizeIdentifier(u.location?.state as string);
      assert.equal(row.state, state === '' ? null : state, JSON.stringify(u.location?.state));
    }
    // What "exactly, line breaks as documented" means, spelled out:
    const rowOf = (first: string): Row => [...byUuid.values()].find((row) => row.first_name === first) as Row;
    assert.equal(rowOf('Multi Line').last_name, 'Carriage Return');
    assert.equal(rowOf('Trailing\\').city, 'Zürich\\', 'a trailing backslash is kept in a field');
    assert.equal(rowOf('Trailing\\').state, 'State', 'and dropped at the end of a tag (it would escape the separator)');
    assert.equal(rowOf('Emoji 😀👩‍👩‍👧').last_name, 'Ünïcödé 東京');
    assert.equal(rowOf('"Quoted"').city, 'São Paulo "SP"');
    assert.equal(await countPoints(influx, DB, 'hostile'), hostile.length);
  });

  it('a database that does not exist (1.8): exit 1, the message names it, no offset committed', async () => {
    const g = group('nodb');
    const missing = unique('no_such_db');
    const r = await runCli(processArgs({ topic: TOPIC, group: g, db: missing, extra: ['--once'] }), { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`bucket \\\\?"${missing}\\\\?".*not found`));
    assert.match(r.stderr, /database not found/, "InfluxDB's own words");
    assert.deepEqual(await admin.committedOffsets(g, TOPIC), [null, null, null], 'nothing committed');
    // A member of the same group starts from the committed offsets: the first message of each partition.
    const consumer = await log.consumer({ group: g, topic: TOPIC, start: 'committed' });
    try {
      const firsts = new Map<number, bigint>();
      for await (const rec of consumer) {
        if (!firsts.has(rec.partition)) firsts.set(rec.partition, rec.offset);
        if (firsts.size === 3) break;
      }
      assert.deepEqual([...firsts.values()], [0n, 0n, 0n]);
    } finally {
      await consumer.close();
    }
  });
});
