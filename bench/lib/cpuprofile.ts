/**
 * Summarise a V8 .cpuprofile (`node --cpu-prof`): self time per function, and time per area (userpipe file,
 * library, Node internals, GC), both self and inclusive, as shares of the busy (non-idle) time.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './child.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Entry {
  key: string;
  area: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  /** Busy share of the main thread in each tenth of the window (where in the run the waiting is). */
  busyByTenth: number[];
  functions: Entry[];
  areas: Entry[];
}

function where(url: string): string {
  if (url === '') return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      path = url;
    }
  }
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  if (path.startsWith('/')) return relative(REPO_ROOT, path);
  return path;
}

/** The area a frame belongs to: a userpipe file, a package, Node's own JS, or a V8 pseudo-frame. */
export function areaOf(f: CallFrame): string {
  if (f.url === '') {
    if (f.functionName.startsWith('(')) return f.functionName; // (garbage collector), (idle), (program)
    return '(native)';
  }
  if (f.url.startsWith('node:')) return 'node internals';
  const w = where(f.url);
  if (w.startsWith('@')) return w.split('/').slice(0, 2).join('/');
  if (!w.startsWith('src/') && !w.startsWith('bench/') && w.includes('/')) return w.split('/')[0] ?? w;
  return w;
}

function keyOf(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  const w = where(f.url);
  return w ? `${name} ${w}:${f.lineNumber + 1}` : name;
}

/** `window`: only samples taken between these monotonic times (µs, the profile's own clock). */
export function summarize(file: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  const areaTotal = new Map<string, number>();
  const fnArea = new Map<string, string>();
  let total = 0;
  let idle = 0;
  let at = p.startTime;
  const from = window?.fromUs ?? p.startTime;
  const to = window?.toUs ?? p.endTime;
  const tenthBusy = new Array<number>(10).fill(0);
  const tenthAll = new Array<number>(10).fill(0);
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    // A sample stands for the time until the next one.
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    const id = p.samples[i] as number;
    const node = byId.get(id);
    if (!node) continue;
    total += dt;
    const tenth = Math.min(9, Math.floor(((at - from) / Math.max(1, to - from)) * 10));
    tenthAll[tenth] = (tenthAll[tenth] ?? 0) + dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    tenthBusy[tenth] = (tenthBusy[tenth] ?? 0) + dt;
    const k = keyOf(node.callFrame);
    const a = areaOf(node.callFrame);
    fnArea.set(k, a);
    fnSelf.set(k, (fnSelf.get(k) ?? 0) + dt);
    areaSelf.set(a, (areaSelf.get(a) ?? 0) + dt);
    // Inclusive: every distinct function and area on the stack, once per sample.
    const seenFn = new Set<string>();
    const seenArea = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || n.callFrame.functionName === '(root)') continue;
      const ck = keyOf(n.callFrame);
      const ca = areaOf(n.callFrame);
      if (!seenFn.has(ck)) {
        seenFn.add(ck);
        fnArea.set(ck, ca);
        fnTotal.set(ck, (fnTotal.get(ck) ?? 0) + dt);
      }
      if (!seenArea.has(ca)) {
        seenArea.add(ca);
        areaTotal.set(ca, (areaTotal.get(ca) ?? 0) + dt);
      }
    }
  }
  const entries = (self: Map<string, number>, tot: Map<string, number>, areaFor: (k: string) => string): Entry[] =>
    [...new Set([...self.keys(), ...tot.keys()])].map((k) => ({ key: k, area: areaFor(k), selfMs: self.get(k) ?? 0, totalMs: tot.get(k) ?? 0 }));
  return {
    totalMs: total,
    idleMs: idle,
    busyMs: total - idle,
    busyByTenth: tenthAll.map((a, i) => (a > 0 ? (tenthBusy[i] ?? 0) / a : 0)),
    functions: entries(fnSelf, fnTotal, (k) => fnArea.get(k) ?? '').sort((a, b) => b.selfMs - a.selfMs),
    areas: entries(areaSelf, areaTotal, (k) => k).sort((a, b) => b.selfMs - a.selfMs),
  };
}

const pct = (x: number, of: number): string => `${((100 * x) / of).toFixed(1)}%`;

/** Markdown tables: top functions by self time, areas by self time (with inclusive), and top userpipe functions by inclusive time. */
export function summaryMarkdown(s: ProfileSummary, top = 20, ours = 15): string {
  const lines: string[] = [];
  lines.push(`Profile: ${(s.totalMs / 1000).toFixed(2)} s sampled, ${(s.busyMs / 1000).toFixed(2)} s busy on the main thread (${pct(s.idleMs, s.totalMs)} idle: waiting on I/O). Shares below are of busy time.`);
  lines.push('');
  lines.push(`Main thread busy per tenth of the window: ${s.busyByTenth.map((b) => `${Math.round(b * 100)}%`).join(' · ')}`);
  lines.push('');
  lines.push('Top functions by self time:');
  lines.push('');
  lines.push('| self | self % | total % | function | area |');
  lines.push('|---:|---:|---:|---|---|');
  for (const f of s.functions.slice(0, top)) {
    lines.push(`| ${f.selfMs.toFixed(0)} ms | ${pct(f.selfMs, s.busyMs)} | ${pct(f.totalMs, s.busyMs)} | \`${f.key}\` | ${f.area} |`);
  }
  lines.push('');
  lines.push('By area (self time; inclusive = time with that area anywhere on the stack):');
  lines.push('');
  lines.push('| area | self % | inclusive % |');
  lines.push('|---|---:|---:|');
  for (const a of s.areas.filter((x) => x.selfMs / s.busyMs >= 0.01).slice(0, 20)) {
    lines.push(`| ${a.key} | ${pct(a.selfMs, s.busyMs)} | ${pct(a.totalMs, s.busyMs)} |`);
  }
  lines.push('');
  lines.push('userpipe functions by inclusive time (where the work is started from):');
  lines.push('');
  lines.push('| inclusive % | self % | function |');
  lines.push('|---:|---:|---|');
  const mine = s.functions.filter((f) => f.area.startsWith('src/')).sort((a, b) => b.totalMs - a.totalMs);
  for (const f of mine.slice(0, ours)) lines.push(`| ${pct(f.totalMs, s.busyMs)} | ${pct(f.selfMs, s.busyMs)} | \`${f.key}\` |`);
  return lines.join('\n');
}
