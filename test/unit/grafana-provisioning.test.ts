/**
 * examples/grafana/provisioning: valid YAML (parsed strictly by the `yaml` package, duplicate keys refused) in
 * Grafana's documented provisioning formats, and the structural checker refusing broken copies.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { type ProvisionedDatasource, datasourceLanguage, formatFailures, panelTargets, resolveDatasourceUid } from '../support/grafana-dashboard.ts';
import {
  type AlertRule,
  alertRules,
  checkAlertProvisioning,
  checkDashboardProvisioning,
  checkDatasourceProvisioning,
  loadGrafanaExamples,
} from '../support/grafana-provisioning.ts';

const DIR = fileURLToPath(new URL('../../examples/grafana', import.meta.url));
const examples = loadGrafanaExamples(DIR);

type Doc = Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);
const datasourcesOf = (doc: unknown): ProvisionedDatasource[] => (doc as { datasources: ProvisionedDatasource[] }).datasources;

describe('grafana provisioning: data sources', () => {
  it('is valid, with two InfluxDB data sources of fixed uids: InfluxQL on database userpipe, Flux with org/bucket/token from the environment', () => {
    const failures = checkDatasourceProvisioning(examples.datasourcesDoc);
    assert.deepEqual(failures, [], formatFailures(failures));
    const [influxql, flux] = examples.datasources;
    assert.ok(influxql && flux);
    assert.deepEqual([influxql.uid, influxql.type, datasourceLanguage(influxql), influxql.jsonData?.dbName], ['userpipe-influxql', 'influxdb', 'influxql', 'userpipe']);
    assert.deepEqual([flux.uid, flux.type, flux.jsonData?.version], ['userpipe-flux', 'influxdb', 'Flux']);
    assert.equal(flux.jsonData?.organization, '$INFLUX_ORG');
    assert.equal(flux.jsonData?.defaultBucket, '$INFLUX_BUCKET');
    assert.equal(flux.secureJsonData?.token, '$INFLUX_TOKEN');
    assert.equal(flux.url, '$INFLUX_HOST');
  });

  it('every data source uid the dashboards use exists in the provisioning', () => {
    const provisioned = new Set(examples.datasources.map((d) => d.uid));
    let checked = 0;
    for (const { file, dashboard } of examples.dashboards) {
      for (const { panel, target, datasource } of panelTargets(dashboard)) {
        const uid = resolveDatasourceUid(datasource, dashboard);
        assert.ok(uid !== undefined && provisioned.has(uid), `${file} panel "${panel.title}" ${target.refId}: uid ${String(uid)} is not provisioned`);
        checked++;
      }
    }
    assert.ok(checked >= 20, `only ${checked} queries checked`);
  });

  it('refuses a copy without uid, with a duplicate uid, with a literal token, or a Flux one without bucket', () => {
    const noUid = clone(examples.datasourcesDoc) as Doc;
    delete (datasourcesOf(noUid)[0] as Doc).uid;
    assert.match(formatFailures(checkDatasourceProvisioning(noUid)), /datasources\[0\]: uid undefined must be fixed/);

    const dup = clone(examples.datasourcesDoc) as Doc;
    (datasourcesOf(dup)[1] as Doc).uid = 'userpipe-influxql';
    assert.match(formatFailures(checkDatasourceProvisioning(dup)), /uid "userpipe-influxql" is used twice/);

    const literal = clone(examples.datasourcesDoc) as Doc;
    (datasourcesOf(literal)[1] as ProvisionedDatasource).secureJsonData = { token: 's3cr3t-token' };
    assert.match(formatFailures(checkDatasourceProvisioning(literal)), /secureJsonData.token holds a literal secret/);

    const noBucket = clone(examples.datasourcesDoc) as Doc;
    delete (datasourcesOf(noBucket)[1] as ProvisionedDatasource).jsonData?.defaultBucket;
    assert.match(formatFailures(checkDatasourceProvisioning(noBucket)), /Flux needs jsonData.defaultBucket/);

    assert.match(formatFailures(checkDatasourceProvisioning({ apiVersion: 2, datasources: [] })), /apiVersion is 2, expected 1/);
  });
});

describe('grafana provisioning: dashboards provider', () => {
  it('is a valid file provider with an absolute path', () => {
    const failures = checkDashboardProvisioning(examples.dashboardsDoc);
    assert.deepEqual(failures, [], formatFailures(failures));
    const provider = (examples.dashboardsDoc as { providers: Doc[] }).providers[0];
    assert.equal(provider?.type, 'file');
    assert.equal((provider?.options as Doc).path, '/var/lib/grafana/dashboards/userpipe');
  });

  it('refuses a relative path and another provider type', () => {
    const bad = clone(examples.dashboardsDoc) as { providers: Doc[] };
    (bad.providers[0] as Doc).options = { path: 'dashboards' };
    (bad.providers[0] as Doc).type = 'git';
    const text = formatFailures(checkDashboardProvisioning(bad));
    assert.match(text, /type must be file/);
    assert.match(text, /options.path must be an absolute path/);
  });
});

describe('grafana provisioning: alert rules', () => {
  it('is valid: a "no new users for 5 minutes" rule per data source, query -> reduce -> threshold < 1, NoData alerts', () => {
    const failures = checkAlertProvisioning(examples.alertingDoc, examples.datasources);
    assert.deepEqual(failures, [], formatFailures(failures));
    const rules = alertRules(examples.alertingDoc);
    assert.deepEqual(rules.map((r) => [r.rule.uid, r.rule.isPaused]), [
      ['userpipe-no-new-users-influxql', false],
      ['userpipe-no-new-users-flux', true],
    ]);
    for (const { group, rule } of rules) {
      assert.equal(group.interval, '1m');
      assert.equal(rule.condition, 'C');
      assert.equal(rule.noDataState, 'Alerting');
      const [a, b, c] = rule.data ?? [];
      assert.deepEqual(a?.relativeTimeRange, { from: 300, to: 0 }, 'the query looks at the last 5 minutes');
      assert.deepEqual([b?.model?.type, b?.model?.expression, b?.model?.reducer], ['reduce', 'A', 'last']);
      assert.deepEqual([c?.model?.type, c?.model?.expression], ['threshold', 'B']);
      assert.deepEqual((c?.model?.conditions as { evaluator: unknown }[])[0]?.evaluator, { type: 'lt', params: [1] });
    }
  });

  it('keeps the query model raw: $timeFilter is in the file for Grafana\'s backend, not for env expansion', () => {
    const raw = readFileSync(`${DIR}/provisioning/alerting/userpipe-alerts.yaml`, 'utf8');
    assert.match(raw, /WHERE \$timeFilter/);
    // Everything else Grafana would expand from the environment: no other `$` anywhere in the file.
    const others = raw.split('\n').filter((l) => l.includes('$') && !l.trimStart().startsWith('#') && !l.includes('$timeFilter'));
    assert.deepEqual(others, []);
  });

  it('refuses a condition naming no refId, an unknown data source, a bad duration, a threshold reading nothing', () => {
    const bad = clone(examples.alertingDoc) as Doc;
    const rule = alertRules(bad)[0]?.rule as AlertRule;
    rule.condition = 'Z';
    rule.for = 'five minutes';
    const data = rule.data ?? [];
    (data[0] as { datasourceUid: string }).datasourceUid = 'nope';
    ((data[2] as { model: Doc }).model).expression = 'Q';
    const text = formatFailures(checkAlertProvisioning(bad, examples.datasources));
    assert.match(text, /condition "Z" is not one of the refIds/);
    assert.match(text, /datasourceUid "nope" is not provisioned/);
    assert.match(text, /for "five minutes" is not a duration/);
    assert.match(text, /query C: expression "Q" is not one of the refIds/);
    assert.match(text, /no new users for 5 minutes \(InfluxQL\)/, 'failures name the rule');
  });
});

describe('grafana provisioning: YAML syntax', () => {
  it('refuses duplicate keys and broken indentation (the strict parse the loader uses)', () => {
    const parse = (text: string): unknown => parseYaml(text, { strict: true, uniqueKeys: true });
    assert.throws(() => parse('apiVersion: 1\napiVersion: 2\n'), /unique/i);
    assert.throws(() => parse('datasources:\n  - name: a\n   type: influxdb\n'));
    assert.deepEqual(parse('apiVersion: 1\n'), { apiVersion: 1 });
  });
});
