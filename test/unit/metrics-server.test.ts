import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stats } from '../../src/core/stats.ts';
import { startMetricsServer } from '../../src/cli/metrics-server.ts';

test('metrics server: per-stage counters move between scrapes; probes answer', async () => {
  const stats = new Stats();
  let ready = false;
  const server = await startMetricsServer({ port: 0, stats, ready: () => ready });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    stats.stage('ingest').out = 5;
    stats.gauge('process', { lag: () => 42, queueFill: () => 0.5 });
    stats.observeLatency('process', 0.2);
    const first = await (await fetch(`${base}/metrics`)).text();
    assert.match(first, /userpipe_records_out_total\{stage="ingest"\} 5/);
    assert.match(first, /userpipe_consumer_lag\{stage="process"\} 42/);
    assert.match(first, /userpipe_queue_fill_ratio\{stage="process"\} 0.5/);
    assert.match(first, /userpipe_write_latency_seconds_count\{stage="process"\} 1/);
    stats.stage('ingest').out = 12;
    const second = await (await fetch(`${base}/metrics`)).text();
    assert.match(second, /userpipe_records_out_total\{stage="ingest"\} 12/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});
