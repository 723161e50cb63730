/**
 * Every fault the RandomUser service (or the network before it) produces is classified where it happens: first the
 * pure classification on hand-written answers, then the real HTTP client against the project's test server serving
 * each fault kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../../src/core/errors.ts';
import { classifyRequestError, endsInsideValue, parseRandomUserAnswer } from '../../src/sources/randomuser-answer.ts';
import { RandomUserClient, searchParams } from '../../src/sources/randomuser.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import {
  BAD_GATEWAY_HTML,
  OFFLINE_BODY,
  RATE_LIMIT_BODY,
  startRandomUserServer,
  type FaultKind,
} from '../support/randomuser-server.ts';

const json = 'application/json; charset=utf-8';
const good = JSON.stringify(generateResponse({ seed: 'a', page: 1, results: 4 }));

function classify(status: number, body: string, headers: Record<string, string> = { 'content-type': json }, requested = 4): PipelineError {
  try {
    parseRandomUserAnswer({ status, headers, body }, requested);
  } catch (err) {
    assert.ok(err instanceof PipelineError, `expected a PipelineError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the answer to be refused');
}

test('a good answer is returned as parsed', () => {
  const r = parseRandomUserAnswer({ status: 200, headers: { 'content-type': json }, body: good }, 4);
  assert.equal(r.results.length, 4);
  assert.equal(r.info?.page, 1);
});

test('HTTP statuses: 429 (with Retry-After seconds or date), 5xx, 408 retryable; 4xx not', () => {
  const e429 = classify(429, RATE_LIMIT_BODY);
  assert.deepEqual([e429.code, e429.retryable, e429.retryAfterMs], ['RATE_LIMITED', true, undefined]);
  assert.match(e429.message, /HTTP 429: Whoa, ease up there cowboy/);
  assert.equal(classify(429, RATE_LIMIT_BODY, { 'content-type': json, 'retry-after': '7' }).retryAfterMs, 7000);
  const date = new Date(Date.now() + 30_000).toUTCString();
  const byDate = classify(429, RATE_LIMIT_BODY, { 'content-type': json, 'retry-after': date }).retryAfterMs ?? 0;
  assert.ok(byDate > 25_000 && byDate <= 30_000, `Retry-After date gave ${byDate}`);
  const e500 = classify(500, OFFLINE_BODY);
  assert.deepEqual([e500.code, e500.retryable], ['UNAVAILABLE', true]);
  assert.match(e500.message, /HTTP 500: Uh oh/);
  const e502 = classify(502, BAD_GATEWAY_HTML, { 'content-type': 'text/html' });
  assert.deepEqual([e502.code, e502.retryable], ['UNAVAILABLE', true]);
  assert.match(e502.message, /HTTP 502 \(502 Bad Gateway\)/);
  assert.equal(classify(408, '').code, 'TIMEOUT');
  for (const [status, code] of [[400, 'REJECTED'], [401, 'AUTH'], [403, 'AUTH'], [404, 'NOT_FOUND']] as const) {
    const e = classify(status, 'no');
    assert.deepEqual([e.code, e.retryable], [code, false], `HTTP ${status}`);
  }
});

test('a 200 with HTML, a truncated or invalid body, or an error body is a retryable BAD_RESPONSE', () => {
  const cases: Array<[string, string, Record<string, string>, RegExp]> = [
    ['html by type', '<!DOCTYPE html><title>Maintenance</title>', { 'content-type': 'text/html' }, /HTML page instead of JSON \(Maintenance\)/],
    ['html by content', '  <html><body>oops</body></html>', { 'content-type': json }, /HTML page instead of JSON/],
    ['truncated', good.slice(0, good.length / 2), { 'content-type': json }, /^truncated JSON$/],
    ['invalid', '{"results": [1,]}', { 'content-type': json }, /invalid JSON/],
    ['empty body', '', { 'content-type': json }, /empty body/],
    ['error body', OFFLINE_BODY, { 'content-type': json }, /API error body: Uh oh/],
    ['not an object', '[]', { 'content-type': json }, /unusable response/],
  ];
  for (const [name, body, headers, message] of cases) {
    const e = classify(200, body, headers);
    assert.equal(e.code, 'BAD_RESPONSE', name);
    assert.equal(e.retryable, true, name);
    assert.match(e.message, message, name);
  }
});

test('a 200 whose results are empty or shorter than info.results is a retryable BAD_RESPONSE', () => {
  const full = generateResponse({ seed: 'a', page: 1, results: 4 });
  const empty = classify(200, JSON.stringify({ ...full, results: [] }));
  assert.deepEqual([empty.code, empty.retryable, empty.details.expected, empty.details.received], ['BAD_RESPONSE', true, 4, 0]);
  const short = classify(200, JSON.stringify({ ...full, results: full.results.slice(0, 2) }));
  assert.match(short.message, /short results: 2 of 4/);
  // Without info (noinfo), the count asked for is the reference.
  const noinfo = classify(200, JSON.stringify({ results: full.results.slice(0, 1) }), { 'content-type': json }, 3);
  assert.match(noinfo.message, /short results: 1 of 3/);
});

test('client errors: timeouts and network errors retryable, our own abort ABORTED, unknown errors not retried', () => {
  const timeout = classifyRequestError(Object.assign(new Error("Timeout awaiting 'response' for 300ms"), { name: 'TimeoutError', code: 'ETIMEDOUT', event: 'response' }), false);
  assert.deepEqual([timeout.code, timeout.retryable, timeout.details.phase], ['TIMEOUT', true, 'response']);
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_HTTP_CONTENT_LENGTH_MISMATCH', 'HPE_INVALID_CHUNK_SIZE']) {
    const e = classifyRequestError(Object.assign(new Error('x'), { name: 'RequestError', code }), false);
    assert.deepEqual([e.code, e.retryable], ['NETWORK', true], code);
  }
  const read = classifyRequestError(Object.assign(new Error('premature'), { name: 'ReadError' }), false);
  assert.deepEqual([read.code, read.retryable], ['NETWORK', true]);
  const aborted = classifyRequestError(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' }), true);
  assert.equal(aborted.code, 'ABORTED');
  const unknown = classifyRequestError(new TypeError('cannot read properties of undefined'), false);
  assert.deepEqual([unknown.code, unknown.retryable], ['INTERNAL', false]);
});

test('searchParams: what the API reads', () => {
  const p = searchParams({ results: 50, nat: ['US', 'GB'], gender: 'female', inc: ['name', 'login'], exc: ['picture'], seed: 's', page: 3 });
  assert.equal(p.toString(), 'results=50&nat=us%2Cgb&gender=female&inc=name%2Clogin&exc=picture&seed=s&page=3');
  assert.equal(searchParams({ results: 1 }).toString(), 'results=1');
});

test('the HTTP client classifies every fault the test server serves', async (t) => {
  const server = await startRandomUserServer({ slowMs: 2000, retryAfter: '2' });
  t.after(() => server.close());
  const client = new RandomUserClient({ apiUrl: server.url, timeouts: { connectMs: 1000, responseMs: 300, readMs: 1000 } });
  t.after(() => client.close());
  const expected: Record<FaultKind, [string, RegExp]> = {
    '500': ['UNAVAILABLE', /HTTP 500/],
    '502': ['UNAVAILABLE', /HTTP 502/],
    '429': ['RATE_LIMITED', /HTTP 429/],
    '429-retry-after': ['RATE_LIMITED', /HTTP 429/],
    empty: ['BAD_RESPONSE', /empty results/],
    short: ['BAD_RESPONSE', /short results: 5 of 10/],
    truncated: ['BAD_RESPONSE', /truncated JSON/],
    slow: ['TIMEOUT', /timeout \(response\)/],
    reset: ['NETWORK', /ECONNRESET/],
    'html-200': ['BAD_RESPONSE', /HTML page instead of JSON/],
  };
  const signal = new AbortController().signal;
  for (const [kind, [code, message]] of Object.entries(expected)) {
    server.setFaults([kind as FaultKind]);
    const err = await client.fetch({ results: 10, seed: 'x', page: 1 }, signal).then(
      () => assert.fail(`${kind}: expected a failure`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof PipelineError, kind);
    assert.equal(err.code, code, `${kind}: ${err.message}`);
    assert.equal(err.retryable, true, kind);
    assert.match(err.message, message, kind);
    if (kind === '429-retry-after') assert.equal(err.retryAfterMs, 2000);
  }
  server.setFaults({ kind: 'none' });
  const ok = await client.fetch({ results: 10, nat: ['GB'], seed: 'x', page: 2 }, signal);
  assert.equal(ok.results.length, 10);
  assert.equal(ok.info?.page, 2);
  assert.ok(ok.results.every((u) => u.nat === 'GB'));
});

test('the HTTP client: a refused connection is NETWORK, our abort is ABORTED and quick', async (t) => {
  const server = await startRandomUserServer({ slowMs: 5000 });
  const url = server.url;
  await server.close();
  const client = new RandomUserClient({ apiUrl: url, timeouts: { connectMs: 1000, responseMs: 10_000, readMs: 1000 } });
  t.after(() => client.close());
  await assert.rejects(client.fetch({ results: 1 }, new AbortController().signal), (e) => e instanceof PipelineError && e.code === 'NETWORK');

  const slow = await startRandomUserServer({ slowMs: 5000, faults: ['slow'] });
  t.after(() => slow.close());
  const c2 = new RandomUserClient({ apiUrl: slow.url, timeouts: { connectMs: 1000, responseMs: 10_000, readMs: 1000 } });
  t.after(() => c2.close());
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort('SIGINT'), 50);
  await assert.rejects(c2.fetch({ results: 1 }, ac.signal), (e) => e instanceof PipelineError && e.code === 'ABORTED');
  assert.ok(Date.now() - started < 2000);
});

test('a body cut at any point is reported as truncated JSON, not as a parser message', () => {
  const body = JSON.stringify(generateResponse({ seed: 'cut "quotes" \\ here', page: 1, results: 3 }));
  for (let cut = 1; cut < body.length; cut += 7) {
    const e = classify(200, body.slice(0, cut), { 'content-type': json }, 3);
    assert.equal(e.message, 'truncated JSON', `cut at ${cut}: ${e.message}`);
  }
  assert.equal(endsInsideValue(body), false);
  assert.equal(endsInsideValue('{"a":"\\"}'), true, 'an escaped quote does not close the string');
});
