/**
 * Must-show 5 against a server that CHECKS tokens: a private InfluxDB 1.8 with auth enabled (the stack's
 * shared one has auth off, and 1.8 then ignores any token), started from the stack's cached binary on free
 * ports and removed at the end. A wrong token (401) and a user without write rights on the database (403)
 * stop `userpipe process` with exit 1, a message naming the cause, and no offset committed; the right token
 * writes everything (so the refusals are about the token, not a broken setup).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KafkaAdmin } from '../../src/clients/kafka.ts';
import type { KafkaLog } from '../../src/clients/kafka-log.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { startAuthInflux, type AuthInflux } from '../support/influxd-auth.ts';
import { runCli } from '../support/run-cli.ts';
import { SKIP, ingestMessages, kafkaAdmin, kafkaLog, processArgs, produceAll, unique } from './process-helpers.ts';

const N = 300;
const DB = unique('userpipe_auth_it');
const TOPIC = unique('process-auth-it');

describe('userpipe process against an InfluxDB that checks tokens', { skip: SKIP }, () => {
  let influx: AuthInflux;
  let log: KafkaLog;
  let admin: KafkaAdmin;
  let dir: string;

  before(async () => {
    influx = await startAuthInflux();
    await influx.query(`CREATE DATABASE "${DB}"`);
    await influx.query(`CREATE USER "reader" WITH PASSWORD 'reader-pw'`);
    await influx.query(`GRANT READ ON "${DB}" TO "reader"`);
    dir = await mkdtemp(join(tmpdir(), 'userpipe-auth-it-'));
    log = kafkaLog();
    admin = await kafkaAdmin();
    await log.ensureTopic(TOPIC, { partitions: 2 });
    await produceAll(log, TOPIC, ingestMessages(generateResponse({ seed: DB, page: 1, results: N }).results, 'user', TOPIC, 100));
  });

  after(async () => {
    await influx?.stop();
    for (const t of [TOPIC, `${TOPIC}.dlq`]) await admin?.deleteTopic(t).catch(() => {});
    await admin?.close();
    await log?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (group: string, env: Record<string, string | undefined>, extra: string[] = []) =>
    runCli(processArgs({ topic: TOPIC, group, db: DB, url: influx.url, extra: ['--once', ...extra] }), { env, timeoutMs: 120_000 });

  it('a wrong token: exit 1, "rejected the token", no offset committed, the token never printed', async () => {
    const group = unique('auth-wrong');
    const r = await run(group, { INFLUX_TOKEN: 'userpipe_admin:wrong-password' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /InfluxDB rejected the token \(HTTP 401/);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong-password/);
    assert.deepEqual(await admin.committedOffsets(group, TOPIC), [null, null]);
  });

  it('no token at all: exit 1 with the same cause', async () => {
    const group = unique('auth-none');
    const r = await run(group, { INFLUX_TOKEN: undefined });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rejected the token \(HTTP 401/);
    assert.deepEqual(await admin.committedOffsets(group, TOPIC), [null, null]);
  });

  it('a valid user without write rights on the database (403): exit 1 naming the bucket, no offset committed', async () => {
    const group = unique('auth-reader');
    const file = join(dir, 'reader-token');
    await writeFile(file, 'reader:reader-pw\n');
    const r = await run(group, {}, ['--influx-token-file', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`may not write to bucket \\\\?"${DB}\\\\?".*HTTP 403`));
    assert.deepEqual(await admin.committedOffsets(group, TOPIC), [null, null]);
  });

  it('the right token (from --influx-token-file): exit 0, every point written, every offset committed', async () => {
    const group = unique('auth-ok');
    const file = join(dir, 'admin-token');
    await writeFile(file, `${influx.adminToken}\n`);
    const r = await run(group, { INFLUX_TOKEN: 'ignored:because-the-file-wins' }, ['--influx-token-file', file]);
    assert.equal(r.code, 0, r.stderr);
    const res = (await influx.query('SELECT COUNT("uuid") FROM "users"', DB)) as { results: { series?: { values: unknown[][] }[] }[] };
    assert.equal(res.results[0]?.series?.[0]?.values[0]?.[1], N);
    const end = await log.endOffsets(TOPIC);
    assert.deepEqual(await admin.committedOffsets(group, TOPIC), [...end.values()]);
  });
});
