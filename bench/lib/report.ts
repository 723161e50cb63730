/**
 * The results as Markdown: the table (one row per stage: userpipe and its ceiling side by side), the
 * machine and versions, and per stage what was counted and how.
 */
import type { Measured } from './context.ts';

export interface MachineInfo {
  date: string;
  cpus: string;
  cores: number;
  ramGiB: number;
  node: string;
  kafka: string;
  hdfs: string;
  influxdb: string;
  commit: string;
  loadStart: string;
  loadEnd?: string;
}

export interface RunSettings {
  users: number;
  results: number;
  partitions: number;
  codec: string;
}

export interface PendingRow {
  stage: string;
  reason: string;
}

const nf0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export const fmt = {
  int: (n: number): string => nf0.format(n),
  one: (n: number): string => nf1.format(n),
  two: (n: number): string => nf2.format(n),
  mib: (b: number | undefined): string => (b === undefined ? 'n/a' : `${nf0.format(b / 2 ** 20)} MiB`),
};

export function ratio(m: Measured): number {
  return m.ceiling.seconds / m.userpipe.seconds;
}

export function rowCells(m: Measured): string[] {
  const upRate = m.records / m.userpipe.seconds;
  const ceilRate = m.records / m.ceiling.seconds;
  const upMB = m.bytes / 1e6 / m.userpipe.seconds;
  const ceilMB = m.bytes / 1e6 / m.ceiling.seconds;
  const cpu = m.userpipe.cpuSeconds === undefined ? 'n/a' : fmt.two((m.userpipe.cpuSeconds / m.records) * 100_000);
  const flag = m.userpipe.disturbed.length > 0 ? ' ⚠' : '';
  return [
    m.stage + flag,
    fmt.int(m.records),
    fmt.int(upRate),
    fmt.one(upMB),
    fmt.int(ceilRate),
    fmt.one(ceilMB),
    `**${fmt.two(ratio(m))}**`,
    cpu,
    fmt.mib(m.userpipe.peakRssBytes),
  ];
}

export const HEADER = ['stage', 'records', 'userpipe rec/s', 'userpipe MB/s', 'ceiling rec/s', 'ceiling MB/s', 'ratio', 'CPU s / 100k rec', 'peak RSS'];

export function table(rows: string[][], header = HEADER): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export function mainTable(measured: Measured[], extra: string[][], pending: PendingRow[]): string {
  const rows = measured.map(rowCells);
  rows.push(...extra);
  for (const p of pending) rows.push([p.stage, '—', '—', '—', '—', '—', 'pending', '—', `— (${p.reason})`]);
  return table(rows);
}

export function machineSection(m: MachineInfo, s: RunSettings): string {
  return [
    `- Date: ${m.date}; commit ${m.commit}`,
    `- Machine: ${m.cores} cores (${m.cpus}), ${fmt.one(m.ramGiB)} GiB RAM; load average at start ${m.loadStart}${m.loadEnd ? `, at end ${m.loadEnd}` : ''} (a shared machine: other engineers' tests run alongside)`,
    `- Node ${m.node}; Kafka ${m.kafka} (KRaft, 1 broker); HDFS ${m.hdfs} (1 NameNode, 1 DataNode, replication 1); InfluxDB ${m.influxdb}`,
    `- Data: ${fmt.int(s.users)} synthetic RandomUser 1.4 users, ${fmt.int(s.results)} per response/spool file; topics of ${s.partitions} partitions; Kafka codec ${s.codec}`,
  ].join('\n');
}

export function detailsSection(measured: Measured[]): string {
  const out: string[] = [];
  for (const m of measured) {
    out.push(`### ${m.stage}`);
    out.push(`- userpipe: \`${m.userpipe.label}\`: ${fmt.two(m.userpipe.seconds)} s of work (start to finish log line), ${fmt.two(m.userpipe.wallSeconds)} s wall for the process, ${m.userpipe.cpuSeconds === undefined ? 'CPU n/a' : `${fmt.two(m.userpipe.cpuSeconds)} s CPU`}, peak RSS ${fmt.mib(m.userpipe.peakRssBytes)}`);
    const runs = m.ceiling.runs && m.ceiling.runs.length > 1 ? ` (median of ${m.ceiling.runs.map((r) => fmt.two(r)).join(' / ')} s)` : '';
    out.push(`- ceiling: ${m.ceiling.label}: ${fmt.two(m.ceiling.seconds)} s${runs}`);
    out.push(`- counted: ${fmt.int(m.records)} records, ${fmt.one(m.bytes / 1e6)} MB of ${m.bytesWhat}`);
    if (m.userpipe.disturbed.length > 0) out.push(`- ⚠ a service was unavailable during the userpipe run (${[...new Set(m.userpipe.disturbed)].join('; ')}): figure not comparable`);
    for (const n of m.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}
