/**
 * The shipped dashboards (examples/grafana/dashboards) as Grafana JSON models of the current schema version,
 * checked without Grafana or InfluxDB; and the checker itself, which must name the panel of a broken copy.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  CURRENT_SCHEMA_VERSION,
  type GrafanaDashboard,
  type GrafanaPanel,
  checkDashboardModel,
  formatFailures,
  geomapCoordinateFields,
  panelTargets,
  resolveDatasourceUid,
  walkPanels,
} from '../support/grafana-dashboard.ts';
import { loadGrafanaExamples } from '../support/grafana-provisioning.ts';

const DIR = fileURLToPath(new URL('../../examples/grafana', import.meta.url));
const examples = loadGrafanaExamples(DIR);
const byLanguage = (lang: 'influxql' | 'flux'): GrafanaDashboard => {
  const d = examples.dashboards.find((x) => x.language === lang);
  assert.ok(d, `no ${lang} dashboard in ${DIR}/dashboards`);
  return d.dashboard;
};

function copy(d: GrafanaDashboard): GrafanaDashboard {
  return structuredClone(d);
}

/** A panel of a copy by title, rows' children included. */
function panel(d: GrafanaDashboard, title: string): GrafanaPanel {
  const p = walkPanels(d).find((e) => e.panel.title === title)?.panel;
  assert.ok(p, `panel "${title}" not found`);
  return p;
}

describe('grafana dashboards: shipped JSON models', () => {
  it('are exactly two: one InfluxQL, one Flux', () => {
    assert.deepEqual(examples.dashboards.map((d) => [d.file, d.language]), [
      ['userpipe-flux.json', 'flux'],
      ['userpipe-influxql.json', 'influxql'],
    ]);
  });

  for (const { file, language, dashboard } of examples.dashboards) {
    it(`${file}: valid model of schema version ${CURRENT_SCHEMA_VERSION}, provisioned data sources, backend macros only`, () => {
      const failures = checkDashboardModel(dashboard, examples.datasources, language);
      assert.deepEqual(failures, [], formatFailures(failures));
    });

    it(`${file}: data source refs are {type, uid} objects resolving to the ${language} data source`, () => {
      const expected = language === 'flux' ? 'userpipe-flux' : 'userpipe-influxql';
      const entries = panelTargets(dashboard);
      assert.ok(entries.length >= 9, `only ${entries.length} queries`);
      for (const { panel: p, target, datasource } of entries) {
        assert.equal(typeof datasource, 'object', `panel "${p.title}" ${target.refId}`);
        assert.equal(resolveDatasourceUid(datasource, dashboard), expected, `panel "${p.title}" ${target.refId}`);
        assert.equal(resolveDatasourceUid(p.datasource, dashboard), expected, `panel "${p.title}"`);
      }
    });
  }

  it('both dashboards have the same panels (titles, types, places, rows)', () => {
    const shape = (d: GrafanaDashboard) => walkPanels(d).map((e) => ({ title: e.panel.title, type: e.panel.type, gridPos: e.panel.gridPos, row: e.row, id: e.panel.id }));
    assert.deepEqual(shape(byLanguage('flux')), shape(byLanguage('influxql')));
  });

  it('have the panels the issue asks for, some inside rows and one inside a collapsed row', () => {
    for (const d of [byLanguage('influxql'), byLanguage('flux')]) {
      const entries = walkPanels(d);
      const types = new Map(entries.map((e) => [e.panel.title, e.panel.type]));
      assert.equal(types.get('New users per minute'), 'timeseries');
      assert.equal(types.get('New users per minute by gender'), 'timeseries');
      assert.equal(types.get('Share by nationality'), 'piechart');
      assert.equal(types.get('Age distribution'), 'bargauge');
      assert.equal(types.get('Top 10 countries'), 'barchart');
      assert.equal(types.get('Top 10 states'), 'barchart');
      assert.equal(types.get('Where the latest users live'), 'geomap');
      assert.equal(types.get('Latest users'), 'table');
      assert.equal(types.get('Users in the selected range'), 'stat');
      const collapsed = entries.filter((e) => e.inCollapsedRow).map((e) => e.panel.title);
      assert.deepEqual(collapsed, ['Latest users']);
      const underGeography = entries.filter((e) => e.row === 'Geography' && e.panel.type !== 'row').map((e) => e.panel.title);
      assert.deepEqual(underGeography, ['Where the latest users live', 'Top 10 countries', 'Top 10 states']);
      assert.deepEqual(geomapCoordinateFields(panel(d, 'Where the latest users live')), ['latitude', 'longitude']);
    }
  });
});

describe('grafana dashboards: the checker names the broken panel', () => {
  const influxql = byLanguage('influxql');
  const flux = byLanguage('flux');

  it('schema version other than the current one', () => {
    const d = copy(influxql);
    d.schemaVersion = 39;
    const failures = checkDashboardModel(d, examples.datasources, 'influxql');
    assert.equal(failures.length, 1, formatFailures(failures));
    assert.match(failures[0]?.message ?? '', /schemaVersion is 39, expected 42/);
  });

  it('a duplicated panel id, inside a collapsed row', () => {
    const d = copy(influxql);
    panel(d, 'Latest users').id = panel(d, 'Age distribution').id as number;
    const failures = checkDashboardModel(d, examples.datasources, 'influxql');
    assert.equal(failures.length, 1, formatFailures(failures));
    assert.equal(failures[0]?.panel, 'Latest users');
    assert.match(failures[0]?.message ?? '', /also used by panel "Age distribution"/);
  });

  it('a data source uid that is not provisioned', () => {
    const d = copy(flux);
    const p = panel(d, 'Top 10 states');
    const target = p.targets?.[0];
    assert.ok(target);
    target.datasource = { type: 'influxdb', uid: 'my-other-influx' };
    const failures = checkDashboardModel(d, examples.datasources, 'flux');
    assert.equal(failures.length, 1, formatFailures(failures));
    assert.deepEqual([failures[0]?.panel, failures[0]?.refId], ['Top 10 states', 'A']);
    assert.match(failures[0]?.message ?? '', /uid "my-other-influx" is not provisioned/);
  });

  it('a data source given by name instead of a {type, uid} object', () => {
    const d = copy(influxql);
    panel(d, 'Share by nationality').datasource = 'userpipe InfluxQL';
    const failures = checkDashboardModel(d, examples.datasources, 'influxql');
    assert.ok(failures.some((f) => f.panel === 'Share by nationality' && /object, not a name/.test(f.message)), formatFailures(failures));
  });

  it('a macro the InfluxQL backend does not substitute ($__timeFilter is the SQL data sources\' spelling)', () => {
    const d = copy(influxql);
    const target = panel(d, 'Latest users').targets?.[0];
    assert.ok(target);
    target.query = String(target.query).replace('$timeFilter', '$__timeFilter');
    const failures = checkDashboardModel(d, examples.datasources, 'influxql');
    assert.deepEqual(failures.map((f) => [f.panel, f.refId]), [['Latest users', 'A'], ['Latest users', 'A']], formatFailures(failures));
    assert.match(failures.map((f) => f.message).join('\n'), /uses \$__timeFilter/);
  });

  it('a Flux query without the dashboard range, and one with an unknown v.* name', () => {
    const d = copy(flux);
    const stat = panel(d, 'Users in the selected range').targets?.[0];
    const ts = panel(d, 'New users per minute').targets?.[0];
    assert.ok(stat && ts);
    stat.query = String(stat.query).replace('range(start: v.timeRangeStart, stop: v.timeRangeStop)', 'range(start: -1h)');
    ts.query = String(ts.query).replace('v.windowPeriod', 'v.interval');
    const failures = checkDashboardModel(d, examples.datasources, 'flux');
    assert.deepEqual(failures.map((f) => f.panel), ['Users in the selected range', 'New users per minute'], formatFailures(failures));
    assert.match(failures[1]?.message ?? '', /v\.interval/);
  });

  it('a non-raw InfluxQL target, overlapping panels, a panel off the grid', () => {
    const d = copy(influxql);
    const t = panel(d, 'Top 10 countries').targets?.[0];
    assert.ok(t);
    t.rawQuery = false;
    panel(d, 'Share by nationality').gridPos = { h: 9, w: 12, x: 12, y: 8 };
    panel(d, 'Users in the selected range').gridPos = { h: 8, w: 6, x: 20, y: 0 };
    const messages = checkDashboardModel(d, examples.datasources, 'influxql').map((f) => `${f.panel}: ${f.message}`);
    assert.ok(messages.some((m) => m.startsWith('Top 10 countries: InfluxQL query must be raw')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('Share by nationality: overlaps panel "Age distribution"')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('Users in the selected range: gridPos') && m.includes('24-column')), messages.join('\n'));
  });

  it('an InfluxQL dashboard pointed at the Flux data source', () => {
    const d = copy(influxql);
    const variable = d.templating?.list?.[0];
    assert.ok(variable?.current);
    variable.current.value = 'userpipe-flux';
    const failures = checkDashboardModel(d, examples.datasources, 'influxql');
    assert.ok(failures.length >= 9 && failures.every((f) => /speaks flux/.test(f.message)), formatFailures(failures));
  });
});
