import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  PipelineError,
  errorMessage,
  isAbortError,
  isRetryable,
  toPipelineError,
  type ErrorCode,
} from '../../src/core/errors.ts';

void test('PipelineError: retryable by default only for transient codes', () => {
  const retryable: ErrorCode[] = ['NETWORK', 'TIMEOUT', 'RATE_LIMITED', 'UNAVAILABLE', 'BAD_RESPONSE'];
  const fatal: ErrorCode[] = ['CONFIG', 'USAGE', 'INVALID_INPUT', 'AUTH', 'NOT_FOUND', 'REJECTED', 'ABORTED', 'INTERNAL'];
  for (const code of retryable) assert.equal(new PipelineError(code, 'x').retryable, true, code);
  for (const code of fatal) assert.equal(new PipelineError(code, 'x').retryable, false, code);
});

void test('PipelineError: options override the default and are kept', () => {
  const cause = new Error('root');
  const e = new PipelineError('NETWORK', 'boom', { retryable: false, retryAfterMs: 1500, cause, details: { status: 503 } });
  assert.equal(e.retryable, false);
  assert.equal(e.retryAfterMs, 1500);
  assert.equal(e.cause, cause);
  assert.deepEqual(e.details, { status: 503 });
  assert.equal(e.name, 'PipelineError');
  assert.equal(e.message, 'boom');
  assert.ok(e instanceof Error);
  const plain = new PipelineError('AUTH', 'no');
  assert.equal(plain.retryAfterMs, undefined);
  assert.deepEqual(plain.details, {});
  assert.equal('cause' in plain, false);
  assert.equal(new PipelineError('INVALID_INPUT', 'x', { retryable: true }).retryable, true);
});

void test('ConfigError: code CONFIG, never retryable, is a PipelineError', () => {
  const e = new ConfigError('bad flag', { key: 'brokers' });
  assert.ok(e instanceof PipelineError);
  assert.equal(e.code, 'CONFIG');
  assert.equal(e.retryable, false);
  assert.equal(e.name, 'ConfigError');
  assert.deepEqual(e.details, { key: 'brokers' });
});

void test('isRetryable: PipelineError flag, retryable syscall codes, nothing else', () => {
  assert.equal(isRetryable(new PipelineError('UNAVAILABLE', 'x')), true);
  assert.equal(isRetryable(new PipelineError('UNAVAILABLE', 'x', { retryable: false })), false);
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET']) {
    assert.equal(isRetryable(Object.assign(new Error(code), { code })), true, code);
  }
  assert.equal(isRetryable(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
  assert.equal(isRetryable(new Error('plain bug')), false);
  assert.equal(isRetryable(new TypeError('x is not a function')), false);
  assert.equal(isRetryable(null), false);
  assert.equal(isRetryable(undefined), false);
  assert.equal(isRetryable('ECONNRESET'), false);
});

void test('toPipelineError: keeps PipelineErrors, classifies abort and syscall errors, falls back', () => {
  const pe = new PipelineError('AUTH', 'x');
  assert.equal(toPipelineError(pe), pe);

  const abort = new DOMException('aborted', 'AbortError');
  const a = toPipelineError(abort);
  assert.equal(a.code, 'ABORTED');
  assert.equal(a.cause, abort);

  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  const n = toPipelineError(reset);
  assert.equal(n.code, 'NETWORK');
  assert.equal(n.retryable, true);
  assert.match(n.message, /ECONNRESET: socket hang up/);
  assert.equal(n.cause, reset);

  const bug = new TypeError('oops');
  const i = toPipelineError(bug);
  assert.equal(i.code, 'INTERNAL');
  assert.equal(i.retryable, false);
  assert.equal(i.message, 'oops');
  assert.equal(toPipelineError('a string', 'BAD_RESPONSE').code, 'BAD_RESPONSE');
  assert.equal(toPipelineError('a string').message, 'a string');
});

void test('isAbortError: AbortError name, ABORT_ERR code, ABORTED PipelineError', () => {
  assert.equal(isAbortError(new DOMException('x', 'AbortError')), true);
  assert.equal(isAbortError(Object.assign(new Error('x'), { code: 'ABORT_ERR' })), true);
  assert.equal(isAbortError(new PipelineError('ABORTED', 'x')), true);
  assert.equal(isAbortError(new PipelineError('TIMEOUT', 'x')), false);
  assert.equal(isAbortError(new Error('x')), false);
  assert.equal(isAbortError(null), false);
  const ac = new AbortController();
  ac.abort();
  assert.equal(isAbortError(ac.signal.reason), true);
});

void test('errorMessage: Error message or String()', () => {
  assert.equal(errorMessage(new Error('m')), 'm');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
});
