/**
 * Run one measured child process: wall time, CPU seconds and peak RSS, plus an RSS series sampled from
 * /proc while it runs, and its stderr parsed as userpipe JSON log lines (the stage's own start/finish lines
 * give the work window, see `window`).
 */
import { spawn } from 'node:child_process';
import { launch } from '../../test/support/run-cli.ts';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./rusage-preload.mjs', import.meta.url));

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  component?: string;
  [field: string]: unknown;
}

export interface RssSample {
  /** Milliseconds since spawn. */
  tMs: number;
  rssBytes: number;
}

export interface ChildResult {
  label: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  startedAtMs: number;
  wallSeconds: number;
  /** User + system CPU of the process itself (exact for node children, sampled for others). */
  cpuSeconds: number | undefined;
  /** Kernel high-water mark of resident memory. */
  peakRssBytes: number | undefined;
  /** Peaks of V8's heap and of memory outside it, sampled inside the process (node children only). */
  heap?: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** One instant on the wall clock and on the monotonic clock V8 profiles use (node children only). */
  clock?: { wallMs: number; monoUs: number };
  rss: RssSample[];
  logs: LogLine[];
  stdout: string;
  /** Non-JSON stderr lines (the last 200). */
  stderr: string[];
  timedOut: boolean;
}

export interface ChildSpec {
  label: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  sampleMs?: number;
  /** Called with each parsed log line as it arrives. */
  onLog?: (line: LogLine, child: { pid: number | undefined; sinceSpawnMs: number }) => void;
  /** Exact resource usage written by the preload (node children only). */
  rusageFile?: string;
}

const CLK_TCK = 100;

function procSample(pid: number): { rss?: number; hwm?: number; cpu?: number } {
  const out: { rss?: number; hwm?: number; cpu?: number } = {};
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (rss?.[1]) out.rss = Number(rss[1]) * 1024;
    if (hwm?.[1]) out.hwm = Number(hwm[1]) * 1024;
    // Fields after the command name: utime is field 14, stime 15 (1-based, counting pid as 1).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (Number.isFinite(utime) && Number.isFinite(stime)) out.cpu = (utime + stime) / CLK_TCK;
  } catch {
    // Gone already, or no /proc (not Linux): the sample is simply missing.
  }
  return out;
}

export function runChild(spec: ChildSpec): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const startedAtMs = Date.now();
    const t0 = performance.now();
    const child = spawn(spec.command, spec.args, { cwd: spec.cwd ?? REPO_ROOT, env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const result: ChildResult = {
      label: spec.label,
      code: null,
      signal: null,
      startedAtMs,
      wallSeconds: 0,
      cpuSeconds: undefined,
      peakRssBytes: undefined,
      rss: [],
      logs: [],
      stdout: '',
      stderr: [],
      timedOut: false,
    };
    let sampledCpu: number | undefined;
    let sampledHwm: number | undefined;
    const sample = (): void => {
      if (child.pid === undefined) return;
      const s = procSample(child.pid);
      if (s.rss !== undefined) result.rss.push({ tMs: Math.round(performance.now() - t0), rssBytes: s.rss });
      if (s.hwm !== undefined) sampledHwm = Math.max(sampledHwm ?? 0, s.hwm);
      if (s.cpu !== undefined) sampledCpu = s.cpu;
    };
    const timer = setInterval(sample, spec.sampleMs ?? 100);
    const killTimer = setTimeout(() => {
      result.timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, spec.timeoutMs);

    let errBuf = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      errBuf += chunk;
      let nl: number;
      while ((nl = errBuf.indexOf('\n')) >= 0) {
        const line = errBuf.slice(0, nl);
        errBuf = errBuf.slice(nl + 1);
        handleLine(line);
      }
    });
    const handleLine = (line: string): void => {
      if (line.startsWith('{')) {
        try {
          const parsed = JSON.parse(line) as LogLine;
          if (typeof parsed.msg === 'string') {
            result.logs.push(parsed);
            spec.onLog?.(parsed, { pid: child.pid, sinceSpawnMs: performance.now() - t0 });
            return;
          }
        } catch {
          // not a log line
        }
      }
      if (line.trim() === '') return;
      result.stderr.push(line);
      if (result.stderr.length > 200) result.stderr.shift();
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (result.stdout.length < 1_000_000) result.stdout += chunk;
    });
    child.on('error', (err) => {
      clearInterval(timer);
      clearTimeout(killTimer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      clearTimeout(killTimer);
      if (errBuf) handleLine(errBuf);
      result.code = code;
      result.signal = signal;
      result.wallSeconds = (performance.now() - t0) / 1000;
      result.cpuSeconds = sampledCpu;
      result.peakRssBytes = sampledHwm;
      if (spec.rusageFile) {
        try {
          const u = JSON.parse(readFileSync(spec.rusageFile, 'utf8')) as {
            userUs: number;
            systemUs: number;
            maxRssKiB: number;
            peak?: ChildResult['heap'];
            clock?: ChildResult['clock'];
          };
          result.cpuSeconds = (u.userUs + u.systemUs) / 1e6;
          result.peakRssBytes = u.maxRssKiB * 1024;
          if (u.peak) result.heap = u.peak;
          if (u.clock) result.clock = u.clock;
        } catch {
          // The process died before its exit handler: keep the sampled figures.
        }
        rmSync(spec.rusageFile, { force: true });
      }
      resolve(result);
    });
  });
}

let seq = 0;

/** Environment for a userpipe child: no USERPIPE_ or INFLUX_ variable of the caller leaks into the options. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('USERPIPE_') || k.startsWith('INFLUX_')) continue;
    env[k] = v;
  }
  return { ...env, USERPIPE_LOG_FORMAT: 'json', ...extra };
}

export interface UserpipeRun {
  label: string;
  args: string[];
  timeoutMs: number;
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  env?: NodeJS.ProcessEnv;
  sampleMs?: number;
  onLog?: ChildSpec['onLog'];
}

/** The CLI as users run it: the built entry when current, with bin/userpipe's node flags (heap budget). */
export function runUserpipe(run: UserpipeRun): Promise<ChildResult> {
  const rusageFile = join(tmpdir(), `userpipe-bench-rusage-${process.pid}-${++seq}.json`);
  const l = launch(['--import', PRELOAD, ...(run.nodeFlags ?? [])]);
  return runChild({
    label: run.label,
    command: l.command,
    args: [...l.argsBefore, ...run.args],
    env: cleanEnv({ ...run.env, ...l.env, BENCH_RUSAGE_FILE: rusageFile }),
    timeoutMs: run.timeoutMs,
    sampleMs: run.sampleMs,
    onLog: run.onLog,
    rusageFile,
  });
}

/** Milliseconds epoch of the first log line with this message, or undefined. */
export function logTime(r: ChildResult, msg: string): number | undefined {
  const line = r.logs.find((l) => l.msg === msg);
  return line ? Date.parse(line.time) : undefined;
}

/**
 * The stage's work window in seconds: from its start log line to its finish log line. Node's own start-up
 * (loading modules) and exit are outside it, as the JVM's start-up is outside ProducerPerformance's figure.
 * Falls back to the whole wall time when a line is missing.
 */
export function window(r: ChildResult, startMsg: string, endMsg: string): number {
  const a = logTime(r, startMsg);
  const b = logTime(r, endMsg);
  if (a === undefined || b === undefined || b < a) return r.wallSeconds;
  return Math.max(0.001, (b - a) / 1000);
}

/** Warnings that mean a service was unavailable during the run (another engineer restarting it). */
const OUTAGE = /unavailable|retrying|heartbeats stalled|membership lost|commit failed|out of range/i;

export function disturbances(r: ChildResult): string[] {
  return r.logs.filter((l) => (l.level === 'warn' || l.level === 'error') && OUTAGE.test(l.msg)).map((l) => `${l.component ?? ''} ${l.msg}`.trim());
}

/** Throw with the child's last output unless it exited 0. */
export function ensureOk(r: ChildResult): void {
  if (r.code === 0 && !r.timedOut) return;
  const errors = r.logs.filter((l) => l.level === 'error' || l.level === 'warn').slice(-5).map((l) => JSON.stringify(l));
  throw new Error(
    `${r.label} ${r.timedOut ? 'timed out' : `exited ${r.code ?? r.signal}`}\n${[...errors, ...r.stderr.slice(-15)].join('\n')}`,
  );
}
