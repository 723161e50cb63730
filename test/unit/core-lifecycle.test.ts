import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { Lifecycle, runAll } from '../../src/core/lifecycle.ts';
import { sleep } from '../../src/core/sleep.ts';

/** Resolves when `signal` fires, or after `ms` (a ref'd timer keeps the process alive: the drain timer is unref'd). */
async function firedWithin(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return true;
  const ac = new AbortController();
  const fired = new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(true), { once: true }));
  const timeout = sleep(ms, ac.signal).then(
    () => false,
    () => true,
  );
  const r = await Promise.race([fired, timeout]);
  ac.abort();
  return r;
}

const drainTimer = (lc: Lifecycle): unknown => (lc as unknown as { drainTimer: unknown }).drainTimer;

void test('Lifecycle: softStop fires stop, not abort; idempotent', () => {
  const lc = new Lifecycle();
  assert.equal(lc.stop.aborted, false);
  assert.equal(lc.abort.aborted, false);
  lc.softStop('SIGTERM');
  assert.equal(lc.stop.aborted, true);
  assert.equal(lc.stop.reason, 'SIGTERM');
  assert.equal(lc.abort.aborted, false);
  lc.softStop('again');
  assert.equal(lc.stop.reason, 'SIGTERM', 'the first reason is kept');
  lc.dispose();
});

void test('Lifecycle: a drain that does not finish in drainTimeoutMs escalates to abort', { timeout: 10_000 }, async () => {
  const lc = new Lifecycle({ drainTimeoutMs: 50 });
  const t0 = performance.now();
  lc.softStop();
  assert.equal(lc.abort.aborted, false, 'not at once');
  assert.equal(await firedWithin(lc.abort, 5000), true, 'escalated');
  assert.ok(performance.now() - t0 >= 45, `escalated after ${performance.now() - t0} ms`);
  assert.equal(lc.abort.reason, 'drain timeout');
  assert.equal(drainTimer(lc), undefined);
});

void test('Lifecycle: dispose() after a finished drain cancels the escalation', { timeout: 10_000 }, async () => {
  const lc = new Lifecycle({ drainTimeoutMs: 20 });
  lc.softStop();
  assert.notEqual(drainTimer(lc), undefined);
  lc.dispose();
  assert.equal(drainTimer(lc), undefined);
  assert.equal(await firedWithin(lc.abort, 150), false);
});

void test('Lifecycle: no drain timer with drainTimeoutMs = Infinity', () => {
  const lc = new Lifecycle({ drainTimeoutMs: Infinity });
  lc.softStop();
  assert.equal(drainTimer(lc), undefined);
  assert.equal(lc.abort.aborted, false);
});

void test('Lifecycle: hardAbort fires both signals and clears the drain timer', () => {
  const lc = new Lifecycle({ drainTimeoutMs: 10_000 });
  lc.hardAbort('SIGINT twice');
  assert.equal(lc.stop.aborted, true);
  assert.equal(lc.abort.aborted, true);
  assert.equal(lc.abort.reason, 'SIGINT twice');
  assert.equal(lc.stop.reason, 'SIGINT twice');
  lc.hardAbort('again');
  assert.equal(lc.abort.reason, 'SIGINT twice');

  const lc2 = new Lifecycle({ drainTimeoutMs: 10_000 });
  lc2.softStop('stop');
  assert.notEqual(drainTimer(lc2), undefined);
  lc2.hardAbort('abort');
  assert.equal(drainTimer(lc2), undefined, 'no escalation left pending after an abort');
  assert.equal(lc2.stop.reason, 'stop');
  assert.equal(lc2.abort.reason, 'abort');
});

void test('Lifecycle: a child follows its parent, not the other way round', () => {
  const parent = new Lifecycle({ drainTimeoutMs: Infinity });
  const child = new Lifecycle({ parent, drainTimeoutMs: Infinity });
  child.softStop('child only');
  assert.equal(parent.stop.aborted, false, 'a child stop does not stop the parent');

  const child2 = new Lifecycle({ parent, drainTimeoutMs: Infinity });
  parent.softStop('parent stop');
  assert.equal(child2.stop.aborted, true);
  assert.equal(child2.stop.reason, 'parent stop');
  assert.equal(child2.abort.aborted, false);
  parent.hardAbort('parent abort');
  assert.equal(child2.abort.aborted, true);
  assert.equal(child2.abort.reason, 'parent abort');
  assert.equal(child.abort.aborted, true);
});

void test('Lifecycle: a child of an already stopped or aborted parent starts that way', () => {
  const stopped = new Lifecycle({ drainTimeoutMs: Infinity });
  stopped.softStop('s');
  const c1 = new Lifecycle({ parent: stopped, drainTimeoutMs: Infinity });
  assert.equal(c1.stop.aborted, true);
  assert.equal(c1.abort.aborted, false);
  const aborted = new Lifecycle();
  aborted.hardAbort('a');
  const c2 = new Lifecycle({ parent: aborted });
  assert.equal(c2.stop.aborted, true);
  assert.equal(c2.abort.aborted, true);
  assert.equal(c2.abort.reason, 'a');
});

void test('Lifecycle: a child drain timeout escalates the child only', { timeout: 10_000 }, async () => {
  const parent = new Lifecycle({ drainTimeoutMs: Infinity });
  const child = new Lifecycle({ parent, drainTimeoutMs: 20 });
  parent.softStop();
  assert.equal(await firedWithin(child.abort, 5000), true);
  assert.equal(parent.abort.aborted, false);
});

void test('runAll: resolves when all tasks succeed, without stopping', { timeout: 10_000 }, async () => {
  const lc = new Lifecycle();
  const done: number[] = [];
  await runAll(
    [1, 2, 3].map((n) => async () => {
      await tick();
      done.push(n);
    }),
    lc,
  );
  assert.deepEqual(done.sort(), [1, 2, 3]);
  assert.equal(lc.stop.aborted, false);
});

void test('runAll: the first failure is rethrown after all tasks settled; the others are soft-stopped', { timeout: 10_000 }, async () => {
  const lc = new Lifecycle({ drainTimeoutMs: 10_000 });
  const first = new Error('first');
  const second = new Error('second');
  let drained = false;
  let sawAbort = false;
  let sawStop = false;
  const waitsForStop = async (life: Lifecycle): Promise<void> => {
    sawStop = await firedWithin(life.stop, 3000);
    sawAbort = life.abort.aborted;
    await sleep(20); // drains a little after the stop
    drained = true;
  };
  const failsFirst = async (): Promise<void> => {
    await tick();
    throw first;
  };
  const failsLater = async (life: Lifecycle): Promise<void> => {
    await firedWithin(life.stop, 3000);
    throw second;
  };
  await assert.rejects(runAll([waitsForStop, failsLater, failsFirst], lc), (e) => e === first);
  assert.equal(sawStop, true, 'the other tasks were stopped');
  assert.equal(drained, true, 'runAll waited for the draining task');
  assert.equal(sawAbort, false, 'a soft stop, not an abort');
  assert.equal(lc.stop.reason, 'task failed');
  lc.dispose();
});
