/**
 * Evaluate the provisioned alert rules against a real InfluxDB at a chosen "now": each data source query over
 * its relativeTimeRange (macros substituted as Grafana's backend does), then the reduce and threshold
 * expressions the shipped rules use (`pkg/expr`; other expression types throw rather than being guessed).
 */
import { type QueryLanguage, datasourceLanguage } from './grafana-dashboard.ts';
import type { QueryResult } from './grafana-influx-http.ts';
import { type TimeRangeMs, calculateIntervalMs } from './grafana-macros.ts';
import { alertRules } from './grafana-provisioning.ts';
import { type QueryContext, runOne } from './grafana-queries.ts';

/** Grafana's reducers used by the rules (`expr/mathexp/reduce.go`), over the non-null numbers of a series. */
function reduce(values: number[], reducer: string): number | undefined {
  if (values.length === 0) return reducer === 'count' ? 0 : undefined;
  switch (reducer) {
    case 'last':
      return values[values.length - 1];
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'mean':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'count':
      return values.length;
    default:
      throw new Error(`reducer ${reducer} is not emulated`);
  }
}

function threshold(value: number, type: string, params: number[]): boolean {
  const [a = NaN, b = NaN] = params;
  switch (type) {
    case 'gt':
      return value > a;
    case 'lt':
      return value < a;
    case 'ge':
      return value >= a;
    case 'le':
      return value <= a;
    case 'eq':
      return value === a;
    case 'ne':
      return value !== a;
    case 'within_range':
      return value > a && value < b;
    case 'outside_range':
      return value < a || value > b;
    default:
      throw new Error(`threshold ${type} is not emulated`);
  }
}

/** The numeric series of a result as Grafana's alerting sees them: one per value column of each table. */
export function numericSeries(result: QueryResult, language: QueryLanguage): number[][] {
  const out: number[][] = [];
  for (const t of result.tables) {
    const valueColumns = language === 'flux'
      ? t.columns.map((c, i) => ({ c, i })).filter(({ c, i }) => c === '_value' || (!c.startsWith('_') && ['long', 'double', 'unsignedLong'].includes(t.datatypes?.[i] ?? '')))
      : t.columns.map((c, i) => ({ c, i })).filter(({ c }) => c !== 'time');
    for (const { i } of valueColumns) {
      out.push(t.rows.map((r) => r[i]).map((v) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN)).filter((v) => Number.isFinite(v)));
    }
  }
  return out;
}

export interface AlertEvaluation {
  rule: string;
  uid: string;
  /** What the rule's state would become: Normal, Alerting (condition met), or per noDataState / execErrState. */
  state: 'Normal' | 'Alerting' | 'NoData' | 'Error' | 'OK' | 'KeepLast';
  /** The reduced values, one per series. */
  values: number[];
  runs: { refId: string; query: string; result?: QueryResult; error?: string }[];
}

/**
 * Run an alerting file's rules at `nowMs`: each data source query over its relativeTimeRange, then the
 * reduce and threshold expressions (the ones the shipped rules use; others throw). Paused rules run too.
 */
export async function evaluateAlertRules(doc: unknown, ctx: Omit<QueryContext, 'range'>, nowMs: number): Promise<AlertEvaluation[]> {
  const out: AlertEvaluation[] = [];
  for (const { rule } of alertRules(doc)) {
    const series = new Map<string, number[][]>();
    const reduced = new Map<string, number[]>();
    const runs: AlertEvaluation['runs'] = [];
    let state: AlertEvaluation['state'] | undefined;
    for (const q of rule.data ?? []) {
      const refId = q.refId ?? '?';
      const model = q.model ?? {};
      if (q.datasourceUid === '__expr__' || q.datasourceUid === '-100') {
        if (model.type === 'reduce') {
          const input = series.get(String(model.expression)) ?? [];
          const mode = (model.settings as { mode?: string } | undefined)?.mode ?? '';
          const values = input.map((s) => reduce(mode === 'dropNN' ? s.filter(Number.isFinite) : s, String(model.reducer))).filter((v): v is number => v !== undefined);
          reduced.set(refId, values);
        } else if (model.type === 'threshold') {
          const input = reduced.get(String(model.expression)) ?? [];
          const ev = (model.conditions as { evaluator: { type: string; params: number[] } }[])[0]?.evaluator;
          if (ev === undefined) throw new Error(`rule ${String(rule.uid)}: threshold without evaluator`);
          reduced.set(refId, input.map((v) => (threshold(v, ev.type, ev.params) ? 1 : 0)));
        } else {
          throw new Error(`rule ${String(rule.uid)}: expression type ${String(model.type)} is not emulated`);
        }
        continue;
      }
      const ds = ctx.datasources.find((d) => d.uid === q.datasourceUid);
      const language = ds === undefined ? undefined : datasourceLanguage(ds);
      if (language !== 'influxql' && language !== 'flux') throw new Error(`rule ${String(rule.uid)}: data source ${String(q.datasourceUid)} is not InfluxQL/Flux`);
      const range: TimeRangeMs = { fromMs: nowMs - (q.relativeTimeRange?.from ?? 600) * 1000, toMs: nowMs - (q.relativeTimeRange?.to ?? 0) * 1000 };
      // Alerting computes the interval like a panel: range / maxDataPoints, at least intervalMs.
      const intervalMs = calculateIntervalMs({ ...range, maxDataPoints: Number(model.maxDataPoints ?? 43_200), minIntervalMs: Number(model.intervalMs ?? 1_000) });
      const run = await runOne(language, String(model.query ?? ''), intervalMs, { ...ctx, range }, range);
      runs.push({ refId, ...run });
      if (run.error !== undefined) state = (rule.execErrState as AlertEvaluation['state'] | undefined) ?? 'Error';
      else series.set(refId, numericSeries(run.result as QueryResult, language));
    }
    const condition = reduced.get(String(rule.condition)) ?? [];
    if (state === undefined) {
      const noData = [...series.values()].every((s) => s.length === 0 || s.every((x) => x.length === 0));
      if (noData) state = (rule.noDataState as AlertEvaluation['state'] | undefined) ?? 'NoData';
      else state = condition.some((v) => v !== 0) ? 'Alerting' : 'Normal';
    }
    // Report the values the condition compared (the threshold's input), not its 0/1 outcome.
    const conditionModel = (rule.data ?? []).find((q) => q.refId === rule.condition)?.model;
    const compared = conditionModel?.type === 'threshold' ? reduced.get(String(conditionModel.expression)) : condition;
    out.push({ rule: String(rule.title), uid: String(rule.uid), state, values: [...(compared ?? [])], runs });
  }
  return out;
}
