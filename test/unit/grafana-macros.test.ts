/**
 * Grafana's backend macro substitution as reproduced in test/support/grafana-macros.ts. Expected values come
 * from Grafana's own code and tests (pkg/tsdb/influxdb/models/query.go, flux/macros_test.go, intervalv2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  calculateIntervalMs,
  formatInterval,
  goDurationString,
  interpolateFlux,
  interpolateInfluxQL,
  parseGrafanaDuration,
  parseRelativeTime,
  rfc3339Nano,
  roundIntervalMs,
} from '../support/grafana-macros.ts';

describe('grafana macros: interval', () => {
  it('rounds like intervalv2.roundInterval', () => {
    const cases: [number, number][] = [
      [5, 1], [10, 1], [11, 10], [300, 200], [1_000, 1_000], [1_500, 1_000], [1_501, 2_000], [3_750, 5_000],
      [12_000, 10_000], [20_000, 20_000], [40_000, 30_000], [61_000, 60_000], [100_000, 120_000], [400_000, 300_000],
      [3_600_000, 3_600_000], [86_400_000, 43_200_000], [100_000_000, 86_400_000], [4_000_000_000, 31_536_000_000],
    ];
    for (const [raw, rounded] of cases) assert.equal(roundIntervalMs(raw), rounded, `roundInterval(${raw})`);
  });

  it('formats like gtime.FormatInterval (truncating to the largest unit)', () => {
    assert.equal(formatInterval(0), '1ms');
    assert.equal(formatInterval(500), '500ms');
    assert.equal(formatInterval(1_000), '1s');
    assert.equal(formatInterval(90_000), '1m');
    assert.equal(formatInterval(3_600_000), '1h');
    assert.equal(formatInterval(2 * 86_400_000), '2d');
    assert.equal(formatInterval(400 * 86_400_000), '1y');
  });

  it("formats v.windowPeriod like Go's time.Duration.String", () => {
    assert.equal(goDurationString(1_000), '1s');
    assert.equal(goDurationString(500), '500ms');
    assert.equal(goDurationString(1_500), '1.5s');
    assert.equal(goDurationString(60_000), '1m0s');
    assert.equal(goDurationString(90_500), '1m30.5s');
    assert.equal(goDurationString(3_600_000), '1h0m0s');
    assert.equal(goDurationString(86_400_000), '24h0m0s');
    assert.equal(goDurationString(0), '0s');
  });

  it('computes the interval from range / maxDataPoints, never below the minimum', () => {
    const hour = { fromMs: 0, toMs: 3_600_000 };
    assert.equal(calculateIntervalMs({ ...hour, maxDataPoints: 960 }), 5_000); // 3.75 s -> 5 s
    assert.equal(calculateIntervalMs({ ...hour, maxDataPoints: 960, minIntervalMs: 10_000 }), 10_000);
    assert.equal(calculateIntervalMs({ ...hour, maxDataPoints: 43_200, minIntervalMs: 1_000 }), 1_000);
    assert.equal(calculateIntervalMs({ fromMs: 0, toMs: 10, maxDataPoints: 1_000 }), 1); // at least 1 ms
  });

  it('parses Grafana durations and relative times', () => {
    assert.equal(parseGrafanaDuration('10s'), 10_000);
    assert.equal(parseGrafanaDuration('>1m'), 60_000);
    assert.equal(parseGrafanaDuration('30'), 30_000);
    assert.equal(parseGrafanaDuration('500ms'), 500);
    assert.throws(() => parseGrafanaDuration('ten seconds'));
    assert.equal(parseRelativeTime('now', 1_000_000), 1_000_000);
    assert.equal(parseRelativeTime('now-1h', 10_000_000), 6_400_000);
    assert.throws(() => parseRelativeTime('now/d', 0), /unsupported/);
  });
});

describe('grafana macros: InfluxQL (Query.Build)', () => {
  const range = { fromMs: 1_500_376_552_001.9, toMs: 1_500_380_152_001 };

  it('substitutes $timeFilter with epoch milliseconds and both interval spellings', () => {
    const q = 'SELECT count("uuid") * 60000 / $__interval_ms FROM "users" WHERE $timeFilter GROUP BY time($__interval), time($interval)';
    assert.equal(
      interpolateInfluxQL(q, range, 60_000),
      'SELECT count("uuid") * 60000 / 60000 FROM "users" WHERE time >= 1500376552001ms and time <= 1500380152001ms GROUP BY time(1m), time(1m)',
    );
  });

  it('leaves macros the backend does not know untouched', () => {
    const q = 'SELECT 1 FROM "users" WHERE $__timeFilter AND "nat" = \'$nat\'';
    assert.equal(interpolateInfluxQL(q, range, 1_000), q);
  });
});

describe('grafana macros: Flux (flux/macros.go)', () => {
  it("matches Grafana's own TestInterpolate", () => {
    const before = 'v.timeRangeStart, something.timeRangeStop, XYZ.bucket, uuUUu.defaultBucket, aBcDefG.organization, window.windowPeriod, a91{}.bucket';
    const after = '1970-01-01T00:00:00Z, 1970-01-01T00:00:00Z, "grafana2", "grafana3", "grafana1", 1s, a91{}.bucket';
    assert.equal(interpolateFlux(before, { fromMs: 0, toMs: 0 }, 1_000, { organization: 'grafana1', bucket: 'grafana2', defaultBucket: 'grafana3' }), after);
  });

  it('prints RFC3339Nano times and substitutes $__interval_ms after the v.* names', () => {
    const q = 'from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> aggregateWindow(every: v.windowPeriod, fn: count) |> map(fn: (r) => ({ r with _value: r._value / $__interval_ms }))';
    const out = interpolateFlux(q, { fromMs: Date.UTC(2026, 0, 2, 3, 4, 5, 120), toMs: Date.UTC(2026, 0, 2, 4, 4, 5) }, 10_000, { defaultBucket: 'userpipe/autogen' });
    assert.equal(
      out,
      'from(bucket: "userpipe/autogen") |> range(start: 2026-01-02T03:04:05.12Z, stop: 2026-01-02T04:04:05Z) |> aggregateWindow(every: 10s, fn: count) |> map(fn: (r) => ({ r with _value: r._value / 10000 }))',
    );
    assert.equal(rfc3339Nano(Date.UTC(2026, 0, 1)), '2026-01-01T00:00:00Z');
    assert.equal(rfc3339Nano(Date.UTC(2026, 0, 1, 0, 0, 0, 5)), '2026-01-01T00:00:00.005Z');
  });
});
