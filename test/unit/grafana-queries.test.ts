/**
 * The pure parts of the query support code: InfluxDB's annotated CSV (grafana-influx-http.ts), macros and
 * columns left after substitution (grafana-queries.ts), the series alerting would reduce (grafana-alerts.ts).
 * Running queries is covered by the integration test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { numericSeries } from '../support/grafana-alerts.ts';
import { QueryError, parseAnnotatedCsv, parseCsvRecords } from '../support/grafana-influx-http.ts';
import { emptyColumns, keptColumns, leftoverMacros } from '../support/grafana-queries.ts';

describe('grafana queries: CSV', () => {
  it('splits RFC 4180 records with quoted commas, quotes and line breaks', () => {
    assert.deepEqual(parseCsvRecords('a,"b,c","say ""hi""","two\nlines"\r\n,x\n'), [
      ['a', 'b,c', 'say "hi"', 'two\nlines'],
      ['', 'x'],
    ]);
  });

  it('reads annotated CSV into tables by schema block and table id, dropping result/table like Grafana', () => {
    const csv = [
      '#datatype,string,long,string,long',
      '#group,false,false,true,false',
      '#default,_result,,,',
      ',result,table,gender,_value',
      ',,0,female,3',
      ',,1,male,4',
      '',
      '#datatype,string,long,string,double',
      '#group,false,false,false,false',
      '#default,_result,,,',
      ',result,table,city,latitude',
      ',,2,"Saint-Jean, QC",46.3',
      '',
    ].join('\r\n');
    const tables = parseAnnotatedCsv(csv);
    assert.deepEqual(tables, [
      { columns: ['gender', '_value'], datatypes: ['string', 'long'], rows: [['female', '3']] },
      { columns: ['gender', '_value'], datatypes: ['string', 'long'], rows: [['male', '4']] },
      { columns: ['city', 'latitude'], datatypes: ['string', 'double'], rows: [['Saint-Jean, QC', '46.3']] },
    ]);
    assert.deepEqual(parseAnnotatedCsv(''), []);
  });

  it('throws the message of an error table', () => {
    const csv = '#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,"type error: undefined identifier agee",\n';
    assert.throws(() => parseAnnotatedCsv(csv), (err: unknown) => err instanceof QueryError && /undefined identifier agee/.test(err.message));
  });
});

describe('grafana queries: leftovers and series', () => {
  it('finds macros that survived substitution', () => {
    assert.deepEqual(leftoverMacros('SELECT 1 FROM "users" WHERE time > 0 AND "name" =~ /x$/', 'influxql'), []);
    assert.deepEqual(leftoverMacros('SELECT 1 FROM "users" WHERE $__timeFilter AND x = ${nat}', 'influxql'), ['$__timeFilter', '${nat}']);
    assert.deepEqual(leftoverMacros('from(bucket: "b") |> map(fn: (r) => ({ r with _value: float(v: r._value) }))', 'flux'), []);
    assert.deepEqual(leftoverMacros('from(bucket: v.bucketName) |> range(start: v.timeRangeStart)', 'flux'), ['v.bucketName', 'v.timeRangeStart']);
  });

  it('gives one numeric series per value column (InfluxQL) or per table _value (Flux)', () => {
    assert.deepEqual(numericSeries({ rowCount: 2, columns: [], tables: [{ columns: ['time', 'users'], rows: [[1, 5], [2, null]] }] }, 'influxql'), [[5]]);
    assert.deepEqual(numericSeries({ rowCount: 1, columns: [], tables: [{ columns: ['_start', '_stop', '_value'], datatypes: ['dateTime:RFC3339', 'dateTime:RFC3339', 'long'], rows: [['a', 'b', '12']] }] }, 'flux'), [[12]]);
    assert.deepEqual(numericSeries({ rowCount: 0, columns: [], tables: [] }, 'flux'), []);
  });

  it('finds the all-null column a misspelt InfluxQL field leaves behind', () => {
    const tables = [
      { columns: ['time', 'first_name', 'emial'], rows: [[1, 'Ann', null], [2, 'Bob', null]] },
      { columns: ['time', 'first_name', 'emial'], rows: [[3, null, null]] },
    ];
    assert.deepEqual(emptyColumns({ rowCount: 3, columns: [], tables }), ['emial']);
  });

  it('reads the columns keep() promises, after rename()', () => {
    const flux = '|> keep(columns: ["nat", "_value"])\n  |> rename(columns: {_value: "users"})\n  |> keep(columns: ["_time","latitude"])';
    assert.deepEqual(keptColumns(flux), ['nat', 'users', '_time', 'latitude']);
    assert.deepEqual(keptColumns('from(bucket: "b") |> count()'), []);
  });
});
