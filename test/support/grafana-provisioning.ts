/**
 * Grafana provisioning files, checked without Grafana (pure, except `loadGrafanaExamples` which reads the
 * example directory): `apiVersion: 1` files for data sources (`datasources[]`), dashboard providers
 * (`providers[]`) and alert rules (`groups[].rules[]`, the fields of
 * `pkg/services/provisioning/alerting/rules_types.go`). Checks return failures naming the file and the rule.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  type CheckFailure,
  type GrafanaDashboard,
  type ProvisionedDatasource,
  type QueryLanguage,
  datasourceLanguage,
  isInt,
  unknownMacros,
} from './grafana-dashboard.ts';
import { parseGrafanaDuration } from './grafana-macros.ts';

/** Structural checks of a data source provisioning file (parsed YAML). */
export function checkDatasourceProvisioning(doc: unknown, file = 'datasources'): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail = (message: string): void => {
    failures.push({ dashboard: file, message });
  };
  const d = doc as { apiVersion?: unknown; datasources?: unknown } | null;
  if (d === null || typeof d !== 'object') return [{ dashboard: file, message: 'not a YAML mapping' }];
  if (d.apiVersion !== 1) fail(`apiVersion is ${JSON.stringify(d.apiVersion)}, expected 1`);
  if (!Array.isArray(d.datasources) || d.datasources.length === 0) {
    fail('datasources must be a non-empty list');
    return failures;
  }
  const uids = new Set<string>();
  const names = new Set<string>();
  for (const [i, raw] of (d.datasources as ProvisionedDatasource[]).entries()) {
    const at = `datasources[${i}]`;
    if (typeof raw.name !== 'string' || raw.name === '') fail(`${at}: name is required`);
    else if (names.has(raw.name)) fail(`${at}: name "${raw.name}" is used twice`);
    else names.add(raw.name);
    if (typeof raw.type !== 'string' || raw.type === '') fail(`${at}: type is required`);
    if (raw.access !== undefined && raw.access !== 'proxy' && raw.access !== 'direct') fail(`${at}: access must be proxy or direct`);
    if (typeof raw.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(raw.uid)) fail(`${at}: uid ${JSON.stringify(raw.uid)} must be fixed (1-40 of [A-Za-z0-9_-])`);
    else if (uids.has(raw.uid)) fail(`${at}: uid "${raw.uid}" is used twice`);
    else uids.add(raw.uid);
    if (typeof raw.url !== 'string' || raw.url === '') fail(`${at}: url is required`);
    if (raw.jsonData !== undefined && (typeof raw.jsonData !== 'object' || raw.jsonData === null)) fail(`${at}: jsonData must be a mapping`);
    if (raw.secureJsonData !== undefined && (typeof raw.secureJsonData !== 'object' || raw.secureJsonData === null)) fail(`${at}: secureJsonData must be a mapping`);
    if (raw.type === 'influxdb') {
      const lang = datasourceLanguage(raw);
      const j = raw.jsonData ?? {};
      if (lang === 'flux') {
        for (const key of ['organization', 'defaultBucket']) if (typeof j[key] !== 'string' || j[key] === '') fail(`${at}: Flux needs jsonData.${key}`);
        if (typeof raw.secureJsonData?.token !== 'string') fail(`${at}: Flux needs secureJsonData.token`);
      } else if (lang === 'influxql') {
        if (typeof j.dbName !== 'string' && typeof raw.database !== 'string') fail(`${at}: InfluxQL needs jsonData.dbName`);
        if (j.httpMode !== undefined && j.httpMode !== 'GET' && j.httpMode !== 'POST') fail(`${at}: jsonData.httpMode must be GET or POST`);
      }
      if (j.timeInterval !== undefined) {
        try {
          parseGrafanaDuration(String(j.timeInterval));
        } catch {
          fail(`${at}: jsonData.timeInterval ${JSON.stringify(j.timeInterval)} is not a duration`);
        }
      }
    }
    // Secrets must come from the environment, never be written in the file.
    for (const [key, value] of Object.entries(raw.secureJsonData ?? {})) {
      if (typeof value === 'string' && value !== '' && !/^\$(\{?[A-Za-z_][A-Za-z0-9_]*\}?|__file\{[^}]+\}|__env\{[^}]+\})$/.test(value)) {
        fail(`${at}: secureJsonData.${key} holds a literal secret; use $ENV_VAR or $__file{path}`);
      }
    }
  }
  return failures;
}

/** Structural checks of a dashboard provider file (parsed YAML). */
export function checkDashboardProvisioning(doc: unknown, file = 'dashboards'): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail = (message: string): void => {
    failures.push({ dashboard: file, message });
  };
  const d = doc as { apiVersion?: unknown; providers?: unknown } | null;
  if (d === null || typeof d !== 'object') return [{ dashboard: file, message: 'not a YAML mapping' }];
  if (d.apiVersion !== 1) fail(`apiVersion is ${JSON.stringify(d.apiVersion)}, expected 1`);
  if (!Array.isArray(d.providers) || d.providers.length === 0) {
    fail('providers must be a non-empty list');
    return failures;
  }
  for (const [i, p] of (d.providers as Record<string, unknown>[]).entries()) {
    const at = `providers[${i}]`;
    if (typeof p.name !== 'string' || p.name === '') fail(`${at}: name is required`);
    if (p.type !== undefined && p.type !== 'file') fail(`${at}: type must be file`);
    const options = p.options as { path?: unknown } | undefined;
    if (typeof options?.path !== 'string' || !options.path.startsWith('/')) fail(`${at}: options.path must be an absolute path`);
    if (p.updateIntervalSeconds !== undefined && !(isInt(p.updateIntervalSeconds) && p.updateIntervalSeconds >= 10)) fail(`${at}: updateIntervalSeconds must be an integer >= 10`);
  }
  return failures;
}

export interface AlertQuery {
  refId?: string;
  datasourceUid?: string;
  relativeTimeRange?: { from?: number; to?: number };
  model?: Record<string, unknown>;
}

export interface AlertRule {
  uid?: string;
  title?: string;
  condition?: string;
  data?: AlertQuery[];
  noDataState?: string;
  execErrState?: string;
  for?: string;
  isPaused?: boolean;
  [key: string]: unknown;
}

export interface AlertGroup {
  orgId?: number;
  name?: string;
  folder?: string;
  interval?: string;
  rules?: AlertRule[];
}

const EXPR_UIDS = new Set(['__expr__', '-100']);
const PROM_DURATION = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;

function isPromDuration(s: unknown): boolean {
  return typeof s === 'string' && s !== '' && PROM_DURATION.test(s);
}

/** Rules of an alerting provisioning file (parsed YAML), flattened with their group. */
export function alertRules(doc: unknown): { group: AlertGroup; rule: AlertRule }[] {
  const groups = ((doc as { groups?: AlertGroup[] } | null)?.groups ?? []) as AlertGroup[];
  return groups.flatMap((group) => (group.rules ?? []).map((rule) => ({ group, rule })));
}

/** Structural checks of an alert rule provisioning file against the provisioned data sources. */
export function checkAlertProvisioning(doc: unknown, datasources: readonly ProvisionedDatasource[], file = 'alerting'): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const d = doc as { apiVersion?: unknown; groups?: unknown } | null;
  if (d === null || typeof d !== 'object') return [{ dashboard: file, message: 'not a YAML mapping' }];
  const fail = (message: string, rule?: AlertRule, refId?: string): void => {
    const f: CheckFailure = { dashboard: file, message };
    if (rule !== undefined) f.panel = rule.title ?? rule.uid ?? '(untitled rule)';
    if (refId !== undefined) f.refId = refId;
    failures.push(f);
  };
  if (d.apiVersion !== 1) fail(`apiVersion is ${JSON.stringify(d.apiVersion)}, expected 1`);
  if (!Array.isArray(d.groups) || d.groups.length === 0) {
    fail('groups must be a non-empty list');
    return failures;
  }
  const uids = new Set<string>();
  for (const group of d.groups as AlertGroup[]) {
    if (typeof group.name !== 'string' || group.name.trim() === '') fail('a group has no name');
    if (typeof group.folder !== 'string' || group.folder.trim() === '') fail(`group "${String(group.name)}" has no folder`);
    if (!isPromDuration(group.interval)) fail(`group "${String(group.name)}" interval ${JSON.stringify(group.interval)} is not a duration`);
    if (!Array.isArray(group.rules) || group.rules.length === 0) fail(`group "${String(group.name)}" has no rules`);
    for (const rule of group.rules ?? []) {
      if (typeof rule.title !== 'string' || rule.title === '') fail('a rule has no title', rule);
      if (typeof rule.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(rule.uid)) fail(`uid ${JSON.stringify(rule.uid)} must be 1-40 of [A-Za-z0-9_-]`, rule);
      else if (uids.has(rule.uid)) fail(`uid "${rule.uid}" is used twice`, rule);
      else uids.add(rule.uid);
      if (rule.for !== undefined && !isPromDuration(rule.for)) fail(`for ${JSON.stringify(rule.for)} is not a duration`, rule);
      if (rule.noDataState !== undefined && !['NoData', 'Alerting', 'OK', 'KeepLast'].includes(rule.noDataState)) fail(`noDataState ${rule.noDataState} is not NoData, Alerting, OK or KeepLast`, rule);
      if (rule.execErrState !== undefined && !['Error', 'Alerting', 'OK', 'KeepLast'].includes(rule.execErrState)) fail(`execErrState ${rule.execErrState} is not Error, Alerting, OK or KeepLast`, rule);
      const data = rule.data ?? [];
      if (data.length === 0) fail('has no data', rule);
      const refs = new Map<string, AlertQuery>();
      for (const q of data) {
        if (typeof q.refId !== 'string' || q.refId === '') {
          fail('a query has no refId', rule);
          continue;
        }
        if (refs.has(q.refId)) fail('refId used twice', rule, q.refId);
        refs.set(q.refId, q);
        if (q.model?.refId !== q.refId) fail(`model.refId ${JSON.stringify(q.model?.refId)} differs from refId`, rule, q.refId);
        const uid = q.datasourceUid;
        if (typeof uid !== 'string') {
          fail('datasourceUid is missing', rule, q.refId);
          continue;
        }
        if (EXPR_UIDS.has(uid)) continue;
        const ds = datasources.find((x) => x.uid === uid);
        if (ds === undefined) fail(`datasourceUid "${uid}" is not provisioned`, rule, q.refId);
        const from = q.relativeTimeRange?.from;
        const to = q.relativeTimeRange?.to ?? 0;
        if (!isInt(from) || !isInt(to) || from <= to) fail('a data source query needs relativeTimeRange.from > to (seconds before now)', rule, q.refId);
        if (typeof q.model?.query !== 'string' || q.model.query === '') fail('model.query is empty', rule, q.refId);
        else if (ds !== undefined) {
          const lang = datasourceLanguage(ds);
          if (lang === 'influxql' || lang === 'flux') {
            const unknown = unknownMacros(q.model.query, lang);
            if (unknown.length > 0) fail(`uses ${unknown.join(', ')}, which Grafana does not substitute`, rule, q.refId);
            if (lang === 'influxql' && q.model.rawQuery !== true) fail('InfluxQL model must set rawQuery: true', rule, q.refId);
          }
        }
      }
      // The condition must name a refId, and every expression must read refIds that exist.
      if (typeof rule.condition !== 'string' || !refs.has(rule.condition)) fail(`condition ${JSON.stringify(rule.condition)} is not one of the refIds`, rule);
      for (const q of data) {
        if (!EXPR_UIDS.has(q.datasourceUid ?? '')) continue;
        const type = q.model?.type;
        if (!['reduce', 'threshold', 'math', 'resample', 'classic_conditions', 'sql'].includes(String(type))) fail(`expression type ${JSON.stringify(type)} is unknown`, rule, q.refId);
        const expr = q.model?.expression;
        if ((type === 'reduce' || type === 'threshold' || type === 'resample') && (typeof expr !== 'string' || !refs.has(expr))) {
          fail(`expression ${JSON.stringify(expr)} is not one of the refIds`, rule, q.refId);
        }
        if (type === 'threshold') {
          const ev = (q.model?.conditions as { evaluator?: { type?: string; params?: unknown[] } }[] | undefined)?.[0]?.evaluator;
          if (ev === undefined || !['gt', 'lt', 'eq', 'ne', 'ge', 'le', 'within_range', 'outside_range', 'within_range_included', 'outside_range_included'].includes(String(ev.type)) || !Array.isArray(ev.params)) {
            fail('threshold needs conditions[0].evaluator {type, params}', rule, q.refId);
          }
        }
      }
    }
  }
  return failures;
}

export interface GrafanaExamples {
  dir: string;
  datasourcesDoc: unknown;
  dashboardsDoc: unknown;
  alertingDoc: unknown;
  datasources: ProvisionedDatasource[];
  dashboards: { file: string; language: QueryLanguage; dashboard: GrafanaDashboard }[];
}

/** Read `examples/grafana`: the provisioning YAML (parsed with `yaml`, strict) and both dashboards. */
export function loadGrafanaExamples(dir: string): GrafanaExamples {
  const yamlFile = (path: string): unknown => parseYaml(readFileSync(path, 'utf8'), { strict: true, uniqueKeys: true, prettyErrors: true });
  const datasourcesDoc = yamlFile(join(dir, 'provisioning/datasources/userpipe.yaml'));
  const dashboardsDoc = yamlFile(join(dir, 'provisioning/dashboards/userpipe.yaml'));
  const alertingDoc = yamlFile(join(dir, 'provisioning/alerting/userpipe-alerts.yaml'));
  const dashboards = readdirSync(join(dir, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const dashboard = JSON.parse(readFileSync(join(dir, 'dashboards', file), 'utf8')) as GrafanaDashboard;
      const language: QueryLanguage = file.endsWith('-flux.json') ? 'flux' : 'influxql';
      return { file, language, dashboard };
    });
  const datasources = ((datasourcesDoc as { datasources?: ProvisionedDatasource[] } | null)?.datasources ?? []) as ProvisionedDatasource[];
  return { dir, datasourcesDoc, dashboardsDoc, alertingDoc, datasources, dashboards };
}
