import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import { jsonErrorMessage, jsonErrorOffset, positionAt } from '../../src/transforms/json-error-position.ts';
import { firstInvalidUtf8, parseSpoolFile, type SpoolParse } from '../../src/transforms/spool-format.ts';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const response = (results = 3, page = 1) => generateResponse({ seed: 'fmt', page, results });

function failed(p: SpoolParse): { reason: string; position: { line?: number; column?: number; byte: number } } {
  assert.equal(p.ok, false, 'expected a failure');
  if (p.ok) throw new Error('unreachable');
  return p;
}

test('jsonErrorOffset: undefined for valid JSON of every kind', () => {
  for (const s of ['{}', '[]', '1', '-0.5e+3', '"a\\u00e9\\n"', 'true', 'null', ' {"a":[1,{"b":false}],"c":"x"} ', '[[[[]]]]']) {
    assert.equal(jsonErrorOffset(s), undefined, s);
    JSON.parse(s); // the oracle agrees
  }
});

test('jsonErrorOffset: points at the first bad character, and JSON.parse fails on the same texts', () => {
  const cases: Array<[string, number]> = [
    ['not json', 1], // 'n' could start null: V8 also blames the 'o'
    ['xyz', 0],
    ['{"a":tru}', 8],
    ['{"a":1', 6],
    ['{"a":1}x', 7],
    ['{\n"a": 1,\n"b": x}', 15],
    ['', 0],
    ['{"a":"\u0001"}', 6],
    ['[1,2', 4],
    ['{"results":[{"x":1},{"y"', 24],
    ['{"a" 1}', 5],
    ['[1,]', 3],
    ['{,}', 1],
    ['"\\x"', 2],
    ['"\\u12G4"', 5],
    ['-', 1],
    ['01', 1],
  ];
  for (const [text, offset] of cases) {
    assert.throws(() => JSON.parse(text), SyntaxError, text);
    assert.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
  }
});

test('jsonErrorOffset: deep nesting does not overflow the stack', () => {
  const deep = '['.repeat(200_000) + ']'.repeat(199_999);
  assert.equal(jsonErrorOffset(deep), deep.length);
});

test('positionAt: 1-based line and column, byte offset counts UTF-8 bytes', () => {
  assert.deepEqual(positionAt('ab\ncé\nx', 6), { line: 3, column: 1, byte: 7 });
  assert.deepEqual(positionAt('abc', 0), { line: 1, column: 1, byte: 0 });
});

test('jsonErrorMessage drops the quoted copy of the input V8 appends', () => {
  let err: unknown;
  try {
    JSON.parse('x'.repeat(10_000));
  } catch (e) {
    err = e;
  }
  const msg = jsonErrorMessage(err);
  assert.ok(msg.length < 100, msg);
  assert.match(msg, /Unexpected token/);
});

test('firstInvalidUtf8: offsets of bad sequences, length when valid', () => {
  assert.equal(firstInvalidUtf8(enc('héllo €𝄞')), enc('héllo €𝄞').length);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xff, 0x62])), 1);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc3])), 1, 'truncated sequence');
  assert.equal(firstInvalidUtf8(Buffer.from([0xc0, 0x80])), 0, 'overlong');
  assert.equal(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), 0, 'surrogate');
  assert.equal(firstInvalidUtf8(Buffer.from([0x41, 0x42, 0xe2, 0x82])), 2);
});

test('parse: one response on one line (what fetch writes) keeps its own bytes as raw', () => {
  const line = JSON.stringify(response(5));
  const p = parseSpoolFile(enc(line + '\n'));
  assert.ok(p.ok);
  assert.equal(p.layout, 'response');
  assert.equal(p.records.length, 1);
  const r = p.records[0];
  assert.equal(r?.kind, 'response');
  assert.equal(r?.raw, line);
  assert.equal(r?.kind === 'response' ? r.response.results.length : 0, 5);
});

test('parse: a pretty-printed response is one response, raw compacted', () => {
  const resp = response(2);
  const p = parseSpoolFile(enc(JSON.stringify(resp, null, 2)));
  assert.ok(p.ok);
  assert.equal(p.layout, 'response');
  assert.equal(p.records[0]?.raw, JSON.stringify(resp));
});

test('parse: NDJSON of responses and users, blank lines and CRLF tolerated, line numbers kept', () => {
  const a = response(2, 1);
  const b = response(1, 2);
  const u = a.results[0];
  const text = `${JSON.stringify(a)}\r\n\r\n${JSON.stringify(u)}\n${JSON.stringify(b)}\n`;
  const p = parseSpoolFile(enc(text));
  assert.ok(p.ok);
  assert.equal(p.layout, 'ndjson');
  assert.deepEqual(p.records.map((r) => [r.kind, r.line]), [['response', 1], ['user', 3], ['response', 4]]);
  assert.equal(p.records[1]?.raw, JSON.stringify(u));
});

test('parse: one user alone is NDJSON of one user; a UTF-8 BOM is accepted', () => {
  const u = response(1).results[0];
  const p = parseSpoolFile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), enc(JSON.stringify(u))]));
  assert.ok(p.ok);
  assert.equal(p.layout, 'ndjson');
  assert.equal(p.records[0]?.kind, 'user');
});

test('parse: an empty results array is a valid response with no users', () => {
  const p = parseSpoolFile(enc('{"results":[],"info":{"seed":"x","results":1,"page":1,"version":"1.4"}}'));
  assert.ok(p.ok);
  assert.equal(p.records.length, 1);
});

test('bad: empty and whitespace-only files', () => {
  assert.match(failed(parseSpoolFile(enc(''))).reason, /^empty file/);
  assert.match(failed(parseSpoolFile(enc(' \n\t\n'))).reason, /^empty file/);
});

test('bad: not UTF-8 (binary) names the byte', () => {
  const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x89, 0x50, 0x4e, 0x47]);
  const f = failed(parseSpoolFile(bytes));
  assert.match(f.reason, /not UTF-8.*0x89/);
  assert.equal(f.position.byte, 5);
});

test('bad: binary that happens to be valid UTF-8 is not valid JSON', () => {
  const f = failed(parseSpoolFile(Buffer.from([0x00, 0x01, 0x02, 0x41])));
  assert.match(f.reason, /^not valid JSON/);
  assert.equal(f.position.byte, 0);
});

test('bad: a truncated response names where it ends', () => {
  const full = JSON.stringify(response(3));
  const cut = full.slice(0, Math.floor(full.length / 2));
  const f = failed(parseSpoolFile(enc(cut)));
  assert.match(f.reason, /^not valid JSON/);
  assert.equal(f.position.line, 1);
  assert.ok(f.position.byte >= Buffer.byteLength(cut) - 1 && f.position.byte <= Buffer.byteLength(cut), `${f.position.byte}`);
});

test('bad: a truncated last NDJSON line fails the file at that line, with its byte offset', () => {
  const l1 = JSON.stringify(response(1, 1));
  const l2 = JSON.stringify(response(1, 2));
  const text = `${l1}\n${l2.slice(0, 40)}`;
  const f = failed(parseSpoolFile(enc(text)));
  assert.match(f.reason, /^line 2 is not valid JSON/);
  assert.equal(f.position.line, 2);
  assert.ok(f.position.byte > Buffer.byteLength(l1));
});

test('bad: a pretty-printed file cut in the middle reports the whole-document error, not line 1', () => {
  const pretty = JSON.stringify(response(2), null, 2);
  const cut = pretty.slice(0, pretty.length - 30);
  const f = failed(parseSpoolFile(enc(cut)));
  assert.match(f.reason, /^not valid JSON/);
  assert.ok((f.position.line ?? 0) > 10, `line ${f.position.line}`);
});

test('bad: wrong shapes (array, number, error body, results not an array, unknown object)', () => {
  assert.match(failed(parseSpoolFile(enc('[{"name":{}}]'))).reason, /wrong shape.*array/);
  assert.match(failed(parseSpoolFile(enc('42'))).reason, /wrong shape.*number/);
  assert.match(failed(parseSpoolFile(enc('{"error":"Uh oh, something has gone wrong."}'))).reason, /wrong shape.*API error body: Uh oh/);
  assert.match(failed(parseSpoolFile(enc('{"results":{"a":1}}'))).reason, /wrong shape: not an API response/);
  assert.match(failed(parseSpoolFile(enc('{"foo":1}'))).reason, /wrong shape: neither/);
  const ndjson = `${JSON.stringify(response(1))}\n[1,2]\n`;
  const f = failed(parseSpoolFile(enc(ndjson)));
  assert.match(f.reason, /^line 2: wrong shape/);
  assert.equal(f.position.line, 2);
});
