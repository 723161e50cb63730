/**
 * The macro substitution Grafana's InfluxDB backend performs on a query before sending it, reproduced so a
 * test runs exactly the text Grafana would send (pure functions, no I/O).
 *
 * Sources (grafana/grafana):
 * - InfluxQL: `pkg/tsdb/influxdb/models/query.go` `Query.Build`: plain `strings.ReplaceAll`, in this order:
 *   `$timeFilter` -> `time >= <from>ms and time <= <to>ms` (epoch milliseconds, truncated), `$interval` ->
 *   `gtime.FormatInterval(interval)`, `$__interval_ms` -> the interval in whole milliseconds, `$__interval` ->
 *   `FormatInterval` again. Nothing else is substituted: `$__timeFilter`, `$__from`, dashboard variables...
 *   reach InfluxDB as typed (the frontend replaces dashboard variables, alerting does not).
 * - Flux: `pkg/tsdb/influxdb/flux/macros.go`: every match of `([a-zA-Z]+)\.([a-zA-Z]+)` whose second part is
 *   `timeRangeStart` / `timeRangeStop` (RFC3339Nano UTC), `windowPeriod` (Go's `time.Duration.String()`,
 *   e.g. `1m0s`), `bucket` / `defaultBucket` / `organization` (double-quoted datasource settings) is replaced
 *   everywhere; then `$__interval_ms` and `$__interval` as for InfluxQL.
 * - The interval: `pkg/tsdb/intervalv2` (same table as the frontend's `rangeUtil.calculateInterval`):
 *   `(to - from) / maxDataPoints`, rounded to a "nice" step, never below the panel's or datasource's minimum.
 */

/** Grafana's `roundInterval`: maps a raw interval (ms) to the nice step it displays. */
export function roundIntervalMs(ms: number): number {
  const steps: [number, number][] = [
    [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1_500, 1_000], [3_500, 2_000],
    [7_500, 5_000], [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000],
    [210_000, 120_000], [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000],
    [2_700_000, 1_800_000], [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000],
    [32_400_000, 21_600_000], [86_400_000, 43_200_000], [172_800_000, 86_400_000], [604_800_000, 86_400_000],
    [1_814_400_000, 604_800_000],
  ];
  for (const [limit, step] of steps) if (ms <= limit) return step;
  return ms < 3_628_800_000 ? 2_592_000_000 : 31_536_000_000;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/** `gtime.FormatInterval`: the largest whole unit, truncated (`90s` -> `1m`). */
export function formatInterval(ms: number): string {
  if (ms >= YEAR) return `${Math.floor(ms / YEAR)}y`;
  if (ms >= DAY) return `${Math.floor(ms / DAY)}d`;
  if (ms >= HOUR) return `${Math.floor(ms / HOUR)}h`;
  if (ms >= MINUTE) return `${Math.floor(ms / MINUTE)}m`;
  if (ms >= SECOND) return `${Math.floor(ms / SECOND)}s`;
  if (ms >= 1) return `${Math.floor(ms)}ms`;
  return '1ms';
}

/** Go's `time.Duration.String()` for a whole number of milliseconds: `1h0m0s`, `1m30s`, `2s`, `1.5s`, `500ms`. */
export function goDurationString(ms: number): string {
  const whole = Math.trunc(ms);
  if (whole === 0) return '0s';
  const sign = whole < 0 ? '-' : '';
  const abs = Math.abs(whole);
  if (abs < SECOND) return `${sign}${abs}ms`;
  const h = Math.floor(abs / HOUR);
  const m = Math.floor((abs % HOUR) / MINUTE);
  const sMs = abs % MINUTE;
  const s = sMs % SECOND === 0 ? String(sMs / SECOND) : (sMs / SECOND).toString();
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/**
 * A Grafana duration as used for a panel's or datasource's minimum interval (`10s`, `1m`, `500ms`, `1d`,
 * `>10s`; a bare number means seconds). Returns milliseconds; throws on anything else.
 */
export function parseGrafanaDuration(text: string): number {
  const t = text.replace(/^[<>]/, '').trim();
  if (/^\d+$/.test(t)) return Number(t) * SECOND;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/.exec(t);
  if (m === null) throw new Error(`not a Grafana duration: ${JSON.stringify(text)}`);
  const units: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY, y: YEAR };
  return Math.round(Number(m[1]) * (units[m[2] as string] as number));
}

/**
 * A relative Grafana time expression (`now`, `now-1h`, `now-15m`, `now-7d`) against `nowMs`. Rounding
 * suffixes (`now/d`) are not supported and throw, so a dashboard using them is noticed rather than misread.
 */
export function parseRelativeTime(expr: string, nowMs: number): number {
  if (expr === 'now') return nowMs;
  const m = /^now-(\d+)(ms|s|m|h|d|w|y)$/.exec(expr);
  if (m === null) throw new Error(`unsupported Grafana time expression: ${JSON.stringify(expr)}`);
  return nowMs - parseGrafanaDuration(`${m[1]}${m[2]}`);
}

export interface IntervalInput {
  fromMs: number;
  toMs: number;
  /** The panel's `maxDataPoints`, else its width in pixels (what the frontend sends). */
  maxDataPoints: number;
  /** The panel's `interval` or the datasource's `timeInterval`, in ms; 0 when neither is set. */
  minIntervalMs?: number;
}

/** The interval (ms) Grafana gives a query: the rounded range / maxDataPoints, at least the minimum and 1 ms. */
export function calculateIntervalMs(input: IntervalInput): number {
  const resolution = input.maxDataPoints > 0 ? input.maxDataPoints : 1_500;
  const raw = Math.trunc((input.toMs - input.fromMs) / resolution);
  const min = input.minIntervalMs ?? 0;
  const interval = raw < min ? min : roundIntervalMs(raw);
  return Math.max(1, interval);
}

export interface TimeRangeMs {
  fromMs: number;
  toMs: number;
}

/** InfluxQL as Grafana's backend sends it (`Query.Build` for a raw query). */
export function interpolateInfluxQL(query: string, range: TimeRangeMs, intervalMs: number): string {
  const text = formatInterval(intervalMs);
  const timeFilter = `time >= ${Math.trunc(range.fromMs)}ms and time <= ${Math.trunc(range.toMs)}ms`;
  return query
    .replaceAll('$timeFilter', timeFilter)
    .replaceAll('$interval', text)
    .replaceAll('$__interval_ms', String(Math.trunc(intervalMs)))
    .replaceAll('$__interval', text);
}

export interface FluxSettings {
  /** The datasource's default bucket (`jsonData.defaultBucket`); on InfluxDB 1.8 `database/retention-policy`. */
  defaultBucket: string;
  /** The query's bucket option; Grafana falls back to the default bucket. */
  bucket?: string;
  organization?: string;
}

/** RFC3339 with nanoseconds as Go's `time.RFC3339Nano` prints a UTC time (trailing zeros of the fraction dropped). */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(Math.trunc(ms)).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_all, frac: string) => {
    const trimmed = frac.replace(/0+$/, '');
    return trimmed === '' ? 'Z' : `.${trimmed}Z`;
  });
}

/** Flux as Grafana's backend sends it (`flux/macros.go` `interpolate`). */
export function interpolateFlux(query: string, range: TimeRangeMs, intervalMs: number, settings: FluxSettings): string {
  let flux = query;
  const bucket = settings.bucket !== undefined && settings.bucket !== '' ? settings.bucket : settings.defaultBucket;
  for (const match of query.matchAll(/([a-zA-Z]+)\.([a-zA-Z]+)/gm)) {
    const whole = match[0];
    switch (match[2]) {
      case 'timeRangeStart':
        flux = flux.replaceAll(whole, rfc3339Nano(range.fromMs));
        break;
      case 'timeRangeStop':
        flux = flux.replaceAll(whole, rfc3339Nano(range.toMs));
        break;
      case 'windowPeriod':
        flux = flux.replaceAll(whole, goDurationString(intervalMs));
        break;
      case 'bucket':
        flux = flux.replaceAll(whole, `"${bucket}"`);
        break;
      case 'defaultBucket':
        flux = flux.replaceAll(whole, `"${settings.defaultBucket}"`);
        break;
      case 'organization':
        flux = flux.replaceAll(whole, `"${settings.organization ?? ''}"`);
        break;
      default:
        break;
    }
  }
  const text = formatInterval(intervalMs);
  return flux.replaceAll('$__interval_ms', String(Math.trunc(intervalMs))).replaceAll('$__interval', text);
}

/** Macros each language's backend substitutes; anything else starting with `$` survives into the query. */
export const INFLUXQL_MACROS = ['$timeFilter', '$__interval_ms', '$__interval', '$interval'] as const;
export const FLUX_MACROS = ['v.timeRangeStart', 'v.timeRangeStop', 'v.windowPeriod', 'v.defaultBucket', '$__interval_ms', '$__interval'] as const;
