import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { PipelineError } from '../../src/core/errors.ts';
import { abortedError, sleep, throwIfAborted } from '../../src/core/sleep.ts';

const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

void test('sleep waits at least about ms', { timeout: 10_000 }, async () => {
  const t0 = performance.now();
  await sleep(30);
  // Node may fire a timer up to ~1 ms early due to rounding; never much earlier.
  assert.ok(performance.now() - t0 >= 28, `slept ${performance.now() - t0} ms`);
});

void test('sleep(0) and negative resolve at once', { timeout: 10_000 }, async () => {
  await sleep(0);
  await sleep(-5);
});

void test('sleep rejects at once with ABORTED when the signal already fired', { timeout: 10_000 }, async () => {
  const ac = new AbortController();
  ac.abort('why');
  const before = activeTimers();
  const p = sleep(10_000, ac.signal);
  assert.equal(activeTimers(), before, 'no timer started');
  await assert.rejects(p, (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED' && e.cause === 'why');
});

void test('sleep rejects with ABORTED when aborted mid-wait and leaves no timer behind', { timeout: 10_000 }, async () => {
  const ac = new AbortController();
  const before = activeTimers();
  const p = sleep(10_000, ac.signal);
  assert.equal(activeTimers(), before + 1);
  const t0 = performance.now();
  ac.abort('stop now');
  await assert.rejects(p, (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED' && e.cause === 'stop now');
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(activeTimers(), before, 'timer cleared');
});

void test('sleep removes its abort listener once it resolves', { timeout: 10_000 }, async () => {
  const ac = new AbortController();
  const p = sleep(1, ac.signal);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  await p;
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});

void test('throwIfAborted / abortedError', () => {
  throwIfAborted(undefined);
  const ac = new AbortController();
  throwIfAborted(ac.signal);
  ac.abort('r');
  assert.throws(() => throwIfAborted(ac.signal), (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED');
  const e = abortedError(ac.signal);
  assert.equal(e.code, 'ABORTED');
  assert.equal(e.retryable, false);
  assert.equal(e.cause, 'r');
});
