/**
 * Run the userpipe CLI as a real process (`node src/main.ts ...`, no build needed) and capture what it did:
 * exit code, signal, stdout, stderr. For integration tests of any command.
 *
 * The child's environment is the parent's minus every `USERPIPE_*` variable (a developer's shell must not change a
 * test's outcome), plus `env`. A run that outlives `timeoutMs` is killed (SIGKILL) and reported as `timedOut`.
 *
 *     const r = await runCli(['fetch', '--help']);
 *     const p = startCli(['fetch', '--api-url', url]); await p.waitForOutput(/fetch started/); p.kill('SIGINT');
 *     const r2 = await p.done;
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC_MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Newest modification time under a directory (ms), 0 if it does not exist. */
function newest(dir: string): number {
  let max = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) max = Math.max(max, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
  } catch {
    return 0;
  }
  return max;
}

/**
 * The CLI entry tests run: the built `dist/main.js`, as `bin/userpipe` does (so memory and speed are what users
 * get), unless the sources are newer than the build (a developer editing without `npm run build`) or
 * USERPIPE_TEST_CLI=src. `scripts/test.sh` always builds first.
 */
export const MAIN = (() => {
  if (process.env.USERPIPE_TEST_CLI === 'src') return SRC_MAIN;
  if (process.env.USERPIPE_TEST_CLI === 'dist') return DIST_MAIN;
  const built = newest(fileURLToPath(new URL('../../dist', import.meta.url)));
  const source = newest(fileURLToPath(new URL('../../src', import.meta.url)));
  return built > 0 && built >= source ? DIST_MAIN : SRC_MAIN;
})();

export interface RunCliOptions {
  /** Added to (or, with `undefined` values, removed from) the cleaned environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the process (SIGKILL) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Written to the child's stdin, which is then closed. Default: stdin closed at once. */
  input?: string;
  /** Extra arguments for node itself (before the script). */
  nodeArgs?: string[];
}

export interface CliResult {
  /** Exit code, or null when ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What was printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr matches `pattern` (rejects after `timeoutMs`, or if the process ends first). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the process has exited and its pipes are closed. */
  readonly done: Promise<CliResult>;
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('USERPIPE_')) env[k] = v;
  env.NO_COLOR = '1';
  env.FORCE_COLOR = '0';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export const BIN = fileURLToPath(new URL('../../bin/userpipe', import.meta.url));

/**
 * How to start the CLI as users do: through `bin/userpipe` (its per-command memory budget and malloc setting),
 * with this test's node binary and entry (MAIN), and extra node flags after the budget (later flags win).
 * The launcher execs node, so the child's pid is userpipe's own.
 */
export function launch(nodeFlags: readonly string[] = []): { command: string; argsBefore: string[]; env: Record<string, string> } {
  return {
    command: '/bin/sh',
    argsBefore: [BIN],
    env: { USERPIPE_NODE: process.execPath, USERPIPE_ENTRY: MAIN, USERPIPE_NODE_FLAGS: nodeFlags.join(' ') },
  };
}

export function startCli(args: readonly string[], opts: RunCliOptions = {}): CliProcess {
  const started = Date.now();
  const l = launch(opts.nodeArgs);
  const child = spawn(l.command, [...l.argsBefore, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cliEnv({ ...l.env, ...opts.env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let timedOut = false;
  let exited = false;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    notify();
  });
  // A child that exits before reading its stdin must not crash the test with EPIPE.
  child.stdin.on('error', () => {});
  if (opts.input !== undefined) child.stdin.end(opts.input);
  else child.stdin.end();
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      exited = true;
      notify();
      resolve({ code, signal, stdout: out, stderr: err, timedOut, durationMs: Date.now() - started });
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(out) || pattern.test(err)) finish();
          else if (exited) finish(new Error(`process exited before printing ${pattern}\nstderr:\n${err}`));
        };
        const t = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}\nstderr:\n${err}`)), timeoutMs);
        const finish = (e?: Error): void => {
          clearTimeout(t);
          listeners.delete(check);
          if (e) reject(e);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
    kill(signal = 'SIGTERM') {
      if (!exited) child.kill(signal);
    },
    done,
  };
}

/** Run to completion and return what happened. */
export function runCli(args: readonly string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}
