/**
 * Run a dashboard's queries against a real InfluxDB exactly as Grafana's backend would send them, and report
 * every panel whose query fails or returns nothing. Used by the integration test.
 *
 * Grafana's own limits on a Flux result are applied too (`flux/executor.go`, `flux/builder.go`): at most
 * `maxSeries` tables and at most 1.5 x maxDataPoints rows per table, otherwise the panel shows an error.
 */
import {
  type CheckFailure,
  type GrafanaDashboard,
  type GrafanaPanel,
  type ProvisionedDatasource,
  type QueryLanguage,
  geomapCoordinateFields,
  panelTargets,
  resolveDatasourceUid,
} from './grafana-dashboard.ts';
import { type QueryResult, runFlux, runInfluxQL } from './grafana-influx-http.ts';
import { type TimeRangeMs, calculateIntervalMs, interpolateFlux, interpolateInfluxQL, parseGrafanaDuration } from './grafana-macros.ts';

/** Macro-looking text left in a query after substitution: `$name`, `${name}`, and for Flux `v.name`. */
export function leftoverMacros(query: string, language: QueryLanguage): string[] {
  const found = new Set<string>();
  for (const m of query.matchAll(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g)) found.add(m[0]);
  if (language === 'flux') for (const m of query.matchAll(/\bv\.[A-Za-z]+/g)) found.add(m[0]);
  return [...found];
}

export interface QueryContext {
  url: string;
  /** Database InfluxQL targets run on (Grafana's `db` = the datasource's dbName). */
  db: string;
  /** Flux `v.defaultBucket` (on InfluxDB 1.8 `database/retention-policy`). */
  fluxBucket: string;
  fluxOrg?: string;
  fluxToken?: string;
  range: TimeRangeMs;
  datasources: readonly ProvisionedDatasource[];
  /** Dashboard width in pixels: a panel without maxDataPoints asks for its own width (Grafana's default). */
  dashboardWidthPx?: number;
}

export interface TargetRun {
  dashboard: string;
  panel: string;
  panelType: string;
  refId: string;
  language: QueryLanguage;
  /** The query text as sent, macros substituted. */
  query: string;
  intervalMs: number;
  maxDataPoints: number;
  result?: QueryResult;
  error?: string;
}

/** Columns (other than time) that are null in every row of every table that has them. */
export function emptyColumns(result: QueryResult): string[] {
  const seen = new Map<string, boolean>();
  for (const t of result.tables) {
    t.columns.forEach((c, i) => {
      if (c === 'time') return;
      const hasValue = t.rows.some((r) => r[i] !== null && r[i] !== undefined && r[i] !== '');
      seen.set(c, (seen.get(c) ?? false) || hasValue);
    });
  }
  return [...seen].filter(([, has]) => !has).map(([c]) => c);
}

/**
 * The column names every `keep(columns: [...])` of a Flux script promises, after the script's
 * `rename(columns: {old: "new"})` calls (a heuristic read of the text, enough for the shipped dashboards).
 */
export function keptColumns(flux: string): string[] {
  const renames = new Map<string, string>();
  for (const m of flux.matchAll(/rename\(\s*columns:\s*\{([^}]*)\}/g)) {
    for (const pair of (m[1] ?? '').matchAll(/"?([A-Za-z0-9_]+)"?\s*:\s*"([^"]*)"/g)) renames.set(pair[1] ?? '', pair[2] ?? '');
  }
  const out: string[] = [];
  for (const m of flux.matchAll(/keep\(\s*columns:\s*\[([^\]]*)\]/g)) {
    for (const s of (m[1] ?? '').matchAll(/"([^"]*)"/g)) {
      const name = s[1] ?? '';
      out.push(renames.get(name) ?? name);
    }
  }
  return out;
}

const DEFAULT_WIDTH_PX = 1920;
const DEFAULT_MAX_SERIES = 1000;

function panelMaxDataPoints(panel: GrafanaPanel, widthPx: number): number {
  if (typeof panel.maxDataPoints === 'number' && panel.maxDataPoints > 0) return panel.maxDataPoints;
  const w = panel.gridPos?.w ?? 24;
  return Math.max(1, Math.floor((w / 24) * widthPx));
}

/** Run one query text through the macro substitution and InfluxDB. Never throws for a query error. */
export async function runOne(language: QueryLanguage, raw: string, intervalMs: number, ctx: QueryContext, range: TimeRangeMs): Promise<{ query: string; result?: QueryResult; error?: string }> {
  const query = language === 'influxql'
    ? interpolateInfluxQL(raw, range, intervalMs)
    : interpolateFlux(raw, range, intervalMs, { defaultBucket: ctx.fluxBucket, ...(ctx.fluxOrg !== undefined ? { organization: ctx.fluxOrg } : {}) });
  try {
    const opts: { org?: string; token?: string } = {};
    if (ctx.fluxOrg !== undefined) opts.org = ctx.fluxOrg;
    if (ctx.fluxToken !== undefined) opts.token = ctx.fluxToken;
    const result = language === 'influxql' ? await runInfluxQL(ctx.url, ctx.db, query) : await runFlux(ctx.url, query, opts);
    return { query, result };
  } catch (err) {
    return { query, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Every query of every panel (rows' children included), substituted and run. A failure names the dashboard,
 * the panel title and the refId: an InfluxDB error, no rows, a Grafana result limit, a macro left in the text,
 * or (for a geomap) a coordinate field that is not a column of the result.
 */
export async function checkDashboardQueries(dashboard: GrafanaDashboard, language: QueryLanguage, ctx: QueryContext): Promise<{ failures: CheckFailure[]; runs: TargetRun[] }> {
  const name = dashboard.title ?? dashboard.uid ?? '(untitled dashboard)';
  const failures: CheckFailure[] = [];
  const runs: TargetRun[] = [];
  for (const { panel, target, datasource } of panelTargets(dashboard)) {
    const title = panel.title ?? `#${String(panel.id)}`;
    const refId = target.refId ?? '?';
    const fail = (message: string): void => {
      failures.push({ dashboard: name, panel: title, refId, message });
    };
    if (target.hide === true) continue;
    if (typeof target.query !== 'string' || target.query.trim() === '') {
      fail('query text is empty');
      continue;
    }
    const uid = resolveDatasourceUid(datasource, dashboard);
    const ds = ctx.datasources.find((d) => d.uid === uid);
    const dsInterval = ds?.jsonData?.timeInterval;
    const minIntervalMs = typeof panel.interval === 'string' && panel.interval !== ''
      ? parseGrafanaDuration(panel.interval)
      : typeof dsInterval === 'string' && dsInterval !== '' ? parseGrafanaDuration(dsInterval) : 0;
    const maxDataPoints = panelMaxDataPoints(panel, ctx.dashboardWidthPx ?? DEFAULT_WIDTH_PX);
    const intervalMs = calculateIntervalMs({ fromMs: ctx.range.fromMs, toMs: ctx.range.toMs, maxDataPoints, minIntervalMs });
    const { query, result, error } = await runOne(language, target.query, intervalMs, ctx, ctx.range);
    const run: TargetRun = { dashboard: name, panel: title, panelType: String(panel.type), refId, language, query, intervalMs, maxDataPoints };
    runs.push(run);
    const left = leftoverMacros(query, language);
    if (left.length > 0) fail(`the query still contains ${left.join(', ')} after Grafana's substitution: ${query}`);
    if (error !== undefined) {
      run.error = error;
      fail(`${error}\n      query: ${query}`);
      continue;
    }
    if (result === undefined) continue;
    run.result = result;
    if (result.rowCount === 0) {
      fail(`returned no rows\n      query: ${query}`);
      continue;
    }
    // A misspelt field does not always empty the result: InfluxQL returns its column with nulls next to the
    // other fields, Flux's keep() silently skips a column that does not exist.
    if (language === 'influxql') {
      for (const column of emptyColumns(result)) fail(`column "${column}" is null in every row (a misspelt or missing field?)\n      query: ${query}`);
    } else {
      for (const column of keptColumns(query)) {
        if (!result.columns.includes(column)) fail(`keep() names column "${column}" but the result has only ${result.columns.join(', ')}\n      query: ${query}`);
      }
    }
    if (language === 'flux') {
      const maxSeries = Number(ds?.jsonData?.maxSeries ?? DEFAULT_MAX_SERIES);
      if (result.tables.length > maxSeries) fail(`returned ${result.tables.length} tables; Grafana stops at maxSeries = ${maxSeries}`);
      const maxRows = Math.floor(maxDataPoints * 1.5);
      const biggest = Math.max(...result.tables.map((t) => t.rows.length));
      if (biggest > maxRows) fail(`a table has ${biggest} rows; Grafana refuses more than 1.5 x maxDataPoints = ${maxRows} per series`);
    }
    if (panel.type === 'geomap') {
      const fields = geomapCoordinateFields(panel);
      if (fields.length === 0) fail('geomap has no layer with location mode "coords"');
      for (const f of fields) if (!result.columns.includes(f)) fail(`geomap reads field "${f}" but the result's columns are ${result.columns.join(', ')}`);
    }
  }
  return { failures, runs };
}
