/**
 * The Grafana dashboards and alert rules of examples/grafana against the REAL InfluxDB (1.8.10 of test/stack,
 * `flux-enabled = true`): every query of every panel of both dashboards (rows and collapsed rows included),
 * with its macros substituted exactly as Grafana's backend does, must run without error and return rows.
 *
 * Data: by default a fresh database (unique per run, dropped at the end) filled with 10,000 synthetic users
 * through the project's own write path, fetch times spread over the last 55 minutes. To check the dashboards
 * against a real pipeline run instead, point USERPIPE_GRAFANA_TEST_DB at the database `userpipe run-all` wrote
 * (it is then neither filled nor dropped) and, if its users are older than an hour, widen the range with
 * USERPIPE_GRAFANA_TEST_FROM (a Grafana expression such as `now-6h`; default: the dashboards' own `now-1h`);
 * USERPIPE_GRAFANA_TEST_USERS=<n> then also requires the panels to count exactly the n users the run wrote.
 * USERPIPE_TEST_INFLUX_URL (default http://127.0.0.1:8086). Unless USERPIPE_SKIP_INTEGRATION=1, a missing
 * InfluxDB is a failure.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { InfluxWriter } from '../../src/clients/influx-writer.ts';
import { evaluateAlertRules } from '../support/grafana-alerts.ts';
import { type GrafanaDashboard, type QueryLanguage, formatFailures, panelTargets, walkPanels } from '../support/grafana-dashboard.ts';
import { runInfluxQL } from '../support/grafana-influx-http.ts';
import { type TimeRangeMs, parseRelativeTime } from '../support/grafana-macros.ts';
import { populateSyntheticUsers } from '../support/grafana-populate.ts';
import { loadGrafanaExamples } from '../support/grafana-provisioning.ts';
import { type QueryContext, type TargetRun, checkDashboardQueries } from '../support/grafana-queries.ts';

const URL_ = process.env.USERPIPE_TEST_INFLUX_URL ?? 'http://127.0.0.1:8086';
const SKIP = process.env.USERPIPE_SKIP_INTEGRATION === '1';
const EXISTING_DB = process.env.USERPIPE_GRAFANA_TEST_DB || undefined;
const RANGE_FROM = process.env.USERPIPE_GRAFANA_TEST_FROM || undefined;
/** With USERPIPE_GRAFANA_TEST_DB: how many users the run wrote, to require every panel to account for all of them. */
const EXPECT_USERS = process.env.USERPIPE_GRAFANA_TEST_USERS ? Number(process.env.USERPIPE_GRAFANA_TEST_USERS) : undefined;
const USERS = 10_000;
const RUN = `${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
const DB = EXISTING_DB ?? `userpipe_grafana_it_${RUN}`;

const examples = loadGrafanaExamples(fileURLToPath(new URL('../../examples/grafana', import.meta.url)));
const admin = new InfluxWriter({ url: URL_, bucket: DB, retry: { maxAttempts: 1 } });

function dashboardOf(language: QueryLanguage): GrafanaDashboard {
  const found = examples.dashboards.find((d) => d.language === language);
  assert.ok(found, `no ${language} dashboard`);
  return found.dashboard;
}

/**
 * The data the dashboards are checked against. This is the step a `userpipe run-all` replaces
 * (USERPIPE_GRAFANA_TEST_DB): here the same code path process uses, userToPoint -> renderPoint -> InfluxWriter.
 */
async function populate(): Promise<number | undefined> {
  if (EXISTING_DB !== undefined) return EXPECT_USERS;
  const res = await populateSyntheticUsers({ url: URL_, db: DB, users: USERS, spanMs: 55 * 60_000 });
  assert.equal(res.written, USERS);
  return res.written;
}

function run(runs: readonly TargetRun[], panel: string, refId = 'A'): TargetRun {
  const r = runs.find((x) => x.panel === panel && x.refId === refId);
  assert.ok(r?.result, `no result for panel "${panel}" ${refId}`);
  return r;
}

/** Rows of a result as objects (column -> value), InfluxQL tags merged in. */
function records(r: TargetRun): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const t of r.result?.tables ?? []) {
    for (const row of t.rows) out.push({ ...t.tags, ...Object.fromEntries(t.columns.map((c, i) => [c, row[i]])) });
  }
  return out;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

describe('grafana dashboards and alerts against the real InfluxDB', () => {
  let reachable = false;
  let written: number | undefined;
  let range: TimeRangeMs;
  let ctx: QueryContext;
  const runs = new Map<QueryLanguage, TargetRun[]>();

  before(async () => {
    try {
      await admin.ping();
      reachable = true;
    } catch (err) {
      if (SKIP) return;
      throw new Error(`InfluxDB is not reachable at ${URL_} (start it with test/stack/stack up, or set USERPIPE_SKIP_INTEGRATION=1)`, { cause: err });
    }
    written = await populate();
    const now = Date.now();
    range = { fromMs: parseRelativeTime(RANGE_FROM ?? dashboardOf('influxql').time?.from ?? 'now-1h', now), toMs: now };
    ctx = { url: URL_, db: DB, fluxBucket: `${DB}/autogen`, range, datasources: examples.datasources };
  });

  after(async () => {
    if (reachable && EXISTING_DB === undefined) await admin.query(`DROP DATABASE "${DB}"`).catch(() => {});
  });

  for (const language of ['influxql', 'flux'] as const) {
    it(`${language} dashboard: every panel query, as Grafana's backend sends it, runs and returns rows`, async (t) => {
      if (!reachable) return t.skip('InfluxDB not reachable');
      const dashboard = dashboardOf(language);
      const { failures, runs: done } = await checkDashboardQueries(dashboard, language, ctx);
      runs.set(language, done);
      for (const r of done) t.diagnostic(`${r.panel} ${r.refId}: ${r.result?.rowCount ?? 0} rows in ${r.result?.tables.length ?? 0} tables (interval ${r.intervalMs} ms)`);
      assert.deepEqual(failures, [], `${dashboard.title}:\n${formatFailures(failures)}`);
      // Every query of every panel ran, the collapsed row's table included.
      assert.equal(done.length, panelTargets(dashboard).length);
      const ranPanels = new Set(done.map((r) => r.panel));
      for (const { panel } of walkPanels(dashboard)) {
        if (panel.type !== 'row') assert.ok(ranPanels.has(String(panel.title)), `panel "${panel.title}" was not run`);
      }
      assert.ok(ranPanels.has('Latest users'));
    });
  }

  it('the geomap gets numeric latitude and longitude columns from both dashboards', (t) => {
    if (!reachable) return t.skip('InfluxDB not reachable');
    for (const language of ['influxql', 'flux'] as const) {
      const r = run(runs.get(language) ?? [], 'Where the latest users live');
      const rows = records(r);
      assert.ok(rows.length > 0 && rows.length <= 1_000, `${language} geomap: ${rows.length} rows`);
      for (const row of rows) {
        const lat = num(row.latitude);
        const lon = num(row.longitude);
        assert.ok(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180, `${language} geomap row ${JSON.stringify(row)}`);
      }
    }
  });

  it('both dashboards show the same numbers, and they add up', (t) => {
    if (!reachable) return t.skip('InfluxDB not reachable');
    const q = runs.get('influxql') ?? [];
    const f = runs.get('flux') ?? [];
    const totalQ = num(records(run(q, 'Users in the selected range'))[0]?.users);
    const totalF = num(records(run(f, 'Users in the selected range'))[0]?.users);
    assert.equal(totalQ, totalF, 'users in range: InfluxQL vs Flux');
    if (written !== undefined) assert.equal(totalQ, written, 'every user written lies in the dashboard range');

    const natQ: Record<string, number> = Object.fromEntries(records(run(q, 'Share by nationality')).map((r) => [String(r.nat), num(r.users)]));
    const natF: Record<string, number> = Object.fromEntries(records(run(f, 'Share by nationality')).map((r) => [String(r.nat), num(r.users)]));
    assert.deepEqual(natQ, natF, 'share by nationality');
    assert.equal(Object.values(natQ).reduce((a, b) => a + b, 0), totalQ);
    if (written !== undefined) assert.equal(Object.keys(natQ).length, 21, 'all 21 nationalities');

    const ageQ = ['A', 'B', 'C', 'D', 'E', 'F'].map((refId) => num(records(run(q, 'Age distribution', refId))[0]?.users));
    const ageF = records(run(f, 'Age distribution')).map((r) => num(r.users));
    assert.deepEqual(ageQ, ageF, 'age brackets, in order');
    assert.equal(ageQ.reduce((a, b) => a + b, 0), totalQ, 'every user falls in one age bracket');

    for (const [panel, tag] of [['Top 10 countries', 'country'], ['Top 10 states', 'state']] as const) {
      const byCount = (rows: Record<string, unknown>[]) => rows.map((r) => num(r.users)).sort((a, b) => b - a);
      const topQ = records(run(q, panel));
      const topF = records(run(f, panel));
      assert.equal(topQ.length, 10, panel);
      assert.deepEqual(byCount(topQ), byCount(topF), `${panel}: the same top counts`);
      // Names too, except those tied with the 10th count: InfluxQL's top() and Flux's top() break ties differently.
      const tenth = Math.min(...topQ.map((r) => num(r.users)));
      const named = (rows: Record<string, unknown>[]) => Object.fromEntries(rows.filter((r) => num(r.users) > tenth).map((r) => [r[tag], num(r.users)]));
      assert.deepEqual(named(topQ), named(topF), `${panel}: the same ${tag} names`);
    }

    // New users per minute: the per-interval counts * 60000 / interval add back up to the total.
    for (const [lang, rs] of [['influxql', q], ['flux', f]] as const) {
      const r = run(rs, 'New users per minute');
      const column = lang === 'flux' ? '_value' : 'users/min';
      const sum = records(r).reduce((acc, row) => acc + num(row[column]), 0);
      assert.ok(Math.abs((sum * r.intervalMs) / 60_000 - totalQ) < 1e-6 * totalQ + 1e-6, `${lang}: rates sum back to ${totalQ}, got ${(sum * r.intervalMs) / 60_000}`);
    }

    const latestQ = records(run(q, 'Latest users'));
    const latestF = records(run(f, 'Latest users'));
    assert.equal(latestQ.length, 50);
    assert.deepEqual(latestQ.map((r) => r.email), latestF.map((r) => r.email), 'the same 50 latest users, newest first');
  });

  describe('a broken query fails the check and names its panel', () => {
    async function brokenCopy(language: QueryLanguage, panelTitle: string, refId: string, edit: (query: string) => string) {
      const copy = structuredClone(dashboardOf(language));
      const target = walkPanels(copy).find((e) => e.panel.title === panelTitle)?.panel.targets?.find((x) => x.refId === refId);
      assert.ok(target && typeof target.query === 'string', `${panelTitle} ${refId}`);
      const edited = edit(target.query);
      assert.notEqual(edited, target.query, 'the edit changed nothing');
      target.query = edited;
      return (await checkDashboardQueries(copy, language, ctx)).failures;
    }

    it('InfluxQL: a misspelt field in one age bracket empties that query', async (t) => {
      if (!reachable) return t.skip('InfluxDB not reachable');
      const failures = await brokenCopy('influxql', 'Age distribution', 'C', (q) => q.replaceAll('"age"', '"agee"'));
      assert.equal(failures.length, 1, formatFailures(failures));
      assert.deepEqual([failures[0]?.panel, failures[0]?.refId], ['Age distribution', 'C']);
      assert.match(failures[0]?.message ?? '', /returned no rows/);
      t.diagnostic(formatFailures(failures));
    });

    it('InfluxQL: a misspelt field in the table inside the collapsed row', async (t) => {
      if (!reachable) return t.skip('InfluxDB not reachable');
      const failures = await brokenCopy('influxql', 'Latest users', 'A', (q) => q.replace('"email"', '"emial"'));
      assert.equal(failures.length, 1, formatFailures(failures));
      assert.equal(failures[0]?.panel, 'Latest users');
      assert.match(failures[0]?.message ?? '', /column "emial" is null in every row/);
      t.diagnostic(formatFailures(failures));
    });

    it('InfluxQL: a syntax error comes back with InfluxDB\'s message', async (t) => {
      if (!reachable) return t.skip('InfluxDB not reachable');
      const failures = await brokenCopy('influxql', 'Top 10 states', 'A', (q) => q.replace('SELECT top', 'SELEC top'));
      assert.equal(failures.length, 1, formatFailures(failures));
      assert.equal(failures[0]?.panel, 'Top 10 states');
      assert.match(failures[0]?.message ?? '', /error parsing query/);
      t.diagnostic(formatFailures(failures));
    });

    it('Flux: a misspelt field empties the nationality query', async (t) => {
      if (!reachable) return t.skip('InfluxDB not reachable');
      const failures = await brokenCopy('flux', 'Share by nationality', 'A', (q) => q.replace('r._field == "uuid"', 'r._field == "uid"'));
      assert.equal(failures.length, 1, formatFailures(failures));
      assert.deepEqual([failures[0]?.panel, failures[0]?.refId], ['Share by nationality', 'A']);
      assert.match(failures[0]?.message ?? '', /returned no rows/);
      t.diagnostic(formatFailures(failures));
    });

    it('Flux: a misspelt coordinate field leaves the geomap without latitude', async (t) => {
      if (!reachable) return t.skip('InfluxDB not reachable');
      const failures = await brokenCopy('flux', 'Where the latest users live', 'A', (q) => q.replaceAll('"latitude"', '"lattitude"'));
      assert.ok(failures.length >= 1, 'no failure reported');
      assert.ok(failures.every((f) => f.panel === 'Where the latest users live'), formatFailures(failures));
      assert.match(formatFailures(failures), /geomap reads field "latitude" but the result's columns are/);
      t.diagnostic(formatFailures(failures));
    });

    it('Flux: an unknown function is a Flux error', async (t) => {
      if (!reachable) return t.skip('InfluxDB not reachable');
      const failures = await brokenCopy('flux', 'Top 10 countries', 'A', (q) => q.replace('|> count()', '|> countt()'));
      assert.equal(failures.length, 1, formatFailures(failures));
      assert.equal(failures[0]?.panel, 'Top 10 countries');
      assert.match(failures[0]?.message ?? '', /Flux error .*countt/);
      t.diagnostic(formatFailures(failures));
    });
  });

  it('alert rules: their queries run; Normal while users arrive, Alerting once 5 minutes pass without one', async (t) => {
    if (!reachable) return t.skip('InfluxDB not reachable');
    const last = await runInfluxQL(URL_, DB, 'SELECT last("uuid") FROM "users"');
    const newestMs = num(last.tables[0]?.rows[0]?.[0]);
    assert.ok(Number.isFinite(newestMs), 'no user in the database');
    const alertCtx = { url: URL_, db: DB, fluxBucket: `${DB}/autogen`, datasources: examples.datasources };

    const fresh = await evaluateAlertRules(examples.alertingDoc, alertCtx, newestMs + 60_000);
    assert.equal(fresh.length, 2);
    for (const e of fresh) {
      for (const r of e.runs) assert.equal(r.error, undefined, `${e.rule} ${r.refId}: ${r.error ?? ''}`);
      assert.equal(e.state, 'Normal', `${e.rule}: ${JSON.stringify(e.values)}`);
      assert.ok((e.values[0] ?? 0) >= 1, `${e.rule} counted ${JSON.stringify(e.values)}`);
      t.diagnostic(`${e.rule} one minute after the last user: ${e.state}, ${e.values.join(', ')} users in the window`);
    }
    assert.equal(fresh[0]?.values[0], fresh[1]?.values[0], 'InfluxQL and Flux rules count the same users');

    const stalled = await evaluateAlertRules(examples.alertingDoc, alertCtx, newestMs + 5 * 60_000 + 1_000);
    for (const e of stalled) {
      for (const r of e.runs) assert.equal(r.error, undefined, `${e.rule} ${r.refId}: ${r.error ?? ''}`);
      assert.equal(e.state, 'Alerting', `${e.rule} 5 minutes after the last user`);
      t.diagnostic(`${e.rule} 5 minutes after the last user: ${e.state}`);
    }
  });
});
