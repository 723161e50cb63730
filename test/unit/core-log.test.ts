import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, silentLogger, type LoggerOptions } from '../../src/core/log.ts';

function capture(options: LoggerOptions = {}): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ write: (l) => lines.push(l), ...options }) };
}

const json = (line: string | undefined): Record<string, unknown> => JSON.parse(line ?? 'null') as Record<string, unknown>;

void test('log: level filtering', () => {
  const { lines, log } = capture({ level: 'warn', format: 'json' });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(
    lines.map((l) => json(l).msg),
    ['w', 'e'],
  );
  assert.equal(log.level, 'warn');

  const all = capture({ level: 'debug', format: 'json' });
  all.log.debug('d');
  all.log.info('i');
  assert.equal(all.lines.length, 2);

  const def = capture({ format: 'json' });
  def.log.debug('d');
  def.log.info('i');
  assert.deepEqual(
    def.lines.map((l) => json(l).level),
    ['info'],
    'info by default',
  );

  const silent = capture({ level: 'silent' });
  silent.log.error('e');
  assert.deepEqual(silent.lines, []);
  assert.equal(silentLogger.level, 'silent');
});

void test('log: JSON format, one object per line with time, level, component, msg and fields', () => {
  const { lines, log } = capture({ format: 'json', component: 'ingest' });
  log.child('kafka').warn('send failed', { attempt: 2, offset: 10n, err: new Error('boom'), missing: undefined });
  assert.equal(lines.length, 1);
  const line = lines[0] ?? '';
  assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'exactly one line');
  const obj = json(line);
  assert.equal(obj.level, 'warn');
  assert.equal(obj.component, 'ingest.kafka');
  assert.equal(obj.msg, 'send failed');
  assert.equal(obj.attempt, 2);
  assert.equal(obj.offset, '10', 'bigint as string');
  assert.equal(obj.err, 'boom', 'Error as its message');
  assert.equal('missing' in obj, false);
  assert.ok(!Number.isNaN(Date.parse(String(obj.time))) && String(obj.time).endsWith('Z'));
  const noComponent = capture({ format: 'json' });
  noComponent.log.info('x');
  assert.equal('component' in json(noComponent.lines[0]), false);
});

void test('log: secret-looking keys are redacted, null/undefined left alone, caller object untouched', () => {
  const { lines, log } = capture({ format: 'json' });
  const fields = {
    token: 'abc',
    influxToken: 'def',
    password: 'p',
    saslPassword: 'q',
    Authorization: 'Token xyz',
    clientSecret: 's',
    user: 'alice',
    empty: null,
  };
  log.info('config', fields);
  const obj = json(lines[0]);
  for (const k of ['token', 'influxToken', 'password', 'saslPassword', 'Authorization', 'clientSecret']) {
    assert.equal(obj[k], '[redacted]', k);
  }
  assert.equal(obj.user, 'alice');
  assert.equal(obj.empty, null);
  assert.equal(fields.token, 'abc', 'the caller fields are not mutated');
  for (const secret of ['abc', 'def', 'xyz', '"p"', '"q"', '"s"']) assert.ok(!(lines[0] ?? '').includes(secret), secret);

  const text = capture({ format: 'text' });
  text.log.info('config', { password: 'hunter2', authorization: 'Bearer t0k3n' });
  assert.ok(!(text.lines[0] ?? '').includes('hunter2'));
  assert.ok(!(text.lines[0] ?? '').includes('t0k3n'));
  assert.match(text.lines[0] ?? '', /password=\[redacted\] authorization=\[redacted\]/);
});

void test('regression: log redacts secret keys nested in objects (request headers, client options)', () => {
  for (const format of ['json', 'text'] as const) {
    const { lines, log } = capture({ format });
    log.warn('request failed', {
      request: { url: 'http://influx:8086/api/v2/write', headers: { Authorization: 'Token s3cr3t', accept: 'json' } },
      sasl: { mechanism: 'plain', username: 'u', password: 'pw-leak' },
      list: [{ token: 'tk-leak' }],
    });
    const line = lines[0] ?? '';
    for (const leak of ['s3cr3t', 'pw-leak', 'tk-leak']) assert.ok(!line.includes(leak), `${format}: ${leak} in ${line}`);
    assert.ok(line.includes('api/v2/write'), `${format}: non-secret nested data kept`);
    assert.ok(line.includes('accept'), `${format}: non-secret nested key kept`);
  }
});

void test('regression: a log call never throws on nested bigint or circular fields', () => {
  for (const format of ['json', 'text'] as const) {
    const { lines, log } = capture({ format });
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    assert.doesNotThrow(() => log.error('odd fields', { nested: { offset: 12n }, circular }));
    assert.equal(lines.length, 1);
    const line = lines[0] ?? '';
    assert.ok(line.includes('12'), `${format}: nested bigint kept: ${line}`);
    assert.ok(line.includes('loop'), `${format}: circular object still shown: ${line}`);
    if (format === 'json') assert.doesNotThrow(() => json(line));
  }
  const { lines, log } = capture({ format: 'json' });
  const hostile = {
    toJSON() {
      throw new Error('no');
    },
  };
  assert.doesNotThrow(() => log.warn('hostile', { nested: { hostile } }));
  const obj = json(lines[0]);
  assert.equal(obj.msg, 'hostile', 'still a JSON line with the message');
  assert.equal(obj.logError, 'unserializable fields');
});

void test('log: text format with quoting', () => {
  const { lines, log } = capture({ format: 'text', component: 'fetch' });
  log.warn('request failed', {
    attempt: 2,
    reason: 'HTTP 503',
    plain: 'ok',
    eq: 'a=b',
    quote: 'say "hi"',
    multi: 'line1\nline2',
    obj: { a: 1 },
    ok: true,
    skipped: undefined,
    err: new Error('socket hang up'),
  });
  const line = lines[0] ?? '';
  assert.match(line, /^\d{2}:\d{2}:\d{2}\.\d{3} WARN {2}fetch: request failed /);
  assert.ok(line.endsWith('\n'));
  assert.equal(line.split('\n').length, 2, 'a newline inside a value does not break the line');
  const rest = line.slice(line.indexOf('request failed ') + 'request failed '.length, -1);
  assert.equal(
    rest,
    'attempt=2 reason="HTTP 503" plain=ok eq="a=b" quote="say \\"hi\\"" multi="line1\\nline2" obj="{\\"a\\":1}" ok=true err="socket hang up"',
  );
  const noComp = capture({ format: 'text' });
  noComp.log.error('boom');
  assert.match(noComp.lines[0] ?? '', /^\d{2}:\d{2}:\d{2}\.\d{3} ERROR boom\n$/);
});

void test('log: beforeWrite and afterWrite surround each written line only', () => {
  const events: string[] = [];
  const log = createLogger({
    level: 'info',
    write: () => events.push('write'),
    beforeWrite: () => events.push('before'),
    afterWrite: () => events.push('after'),
  });
  log.debug('filtered');
  log.info('x');
  assert.deepEqual(events, ['before', 'write', 'after']);
});
