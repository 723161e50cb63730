import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stats } from '../../src/core/stats.ts';

void test('Stats.stage: created at zero once, then the same live object', () => {
  const s = new Stats();
  const a = s.stage('ingest');
  assert.deepEqual(a, { in: 0, out: 0, errors: 0, retries: 0, bytes: 0 });
  a.in += 3;
  a.bytes += 100;
  assert.equal(s.stage('ingest'), a);
  assert.equal(s.stage('ingest').in, 3);
  assert.notEqual(s.stage('archive'), a);
  assert.deepEqual([...s.stages.keys()], ['ingest', 'archive']);
});

void test('Stats.gauge: merges gauges per stage', () => {
  const s = new Stats();
  s.gauge('process', { queueFill: () => 0.5 });
  s.gauge('process', { lag: () => 42 });
  const g = s.gauges.get('process');
  assert.equal(g?.queueFill?.(), 0.5);
  assert.equal(g?.lag?.(), 42);
  s.gauge('process', { lag: () => 7 });
  assert.equal(s.gauges.get('process')?.lag?.(), 7, 'a later gauge replaces the same kind');
  assert.equal(s.gauges.get('process')?.queueFill?.(), 0.5);
});

void test('Stats.observeLatency: every listener sees every sample', () => {
  const s = new Stats();
  const a: Array<[string, number]> = [];
  const b: number[] = [];
  s.observeLatency('archive', 0.1); // no listener: nothing to do, no error
  s.latencyListeners.push((stage, sec) => a.push([stage, sec]));
  s.latencyListeners.push((_stage, sec) => b.push(sec));
  s.observeLatency('archive', 0.25);
  s.observeLatency('process', 1.5);
  assert.deepEqual(a, [
    ['archive', 0.25],
    ['process', 1.5],
  ]);
  assert.deepEqual(b, [0.25, 1.5]);
  assert.ok(Math.abs(s.startedAt - Date.now()) < 60_000);
});
