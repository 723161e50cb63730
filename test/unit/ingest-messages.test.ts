import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { parseSpoolFile } from '../../src/transforms/spool-format.ts';
import { HEADER, userTimestampNs } from '../../src/transforms/user-message.ts';
import { buildMessages, type FileOrigin } from '../../src/transforms/user-messages.ts';

const opts = { format: 'user' as const, topic: 't', dlqTopic: 't.dlq' };
const origin: FileOrigin = { source: 'response_20261130_050102_123_07_abc.json', fetchedAtMs: 1_795_000_000_123, seq: 7 };

function parsed(text: string) {
  const p = parseSpoolFile(Buffer.from(text));
  assert.ok(p.ok, p.ok ? '' : p.reason);
  return p;
}

test('user format: one message per user, key login.uuid, compact JSON value, contract headers', () => {
  const resp = generateResponse({ seed: 'm', page: 1, results: 4 });
  const p = parsed(JSON.stringify(resp));
  const msgs = buildMessages(p.layout, p.records, origin, opts);
  assert.equal(msgs.length, 4);
  msgs.forEach((m, i) => {
    const user = resp.results[i];
    assert.equal(m.topic, 't');
    assert.equal(m.dead, false);
    assert.equal(m.key, user?.login?.uuid);
    assert.equal(m.value, JSON.stringify(user));
    assert.deepEqual(m.headers, {
      [HEADER.format]: 'user',
      [HEADER.fetchedAt]: '1795000000123',
      [HEADER.seq]: '7',
      [HEADER.source]: origin.source,
      [HEADER.index]: String(i),
    });
  });
});

test('user format: the same file always gives the same messages (redelivery is harmless)', () => {
  const text = JSON.stringify(generateResponse({ seed: 'm', page: 2, results: 10 }));
  const a = buildMessages(parsed(text).layout, parsed(text).records, origin, opts);
  const b = buildMessages(parsed(text).layout, parsed(text).records, origin, opts);
  assert.deepEqual(a, b);
});

test('user format: a user failing the schema and a user without login go to the DLQ with a reason; the rest go on', () => {
  const resp = generateResponse({ seed: 'm', page: 3, results: 4 });
  const bad = structuredClone(resp);
  (bad.results[1] as Record<string, unknown>).gender = 42;
  delete (bad.results[2] as Record<string, unknown>).login;
  const p = parsed(JSON.stringify(bad));
  const msgs = buildMessages(p.layout, p.records, origin, opts);
  assert.deepEqual(msgs.map((m) => [m.topic, m.dead]), [['t', false], ['t.dlq', true], ['t.dlq', true], ['t', false]]);
  const schemaFail = msgs[1];
  assert.match(schemaFail?.headers[HEADER.error] ?? '', /\/gender must be one of male, female \(got 42\)/);
  assert.equal(schemaFail?.headers[HEADER.stage], 'ingest');
  assert.equal(schemaFail?.key, resp.results[1]?.login?.uuid, 'a keyable bad user keeps its key');
  const noLogin = msgs[2];
  assert.match(noLogin?.headers[HEADER.error] ?? '', /no login\.uuid/);
  assert.equal(noLogin?.key, undefined);
  assert.equal(noLogin?.headers[HEADER.index], '2', 'the position still travels, for finding it in the file');
});

test('user format: a bad uuid is a schema failure (it would become a Kafka key)', () => {
  const user = generateResponse({ seed: 'm', page: 4, results: 1 }).results[0] as Record<string, unknown>;
  (user.login as Record<string, unknown>).uuid = 'not-a-uuid';
  const p = parsed(JSON.stringify({ results: [user, null] }));
  const msgs = buildMessages(p.layout, p.records, origin, opts);
  assert.deepEqual(msgs.map((m) => m.dead), [true, true]);
  assert.match(msgs[0]?.headers[HEADER.error] ?? '', /login\/uuid has an unexpected format/);
  assert.equal(msgs[1]?.value, 'null');
});

test('NDJSON: users numbered across the file, index spills into seq every 10,000 so timestamps stay unique', () => {
  const a = generateResponse({ seed: 'n', page: 1, results: 3 });
  const b = generateResponse({ seed: 'n', page: 2, results: 2 });
  const lines = [JSON.stringify(a), JSON.stringify(b.results[0]), JSON.stringify(b)].join('\n');
  const p = parsed(lines);
  const foreign: FileOrigin = { source: 'x.ndjson', fetchedAtMs: 1000, seq: 0 };
  const msgs = buildMessages(p.layout, p.records, foreign, opts);
  assert.deepEqual(msgs.map((m) => m.headers[HEADER.index]), ['0', '1', '2', '3', '4', '5']);
  assert.equal(msgs[3]?.value, JSON.stringify(b.results[0]), 'a user line is sent as written');

  const many = Array.from({ length: 10_002 }, (_, i) => JSON.stringify({ login: { uuid: uuidFor(i) }, nat: 'US' })).join('\n');
  const big = parsed(many);
  const out = buildMessages(big.layout, big.records, foreign, opts);
  assert.equal(out.length, 10_002);
  const last = out[10_001];
  assert.equal(last?.headers[HEADER.seq], '1');
  assert.equal(last?.headers[HEADER.index], '1');
  const stamps = new Set(
    out.map((m) => userTimestampNs({ fetchedAtMs: 1000, seq: Number(m.headers[HEADER.seq]), index: Number(m.headers[HEADER.index]) })),
  );
  assert.equal(stamps.size, out.length, 'every user gets its own timestamp');
});

test('response format: one message per response, its own line as the value, no key, no index', () => {
  const resp = generateResponse({ seed: 'r', page: 1, results: 3 });
  const line = JSON.stringify(resp);
  const p = parsed(line);
  const [m, ...rest] = buildMessages(p.layout, p.records, origin, { ...opts, format: 'response' });
  assert.equal(rest.length, 0);
  assert.equal(m?.value, line);
  assert.equal(m?.key, undefined);
  assert.equal(m?.users, 3);
  assert.deepEqual(m?.headers, {
    [HEADER.format]: 'response',
    [HEADER.fetchedAt]: '1795000000123',
    [HEADER.seq]: '7',
    [HEADER.source]: origin.source,
  });
});

test('response format: an NDJSON user line becomes a one-user response; responses get successive seqs', () => {
  const resp = generateResponse({ seed: 'r', page: 2, results: 2 });
  const user = resp.results[0];
  const p = parsed(`${JSON.stringify(resp)}\n${JSON.stringify(user)}\n`);
  const msgs = buildMessages(p.layout, p.records, { source: 'f', fetchedAtMs: 5, seq: 0 }, { ...opts, format: 'response' });
  assert.equal(msgs.length, 2);
  assert.deepEqual(JSON.parse(msgs[1]?.value ?? ''), { results: [user] });
  assert.deepEqual(msgs.map((m) => m.headers[HEADER.seq]), ['0', '1']);
});

function uuidFor(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}
