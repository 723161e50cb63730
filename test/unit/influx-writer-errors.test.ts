import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineError } from '../../src/core/errors.ts';
import {
  MAX_MESSAGE_CHARS,
  namedBadLines,
  parseDropped,
  parseInfluxErrorBody,
  writeStatusError,
} from '../../src/clients/influx-errors.ts';

// Bodies in the shapes the servers document (1.8 handler.go / points.go, 2.x OpenAPI LineProtocolError,
// 3.x write_lp partial-write errors); written here by hand.
const ctx = { bucket: 'userpipe', url: 'http://127.0.0.1:8086' };

describe('parseInfluxErrorBody', () => {
  it('reads the 1.8 shape', () => {
    assert.deepEqual(parseInfluxErrorBody('{"error":"database not found: \\"x\\""}\n'), { message: 'database not found: "x"' });
  });

  it('reads the 2.x shape with code and line', () => {
    assert.deepEqual(parseInfluxErrorBody('{"code":"invalid","message":"unable to parse \'m f\': invalid field format","line":2}'), {
      code: 'invalid',
      message: "unable to parse 'm f': invalid field format",
      line: 2,
    });
  });

  it('reads the 3.x shape with per-line data', () => {
    const body = parseInfluxErrorBody(
      JSON.stringify({
        error: 'partial write of line protocol occurred',
        data: [{ original_line: 'bad', line_number: 2, error_message: 'No fields were provided' }, { nope: 1 }],
      }),
    );
    assert.equal(body.message, 'partial write of line protocol occurred');
    assert.deepEqual(body.lines, [{ lineNumber: 2, message: 'No fields were provided', original: 'bad' }]);
  });

  it('keeps non-JSON text (a proxy page) as the message', () => {
    assert.deepEqual(parseInfluxErrorBody('<html>502 Bad Gateway</html>'), { message: '<html>502 Bad Gateway</html>' });
    assert.deepEqual(parseInfluxErrorBody('{broken'), { message: '{broken' });
  });
});

describe('parseDropped', () => {
  it('reads dropped=N of 1.8 and 2.x partial writes', () => {
    assert.equal(parseDropped('partial write: points beyond retention policy dropped=3'), 3);
    assert.equal(
      parseDropped('partial write: field type conflict: input field "postcode" on measurement "users" is type string, already exists as type integer dropped=5000'),
      5000,
    );
    assert.equal(parseDropped('unable to parse'), undefined);
  });
});

describe('namedBadLines', () => {
  const chunk = ['m a=1i 1', "m,t=x f=\"it's': tricky\" 2", 'garbage', 'm a=2i 3', 'garbage'];

  it('finds every line 1.8 quotes, even when a line contains the quote-colon separator', () => {
    const message =
      "partial write: unable to parse 'm,t=x f=\"it's': tricky\" 2': invalid boolean\nunable to parse 'garbage': missing fields dropped=0";
    const named = namedBadLines({ message }, chunk);
    assert.deepEqual([...named.keys()].sort(), [1, 2, 4]);
    assert.equal(named.get(1), 'unable to parse line: invalid boolean');
    assert.equal(named.get(2), 'unable to parse line: missing fields');
  });

  it('uses the 2.x first-bad-line number and the 3.x per-line list (checking original_line)', () => {
    assert.deepEqual([...namedBadLines({ message: 'x', line: 3 }, chunk)], [[2, 'x']]);
    assert.equal(namedBadLines({ message: 'x', line: 99 }, chunk).size, 0);
    const named = namedBadLines(
      { message: 'partial', lines: [{ lineNumber: 3, message: 'no fields', original: 'garbage' }, { lineNumber: 1, message: 'y', original: 'not line 1' }] },
      chunk,
    );
    assert.deepEqual([...named], [[2, 'no fields']]);
  });

  it('names nothing for a message that quotes no line of the chunk', () => {
    assert.equal(namedBadLines({ message: "unable to parse 'other': missing fields" }, chunk).size, 0);
    assert.equal(namedBadLines({ message: 'partial write: dropped=1' }, chunk).size, 0);
  });

  it('truncates long messages', () => {
    const long = 'z'.repeat(10_000);
    const named = namedBadLines({ message: `unable to parse 'garbage': ${long}` }, chunk);
    assert.ok((named.get(2) as string).length < MAX_MESSAGE_CHARS + 100);
  });
});

describe('writeStatusError', () => {
  const classify = (status: number, message: string, retryAfter?: string): PipelineError =>
    writeStatusError(status, { message }, { ...ctx, retryAfter });

  it('400, 413 and 422 are REJECTED and not retryable, carrying the parsed body', () => {
    for (const s of [400, 413, 422]) {
      const e = classify(s, 'partial write: dropped=1');
      assert.equal(e.code, 'REJECTED');
      assert.equal(e.retryable, false);
      assert.equal((e.details.influx as { message: string }).message, 'partial write: dropped=1');
      assert.equal(e.details.status, s);
    }
  });

  it('a 400 about the request itself is a CONFIG error, not data to split', () => {
    const e = classify(400, 'Please provide either orgID or org');
    assert.equal(e.code, 'CONFIG');
    assert.equal(e.retryable, false);
  });

  it('401/403 are AUTH, 404 NOT_FOUND: fatal with a message naming the cause', () => {
    const a = classify(401, 'authorization failed');
    assert.equal(a.code, 'AUTH');
    assert.equal(a.retryable, false);
    assert.match(a.message, /rejected the token.*authorization failed.*bucket "userpipe"/);
    const f = classify(403, 'insufficient permissions for write');
    assert.equal(f.code, 'AUTH');
    assert.match(f.message, /may not write to bucket "userpipe"/);
    const n = classify(404, 'database not found: "nope"');
    assert.equal(n.code, 'NOT_FOUND');
    assert.equal(n.retryable, false);
    assert.match(n.message, /database not found: "nope"/);
    assert.match(n.message, /CREATE DATABASE/);
  });

  it('429 and 5xx are retryable, with Retry-After read in SECONDS', () => {
    const r = classify(429, 'too many requests', '7');
    assert.equal(r.code, 'RATE_LIMITED');
    assert.equal(r.retryable, true);
    assert.equal(r.retryAfterMs, 7000);
    const u = classify(503, 'unavailable', '2');
    assert.equal(u.code, 'UNAVAILABLE');
    assert.equal(u.retryAfterMs, 2000);
    const i = classify(500, 'timeout');
    assert.equal(i.code, 'UNAVAILABLE');
    assert.equal(i.retryable, true);
    assert.equal(i.retryAfterMs, undefined);
  });

  it('any other status is a configuration problem (wrong URL, proxy)', () => {
    const e = classify(405, 'method not allowed');
    assert.equal(e.code, 'CONFIG');
    assert.match(e.message, /--influx-url/);
  });
});
