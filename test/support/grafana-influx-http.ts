/**
 * HTTP to InfluxDB the way Grafana's backend sends queries, for the dashboard test (test support code).
 * InfluxQL: `POST /query` with form `q`, and `db` and `epoch=ms` in the URL (`pkg/tsdb/influxdb/influxql/influxql.go`).
 * Flux: `POST /api/v2/query` with the script as `application/vnd.flux`, answered as annotated CSV (InfluxDB 1.8
 * serves it with `flux-enabled = true`). The annotated-CSV parser is pure and unit-tested.
 */

/** One result table: an InfluxQL series or a Flux table. */
export interface ResultTable {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  /** Flux column types (`#datatype`), aligned with `columns`. */
  datatypes?: string[];
  rows: unknown[][];
}

export interface QueryResult {
  tables: ResultTable[];
  rowCount: number;
  /** Every column name seen in any table, InfluxQL tag keys included (Grafana's table format makes them columns). */
  columns: string[];
}

export class QueryError extends Error {
  override name = 'QueryError';
}

function summarize(tables: ResultTable[]): QueryResult {
  const columns = new Set<string>();
  let rowCount = 0;
  for (const t of tables) {
    for (const c of t.columns) columns.add(c);
    for (const k of Object.keys(t.tags ?? {})) columns.add(k);
    rowCount += t.rows.length;
  }
  return { tables, rowCount, columns: [...columns] };
}

const QUERY_TIMEOUT_MS = 60_000;

/** InfluxQL the way Grafana sends it. Throws QueryError with InfluxDB's message on an HTTP or statement error. */
export async function runInfluxQL(url: string, db: string, query: string): Promise<QueryResult> {
  const target = new URL('query', url.endsWith('/') ? url : `${url}/`);
  target.searchParams.set('db', db);
  target.searchParams.set('epoch', 'ms');
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ q: query }).toString(),
    signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
  });
  const text = await res.text();
  let json: { error?: string; results?: { error?: string; series?: { name?: string; tags?: Record<string, string>; columns?: string[]; values?: unknown[][] }[] }[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new QueryError(`InfluxDB answered HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (!res.ok || json.error !== undefined) throw new QueryError(`InfluxDB answered HTTP ${res.status}: ${json.error ?? text.slice(0, 300)}`);
  const tables: ResultTable[] = [];
  for (const r of json.results ?? []) {
    if (r.error !== undefined) throw new QueryError(`InfluxQL error: ${r.error}`);
    for (const s of r.series ?? []) {
      const t: ResultTable = { columns: s.columns ?? [], rows: s.values ?? [] };
      if (s.name !== undefined) t.name = s.name;
      if (s.tags !== undefined) t.tags = s.tags;
      tables.push(t);
    }
  }
  return summarize(tables);
}

/** Flux the way Grafana sends it. Throws QueryError with InfluxDB's message on an HTTP error or an error table. */
export async function runFlux(url: string, flux: string, opts: { org?: string; token?: string } = {}): Promise<QueryResult> {
  const target = new URL('api/v2/query', url.endsWith('/') ? url : `${url}/`);
  if (opts.org !== undefined && opts.org !== '') target.searchParams.set('org', opts.org);
  const headers: Record<string, string> = { 'Content-Type': 'application/vnd.flux', Accept: 'application/csv' };
  if (opts.token !== undefined && opts.token !== '') headers.Authorization = `Token ${opts.token}`;
  const res = await fetch(target, { method: 'POST', headers, body: flux, signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) });
  const text = await res.text();
  if (!res.ok) {
    // 1.8 answers "error\n<message>" as CSV; 2.x answers JSON {code, message}.
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      message = message.replace(/^error\r?\n/, '');
    }
    throw new QueryError(`Flux error (HTTP ${res.status}): ${message.slice(0, 500)}`);
  }
  return summarize(parseAnnotatedCsv(text));
}

/** RFC 4180 records of a CSV text (quoted fields may hold commas, quotes and line breaks). */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  const n = text.length;
  const endRecord = (): void => {
    record.push(field);
    records.push(record);
    record = [];
    field = '';
  };
  while (i < n) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || record.length > 0) endRecord();
  return records;
}

/**
 * InfluxDB's annotated CSV: blocks of `#datatype` / `#group` / `#default` annotations, a header row and data
 * rows, separated by blank lines. Rows are split into tables by their `table` column. An error table (header
 * `error,reference`) throws QueryError with its message.
 */
export function parseAnnotatedCsv(text: string): ResultTable[] {
  const tables: ResultTable[] = [];
  let header: string[] | undefined;
  let datatypes: string[] | undefined;
  // Per table: which raw columns Grafana keeps (it drops the annotation columns `result` and `table`).
  const byKey = new Map<string, { table: ResultTable; keep: boolean[] }>();
  for (const rec of parseCsvRecords(text)) {
    if (rec.length === 1 && rec[0] === '') {
      header = undefined;
      datatypes = undefined;
      continue;
    }
    const first = rec[0] ?? '';
    if (first.startsWith('#')) {
      if (first === '#datatype') datatypes = rec.slice(1);
      header = undefined;
      continue;
    }
    if (header === undefined) {
      header = rec;
      continue;
    }
    const errorAt = header.indexOf('error');
    if (errorAt >= 0 && header.includes('reference')) throw new QueryError(`Flux error: ${rec[errorAt] ?? ''}`);
    // Data row: the first column is the annotation column (empty), then result, table, ...
    const columns = header.slice(1);
    const values = rec.slice(1);
    const tableAt = columns.indexOf('table');
    const key = `${columns.join(',')}|${tableAt >= 0 ? values[tableAt] : ''}`;
    let entry = byKey.get(key);
    if (entry === undefined) {
      const keep = columns.map((c, idx) => !((c === 'result' && idx === 0) || (c === 'table' && idx === 1)));
      const table: ResultTable = { columns: columns.filter((_c, idx) => keep[idx]), rows: [] };
      const types = datatypes?.slice(0, columns.length).filter((_t, idx) => keep[idx]);
      if (types !== undefined) table.datatypes = types;
      entry = { table, keep };
      byKey.set(key, entry);
      tables.push(table);
    }
    const keep = entry.keep;
    entry.table.rows.push(values.filter((_v, idx) => keep[idx]));
  }
  return tables;
}
