/**
 * Grafana dashboard JSON, read and checked without Grafana (pure). Every check RETURNS its failures instead of
 * asserting, so a test can both require "no failures" for the shipped files and "exactly this failure" for a
 * deliberately broken copy. Provisioning files: grafana-provisioning.ts.
 *
 * What "valid" means is taken from Grafana's own code: the JSON model of schema version 42
 * (`apps/dashboard/pkg/migration/schemaversion`, "Schema version 42 is the final version for the v1 dashboard
 * API"), panels on a 24-column grid, rows whose collapsed children live in `row.panels`, data source references
 * as `{type, uid}` objects, queries using only the macros Grafana's backend substitutes.
 */
import { FLUX_MACROS, INFLUXQL_MACROS } from './grafana-macros.ts';

/** The dashboard schema version the shipped JSON targets: current since late 2025 (Grafana 12, still in 13.x), the last of the v1 dashboard API. */
export const CURRENT_SCHEMA_VERSION = 42;

/** Panel types the dashboards may use (all core panels of current Grafana, no Angular ones). */
export const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'piechart', 'barchart', 'bargauge', 'geomap', 'table', 'text']);

export type QueryLanguage = 'influxql' | 'flux';

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface GrafanaTarget {
  refId?: string;
  datasource?: DatasourceRef | string | null;
  query?: string;
  rawQuery?: boolean;
  resultFormat?: string;
  alias?: string;
  hide?: boolean;
  [key: string]: unknown;
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface GrafanaPanel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: GridPos;
  datasource?: DatasourceRef | string | null;
  targets?: GrafanaTarget[];
  /** A row's children while it is collapsed. */
  panels?: GrafanaPanel[];
  collapsed?: boolean;
  maxDataPoints?: number;
  interval?: string;
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface TemplateVariable {
  name?: string;
  type?: string;
  query?: string;
  current?: { text?: unknown; value?: unknown };
  [key: string]: unknown;
}

export interface GrafanaDashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: GrafanaPanel[];
  templating?: { list?: TemplateVariable[] };
  time?: { from?: string; to?: string };
  [key: string]: unknown;
}

export interface ProvisionedDatasource {
  name?: string;
  type?: string;
  uid?: string;
  url?: string;
  access?: string;
  jsonData?: Record<string, unknown>;
  secureJsonData?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One problem, always naming where it is: the dashboard (or file), the panel title and the query's refId. */
export interface CheckFailure {
  dashboard: string;
  panel?: string;
  refId?: string;
  message: string;
}

export function formatFailure(f: CheckFailure): string {
  const where = [f.dashboard, f.panel !== undefined ? `panel "${f.panel}"` : undefined, f.refId !== undefined ? `query ${f.refId}` : undefined]
    .filter((s) => s !== undefined)
    .join(' / ');
  return `${where}: ${f.message}`;
}

export function formatFailures(failures: readonly CheckFailure[]): string {
  return failures.length === 0 ? 'no failures' : failures.map((f) => `  - ${formatFailure(f)}`).join('\n');
}

export interface PanelEntry {
  panel: GrafanaPanel;
  /** Title of the row the panel sits under (collapsed or not), if any. */
  row?: string;
  /** True for a panel kept inside a collapsed row's `panels`. */
  inCollapsedRow: boolean;
}

/**
 * Every panel of the dashboard in layout order: top-level panels, rows themselves, and the children of collapsed
 * rows (Grafana stores those in `row.panels`; an expanded row's children follow it at top level).
 */
export function walkPanels(dashboard: GrafanaDashboard): PanelEntry[] {
  const out: PanelEntry[] = [];
  let row: string | undefined;
  for (const panel of dashboard.panels ?? []) {
    if (panel.type === 'row') {
      row = panel.title;
      out.push({ panel, inCollapsedRow: false });
      for (const child of panel.panels ?? []) out.push({ panel: child, row: panel.title, inCollapsedRow: true });
      continue;
    }
    out.push(row !== undefined ? { panel, row, inCollapsedRow: false } : { panel, inCollapsedRow: false });
  }
  return out;
}

export interface TargetEntry {
  panel: GrafanaPanel;
  target: GrafanaTarget;
  /** The data source the target runs on: its own, else the panel's. */
  datasource: DatasourceRef | string | null | undefined;
}

/** Every query of every non-row panel, rows' children included. */
export function panelTargets(dashboard: GrafanaDashboard): TargetEntry[] {
  const out: TargetEntry[] = [];
  for (const { panel } of walkPanels(dashboard)) {
    if (panel.type === 'row') continue;
    for (const target of panel.targets ?? []) out.push({ panel, target, datasource: target.datasource ?? panel.datasource });
  }
  return out;
}

const VARIABLE_REF = /^\$(?:\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|([A-Za-z0-9_]+))$/;

/**
 * The uid a data source reference points at once dashboard variables are applied: `${datasource}` resolves to
 * the current value of the data source variable of that name (what Grafana opens the dashboard with).
 */
export function resolveDatasourceUid(ref: DatasourceRef | string | null | undefined, dashboard: GrafanaDashboard): string | undefined {
  if (ref === null || ref === undefined || typeof ref === 'string') return undefined;
  const uid = ref.uid;
  if (uid === undefined) return undefined;
  const m = VARIABLE_REF.exec(uid);
  if (m === null) return uid;
  const name = m[1] ?? m[2];
  const variable = (dashboard.templating?.list ?? []).find((v) => v.name === name && v.type === 'datasource');
  const value = variable?.current?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The query language a provisioned InfluxDB data source speaks (`jsonData.version`, InfluxQL by default). */
export function datasourceLanguage(ds: ProvisionedDatasource): QueryLanguage | 'sql' | undefined {
  if (ds.type !== 'influxdb') return undefined;
  const version = String(ds.jsonData?.version ?? 'InfluxQL').toLowerCase();
  if (version === 'flux') return 'flux';
  if (version === 'sql') return 'sql';
  return 'influxql';
}

/** `$name` / `${name}` tokens of a query that the language's backend does not substitute. */
export function unknownMacros(query: string, language: QueryLanguage): string[] {
  const known: readonly string[] = language === 'influxql' ? INFLUXQL_MACROS : FLUX_MACROS;
  const found = new Set<string>();
  for (const m of query.matchAll(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g)) {
    if (!known.includes(m[0])) found.add(m[0]);
  }
  if (language === 'flux') {
    // Grafana substitutes v.<name> only for these names; any other v.<name> is an undefined identifier in Flux.
    for (const m of query.matchAll(/\bv\.([A-Za-z]+)/g)) {
      if (!known.includes(m[0])) found.add(m[0]);
    }
  }
  return [...found];
}

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** The fields a geomap's layers read coordinates from (`location.mode: coords`). */
export function geomapCoordinateFields(panel: GrafanaPanel): string[] {
  const layers = (panel.options?.layers as { location?: { mode?: string; latitude?: string; longitude?: string } }[] | undefined) ?? [];
  const out: string[] = [];
  for (const layer of layers) {
    const loc = layer.location;
    if (loc?.mode !== 'coords') continue;
    if (loc.latitude !== undefined) out.push(loc.latitude);
    if (loc.longitude !== undefined) out.push(loc.longitude);
  }
  return out;
}

/**
 * The dashboard as a Grafana JSON model of the current schema version, whose queries are all of `language`,
 * run on provisioned data sources, and use only macros Grafana's backend substitutes.
 */
export function checkDashboardModel(dashboard: GrafanaDashboard, datasources: readonly ProvisionedDatasource[], language: QueryLanguage): CheckFailure[] {
  const name = dashboard.title ?? dashboard.uid ?? '(untitled dashboard)';
  const failures: CheckFailure[] = [];
  const fail = (message: string, panel?: GrafanaPanel, refId?: string): void => {
    const f: CheckFailure = { dashboard: name, message };
    if (panel !== undefined) f.panel = panel.title ?? `#${String(panel.id)}`;
    if (refId !== undefined) f.refId = refId;
    failures.push(f);
  };

  if (dashboard.schemaVersion !== CURRENT_SCHEMA_VERSION) {
    fail(`schemaVersion is ${String(dashboard.schemaVersion)}, expected ${CURRENT_SCHEMA_VERSION}`);
  }
  if (typeof dashboard.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid)) fail(`uid ${JSON.stringify(dashboard.uid)} is not 1-40 of [A-Za-z0-9_-]`);
  if (typeof dashboard.title !== 'string' || dashboard.title === '') fail('title is missing');
  if (!Array.isArray(dashboard.panels) || dashboard.panels.length === 0) fail('has no panels');
  if (typeof dashboard.time?.from !== 'string' || typeof dashboard.time.to !== 'string') fail('time.from / time.to missing');

  const dsVars = (dashboard.templating?.list ?? []).filter((v) => v.type === 'datasource');
  for (const v of dsVars) {
    if (v.query !== 'influxdb') fail(`data source variable "${String(v.name)}" lists type ${JSON.stringify(v.query)}, not influxdb`);
  }

  const ids = new Map<number, string>();
  const entries = walkPanels(dashboard);
  for (const { panel } of entries) {
    const title = panel.title ?? '';
    if (!isInt(panel.id) || panel.id <= 0) fail(`id ${JSON.stringify(panel.id)} is not a positive integer`, panel);
    else if (ids.has(panel.id)) fail(`id ${panel.id} is also used by panel "${ids.get(panel.id) ?? ''}"`, panel);
    else ids.set(panel.id, title);
    if (title === '') fail('has no title', panel);
    if (typeof panel.type !== 'string' || !PANEL_TYPES.has(panel.type)) fail(`type ${JSON.stringify(panel.type)} is not one of ${[...PANEL_TYPES].join(', ')}`, panel);
    const g = panel.gridPos;
    if (g === undefined || ![g.h, g.w, g.x, g.y].every(isInt)) {
      fail('gridPos must have integer h, w, x, y', panel);
    } else if (g.w < 1 || g.h < 1 || g.x < 0 || g.y < 0 || g.x + g.w > 24) {
      fail(`gridPos ${JSON.stringify(g)} does not fit the 24-column grid`, panel);
    }
    if (panel.type === 'row') {
      if (panel.collapsed !== true && (panel.panels ?? []).length > 0) fail('an expanded row must keep its panels at top level, not in row.panels', panel);
      if (panel.collapsed === true && (panel.panels ?? []).length === 0) fail('a collapsed row without panels', panel);
      continue;
    }
    if (panel.datasource !== undefined && panel.datasource !== null && typeof panel.datasource !== 'object') {
      fail('panel datasource must be a {type, uid} object, not a name', panel);
    }
    const targets = panel.targets ?? [];
    if (targets.length === 0) fail('has no queries', panel);
    const refIds = new Set<string>();
    for (const target of targets) {
      const refId = typeof target.refId === 'string' ? target.refId : undefined;
      if (refId === undefined || refId === '') fail('a query has no refId', panel);
      else if (refIds.has(refId)) fail(`refId ${refId} is used twice`, panel, refId);
      else refIds.add(refId);
      checkTarget(target, panel, refId);
    }
  }

  // Overlaps: top-level panels share one grid; each collapsed row's children share another.
  const groups = new Map<string, GrafanaPanel[]>();
  for (const e of entries) {
    const key = e.inCollapsedRow ? `row:${e.row ?? ''}` : 'top';
    const list = groups.get(key) ?? [];
    list.push(e.panel);
    groups.set(key, list);
  }
  for (const list of groups.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as GrafanaPanel;
        const b = list[j] as GrafanaPanel;
        if (a.gridPos !== undefined && b.gridPos !== undefined && overlaps(a.gridPos, b.gridPos)) fail(`overlaps panel "${b.title ?? ''}"`, a);
      }
    }
  }
  return failures;

  function checkTarget(target: GrafanaTarget, panel: GrafanaPanel, refId: string | undefined): void {
    const ref = target.datasource ?? panel.datasource;
    if (ref === undefined || ref === null || typeof ref !== 'object') {
      fail('query has no {type, uid} data source', panel, refId);
    } else {
      const uid = resolveDatasourceUid(ref, dashboard);
      const ds = uid === undefined ? undefined : datasources.find((d) => d.uid === uid);
      if (uid === undefined) fail(`data source ${JSON.stringify(ref)} resolves to no uid`, panel, refId);
      else if (ds === undefined) fail(`data source uid "${uid}" is not provisioned (${datasources.map((d) => d.uid).join(', ')})`, panel, refId);
      else {
        if (ref.type !== ds.type) fail(`data source type "${String(ref.type)}" but uid "${uid}" is a ${String(ds.type)}`, panel, refId);
        const lang = datasourceLanguage(ds);
        if (lang !== language) fail(`runs on "${uid}" which speaks ${String(lang)}, this dashboard is ${language}`, panel, refId);
      }
    }
    const query = target.query;
    if (typeof query !== 'string' || query.trim() === '') {
      fail('query text is empty', panel, refId);
      return;
    }
    if (language === 'influxql') {
      if (target.rawQuery !== true) fail('InfluxQL query must be raw (rawQuery: true) so the text is what Grafana sends', panel, refId);
      if (!query.includes('$timeFilter')) fail('InfluxQL query ignores the dashboard time range (no $timeFilter)', panel, refId);
      if (target.resultFormat !== undefined && !['time_series', 'table', 'logs'].includes(target.resultFormat)) {
        fail(`resultFormat ${JSON.stringify(target.resultFormat)} is not time_series, table or logs`, panel, refId);
      }
    } else if (!/range\(\s*start:\s*v\.timeRangeStart\s*,\s*stop:\s*v\.timeRangeStop\s*\)/.test(query)) {
      fail('Flux query ignores the dashboard time range (no range(start: v.timeRangeStart, stop: v.timeRangeStop))', panel, refId);
    }
    const unknown = unknownMacros(query, language);
    if (unknown.length > 0) fail(`uses ${unknown.join(', ')}, which Grafana's ${language} backend does not substitute`, panel, refId);
  }
}
