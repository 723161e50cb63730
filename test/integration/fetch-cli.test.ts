/**
 * `userpipe fetch` end to end, as a real process (`node src/main.ts fetch ...`) against the project's own
 * RandomUser test server (never the real API): the Must-show points of issue 3, plus interruption and pipes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FETCH_OPTIONS } from '../../src/cli/fetch-options.ts';
import { helpDescription } from '../../src/cli/program.ts';
import { flagName } from '../../src/cli/option-spec.ts';
import { parseSpoolName } from '../../src/sinks/spool-name.ts';
import { cursorPath } from '../../src/sources/fetch-cursor.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import type { RandomUserResponse } from '../../src/transforms/randomuser-types.ts';
import { validateResponse, validateUser } from '../../src/transforms/user-schema.ts';
import { FAULT_KINDS, startRandomUserServer, type FaultStep, type RandomUserServer } from '../support/randomuser-server.ts';
import { runCli, startCli } from '../support/run-cli.ts';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), `userpipe-fetch-${Date.now()}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(t: { after: (fn: () => Promise<void>) => void }, opts: Parameters<typeof startRandomUserServer>[0] = {}): Promise<RandomUserServer> {
  const s = await startRandomUserServer(opts);
  t.after(() => s.close());
  return s;
}

const visible = (dir: string): string[] => readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
const hidden = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.'));
const collapse = (s: string): string => s.replace(/\s+/g, ' ');

/** Read a spool file: exactly one line of JSON. */
function readSpoolFile(path: string): RandomUserResponse {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), `${path} ends with a newline`);
  assert.equal(text.indexOf('\n'), text.length - 1, `${path} is one line`);
  return JSON.parse(text) as RandomUserResponse;
}

async function waitFor(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('1. `userpipe --help` and `userpipe fetch --help` explain every option with its default', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  const topText = collapse(top.stdout);
  assert.match(topText, /fetch \[options\] poll the RandomUser API/);
  for (const re of [/--config <file>/, /--log-level <level> log level \(default: info/, /--log-format <format> .*\(default: text/, /--quiet/]) {
    assert.match(topText, re);
  }
  assert.match(topText, /Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 130 interrupted/);
  assert.match(topText, /Precedence: flags > environment > config file > defaults/);

  const help = await runCli(['fetch', '--help']);
  assert.equal(help.code, 0);
  const text = collapse(help.stdout);
  for (const spec of FETCH_OPTIONS) {
    assert.ok(text.includes(flagName(spec.flag)), `${spec.flag} listed`);
    // The whole description, default and environment variable, as help prints them (wrapping collapsed).
    assert.ok(text.includes(collapse(helpDescription(spec))), `${spec.flag}: ${helpDescription(spec)}`);
    if (spec.type !== 'boolean') assert.match(helpDescription(spec), /default: \S/, `${spec.flag} shows a default`);
  }
  for (const d of ['default: https://randomuser.me/api/1.4/', 'default: 1;', 'default: us;', 'default: 1s;', 'default: 20000;', 'default: 5m;', 'default: <data-dir>/spool;', 'default: 5;']) {
    assert.ok(text.includes(d), d);
  }
  assert.match(text, /Examples: .*userpipe fetch --once/);
  assert.equal((await runCli(['help', 'fetch'])).stdout, help.stdout);
});

test('2. --count 20 --results 50 --interval 0: exactly 20 one-line JSON files of 50 users, unique names in fetch order, no temp file', async (t) => {
  const dir = tmp(t);
  // Number each answer by the order the server sent it: info.page = request number.
  const s = await server(t, { responder: (q, n) => generateResponse({ seed: 'order', page: n, results: q.results, nat: q.nat }) });
  const spool = join(dir, 'spool');
  const r = await runCli(['fetch', '--api-url', s.url, '--count', '20', '--results', '50', '--interval', '0', '--spool-dir', spool, '--data-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'stdout is for data only');
  const names = visible(spool);
  assert.equal(names.length, 20);
  assert.deepEqual(hidden(spool), [], 'no temporary file');
  assert.equal(new Set(names).size, 20);
  const pages: number[] = [];
  let lastStamp = -1;
  for (const name of names) {
    const stamp = parseSpoolName(name);
    assert.ok(stamp, `${name} carries its fetch time`);
    const key = stamp.fetchedAtMs * 100 + stamp.seq;
    assert.ok(key > lastStamp, 'fetch times strictly increase in name order');
    lastStamp = key;
    assert.ok(Math.abs(stamp.fetchedAtMs - Date.now()) < 60_000, 'the name carries the real fetch time');
    const body = readSpoolFile(join(spool, name));
    assert.equal(body.results.length, 50);
    assert.ok(validateResponse(body).ok);
    pages.push(body.info?.page ?? -1);
  }
  assert.deepEqual(pages, Array.from({ length: 20 }, (_, i) => i + 1), 'sorted names = the order responses were fetched');
  assert.match(r.stderr, /fetch finished responses=20 users=1000 quarantined=0 failedRequests=0 retries=0/);
});

test('3. a server failing a third of the requests, every fault kind: still 20 good files, exit 0, one log line per retry', async (t) => {
  const dir = tmp(t);
  // Requests 1, 4, 7, ... fail, each with the next fault kind: 10 faults for 20 good answers.
  const steps: FaultStep[] = FAULT_KINDS.flatMap((k) => [k, 'ok', 'ok'] as FaultStep[]);
  const s = await server(t, { faults: { kind: 'sequence', steps }, slowMs: 3000, retryAfter: '1' });
  const spool = join(dir, 'spool');
  const r = await runCli([
    'fetch', '--api-url', s.url, '--count', '20', '--results', '50', '--interval', '0', '--spool-dir', spool, '--data-dir', dir,
    '--response-timeout', '300ms', '--retry-delay', '20ms',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const names = visible(spool);
  assert.equal(names.length, 20);
  assert.deepEqual(hidden(spool), []);
  for (const n of names) assert.equal(readSpoolFile(join(spool, n)).results.length, 50);
  for (const kind of FAULT_KINDS) assert.equal(s.stats.faults[kind], 1, `${kind} served once`);

  const lines = r.stderr.split('\n');
  const retries = lines.filter((l) => /request failed, retrying/.test(l));
  assert.equal(retries.length, 10, `one line per retry:\n${retries.join('\n')}`);
  for (const code of ['UNAVAILABLE', 'RATE_LIMITED', 'BAD_RESPONSE', 'TIMEOUT', 'NETWORK']) {
    assert.ok(retries.some((l) => l.includes(`code=${code}`)), `a ${code} retry is logged`);
  }
  for (const reason of [/HTTP 500/, /HTTP 502/, /HTTP 429/, /empty results/, /short results: 25 of 50/, /truncated JSON/, /timeout \(response\)/, /ECONNRESET/, /HTML page instead of JSON/]) {
    assert.ok(retries.some((l) => reason.test(l)), `${reason} in the log`);
  }
  assert.ok(retries.some((l) => /retryAfterMs=1000/.test(l)), 'Retry-After honoured');
  assert.equal(lines.filter((l) => / ERROR /.test(l)).length, 0, 'no request failed for good');
  assert.match(r.stderr, /fetch finished responses=20 users=1000 .* retries=10/);
});

test('a request failing every attempt is logged once; with --once the exit code is 1', async (t) => {
  const dir = tmp(t);
  const s = await server(t, { faults: { kind: 'every', failEvery: 1, kinds: ['500'] } });
  const r = await runCli(['fetch', '--api-url', s.url, '--once', '--max-attempts', '3', '--retry-delay', '10ms', '--data-dir', dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(s.stats.requests, 3);
  assert.equal(r.stderr.split('\n').filter((l) => /request failed, retrying/.test(l)).length, 2);
  const failed = r.stderr.split('\n').filter((l) => / ERROR /.test(l));
  assert.equal(failed.length, 1, r.stderr);
  assert.match(failed[0] ?? '', /request failed code=UNAVAILABLE reason="HTTP 500: Uh oh.*" attempts=3/);

  s.setFaults({ kind: 'none' });
  const ok = await runCli(['fetch', '--api-url', s.url, '--once', '--data-dir', dir]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(visible(join(dir, 'spool')).length, 1);
});

test('invalid users go to the quarantine file with the reason; the valid ones are written', async (t) => {
  const dir = tmp(t);
  const s = await server(t, {
    responder: (q, n) => {
      const body = generateResponse({ seed: 'q', page: n, results: q.results, nat: q.nat });
      (body.results[0] as Record<string, unknown>).nat = 'XX';
      (body.results[2] as Record<string, unknown>).dob = { date: 'yesterday', age: 3 };
      return body;
    },
  });
  const r = await runCli(['fetch', '--api-url', s.url, '--count', '2', '--results', '5', '--interval', '0', '--data-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  const names = visible(join(dir, 'spool'));
  assert.equal(names.length, 2);
  for (const n of names) {
    const body = readSpoolFile(join(dir, 'spool', n));
    assert.equal(body.results.length, 3);
    assert.ok(body.results.every((u) => validateUser(u).ok));
  }
  const qfiles = readdirSync(join(dir, 'quarantine'));
  assert.equal(qfiles.length, 1);
  assert.match(qfiles[0] ?? '', /^fetch-\d{8}\.ndjson$/);
  const entries = readFileSync(join(dir, 'quarantine', qfiles[0] ?? ''), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(entries.length, 4);
  assert.deepEqual(entries.map((e) => e.index), [0, 2, 0, 2]);
  assert.match(String(entries[0]?.reason), /\/nat must be one of/);
  assert.match(String(entries[1]?.reason), /\/dob\/date has an unexpected format/);
  assert.equal((entries[0]?.user as { nat: string }).nat, 'XX');
  assert.ok(!Number.isNaN(Date.parse(String(entries[0]?.fetchedAt))));
  assert.match(r.stderr, /invalid users quarantined count=2 of=5/);
  assert.match(r.stderr, /fetch finished responses=2 users=6 quarantined=4/);
});

test('4. a watcher reading the spool dir during a full-speed fetch never sees a partial file', async (t) => {
  const dir = tmp(t);
  const spool = join(dir, 'spool');
  mkdirSync(spool);
  const s = await server(t);
  let reads = 0;
  const bad: string[] = [];
  const seen = new Set<string>();
  const readAll = (): void => {
    let names: string[];
    try {
      names = readdirSync(spool);
    } catch {
      return;
    }
    for (const n of names) {
      // The moment that matters is a name's first appearance (right after its rename); read each name then.
      if (n.startsWith('.') || seen.has(n)) continue;
      let text: string;
      try {
        text = readFileSync(join(spool, n), 'utf8');
      } catch (err) {
        bad.push(`${n}: ${(err as Error).message}`);
        continue;
      }
      reads += 1;
      seen.add(n);
      try {
        const body = JSON.parse(text) as RandomUserResponse;
        if (body.results.length !== 20 || text.indexOf('\n') !== text.length - 1) bad.push(`${n}: incomplete`);
      } catch (err) {
        bad.push(`${n}: ${(err as Error).message} (${text.length} bytes)`);
      }
    }
  };
  const watcher = watch(spool, () => readAll());
  const poller = setInterval(readAll, 1);
  try {
    const p = startCli(['fetch', '--api-url', s.url, '--count', '300', '--results', '20', '--interval', '0', '--spool-dir', spool, '--data-dir', dir]);
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
  } finally {
    watcher.close();
    clearInterval(poller);
  }
  const readWhileRunning = reads;
  readAll();
  assert.deepEqual(bad, []);
  assert.equal(seen.size, 300);
  assert.ok(readWhileRunning >= 250, `the watcher read files as they appeared (${readWhileRunning} of 300 while fetch ran)`);
});

test('5. --seed s --page 1, killed (SIGKILL, SIGINT) and restarted, continues at the next unwritten page: none twice, none lost', async (t) => {
  const dir = tmp(t);
  const spool = join(dir, 'spool');
  const s = await server(t, { latencyMs: 2 });
  const args = ['fetch', '--api-url', s.url, '--seed', 's', '--page', '1', '--results', '7', '--interval', '0', '--spool-dir', spool, '--data-dir', dir];
  const count = (): number => (existsSync(spool) ? visible(spool).length : 0);

  for (const signal of ['SIGKILL', 'SIGINT', 'SIGKILL', 'SIGKILL'] as const) {
    const before = count();
    const p = startCli(args);
    await waitFor(() => count() >= before + 8 + Math.floor(Math.random() * 8), 30_000, 'files');
    p.kill(signal);
    const r = await p.done;
    if (signal === 'SIGINT') assert.equal(r.code, 130, r.stderr);
    else assert.equal(r.signal, 'SIGKILL');
  }
  // A last run that ends by itself.
  const last = await runCli([...args, '--count', '5']);
  assert.equal(last.code, 0, last.stderr);
  assert.match(last.stderr, /resuming from page cursor/);

  const names = visible(spool);
  const pages = names.map((n) => readSpoolFile(join(spool, n)).info?.page ?? -1);
  const n = names.length;
  assert.ok(n >= 4 * 8 + 5, `${n} pages written`);
  assert.deepEqual([...pages].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1), 'pages 1..n, each exactly once');
  assert.deepEqual(pages, [...pages].sort((a, b) => a - b), 'file names sort in page order');
  for (const name of names) {
    const body = readSpoolFile(join(spool, name));
    const page = body.info?.page ?? -1;
    const expected = generateResponse({ seed: 's', page, results: 7, nat: ['US'] }).results.map((u) => u.login?.uuid);
    assert.deepEqual(body.results.map((u) => u.login?.uuid), expected, `page ${page} holds that page's users`);
  }
  const cursor = JSON.parse(readFileSync(cursorPath(dir, 's'), 'utf8')) as { nextPage: number };
  assert.equal(cursor.nextPage, n + 1);
  assert.equal(existsSync(`${cursorPath(dir, 's')}.lock`), false, 'the lock is released at the end');
});

test('6. --source synthetic --count 3 --results 1000 --stdout prints 3 lines that pass the schema', async () => {
  const r = await runCli(['fetch', '--source', 'synthetic', '--count', '3', '--results', '1000', '--stdout', '--interval', '0']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 3);
  const uuids = new Set<string>();
  for (const line of lines) {
    const body = JSON.parse(line) as unknown;
    const v = validateResponse(body);
    assert.ok(v.ok);
    assert.equal(v.value.results.length, 1000);
    for (const u of v.value.results) {
      const check = validateUser(u);
      assert.ok(check.ok, check.ok ? '' : check.reason);
      uuids.add(u.login?.uuid ?? '');
    }
  }
  assert.equal(uuids.size, 3000, 'every response has new users');
  assert.doesNotMatch(r.stdout, /INFO|WARN/, 'logs stay on stderr');
});

test('7. bad --nat, --results 0 or an unreadable config file: exit 2 naming the problem, before anything starts', async (t) => {
  const dir = tmp(t);
  const data = join(dir, 'data');
  const cases: Array<[string[], RegExp]> = [
    [['--nat', 'us,xx'], /invalid --nat: unknown nationality "xx"/],
    [['--results', '0'], /invalid --results: must be >= 1/],
    [['--results', '5001'], /invalid --results: must be <= 5000/],
    [['--interval', 'often'], /invalid --interval: must be a duration/],
    [['--source', 'kafka'], /invalid --source: "kafka" is not one of randomuser, synthetic/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['fetch', '--data-dir', data, '--api-url', 'http://127.0.0.1:9/api/', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const env = await runCli(['fetch', '--data-dir', data], { env: { USERPIPE_NAT: 'zz' } });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /unknown nationality "zz"/);

  const missing = await runCli(['--config', join(dir, 'nope.yaml'), 'fetch', '--data-dir', data]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read config file .*nope\.yaml: ENOENT/);
  const isDir = await runCli(['fetch', '--data-dir', data], { env: { USERPIPE_CONFIG: dir } });
  assert.equal(isDir.code, 2);
  assert.match(isDir.stderr, /cannot read config file .*EISDIR/);
  writeFileSync(join(dir, 'bad.yaml'), 'fetch:\n  results: [1\n');
  const invalid = await runCli(['--config', join(dir, 'bad.yaml'), 'fetch', '--data-dir', data]);
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /bad\.yaml is not valid YAML/);
  writeFileSync(join(dir, 'typo.yaml'), 'fetch:\n  reslts: 5\n');
  const typo = await runCli(['--config', join(dir, 'typo.yaml'), 'fetch', '--data-dir', data]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown option "reslts" in section "fetch"/);
  assert.equal(existsSync(data), false, 'nothing started: no data dir created');
});

test('a config file configures fetch; the environment and flags override it', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'userpipe.yaml'), `fetch:\n  source: synthetic\n  results: 4\n  count: 2\n  interval: 0\n  nat: [gb]\n`);
  const r = await runCli(['--config', join(dir, 'userpipe.yaml'), 'fetch', '--stdout', '--count', '3'], { env: { USERPIPE_RESULTS: '5' } });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RandomUserResponse);
  assert.equal(lines.length, 3, 'flag beats file');
  assert.ok(lines.every((b) => b.results.length === 5), 'env beats file');
  assert.ok(lines.every((b) => b.results.every((u) => u.nat === 'GB')), 'file beats default');
});

test('fetch --stdout | head -1: the reader going away ends fetch quietly with exit 0', async () => {
  const p = startCli(['fetch', '--source', 'synthetic', '--stdout', '--interval', '0', '--results', '200']);
  await waitFor(() => p.stdout().includes('\n'), 20_000, 'a first line');
  p.child.stdout?.destroy(); // what `head -1` does after its line
  const r = await p.done;
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|internal error|ERROR/);
  assert.ok(JSON.parse(r.stdout.split('\n')[0] ?? ''));
});

for (const twice of [false, true]) {
  test(`SIGINT ${twice ? 'twice (hard abort)' : 'once (drain)'} during a run: exit 130, every visible file complete, no temp file left`, async (t) => {
    const dir = tmp(t);
    const spool = join(dir, 'spool');
    const s = await server(t, { latencyMs: 5 });
    const p = startCli(['fetch', '--api-url', s.url, '--results', '100', '--interval', '0', '--spool-dir', spool, '--data-dir', dir]);
    await waitFor(() => existsSync(spool) && visible(spool).length >= 5, 20_000, 'files');
    p.kill('SIGINT');
    if (twice) {
      // The second signal is the hard abort (if the drain has not finished already).
      await p.waitForOutput(/SIGINT received/).catch(() => {});
      p.kill('SIGINT');
    }
    const r = await p.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /SIGINT received, stopping/);
    assert.deepEqual(hidden(spool), []);
    for (const n of visible(spool)) assert.equal(readSpoolFile(join(spool, n)).results.length, 100);
    if (!twice) assert.match(r.stderr, /fetch finished/);
  });
}

test('regression: an unknown USERPIPE_LOG_LEVEL was accepted and silently logged everything; now exit 2', async () => {
  const r = await runCli(['fetch', '--source', 'synthetic', '--count', '1', '--stdout'], { env: { USERPIPE_LOG_LEVEL: 'verbose' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid USERPIPE_LOG_LEVEL \(environment\): "verbose" is not one of debug, info, warn, error, silent/);
  assert.equal(r.stdout, '');
  const json = await runCli(['fetch', '--source', 'synthetic', '--count', '1', '--stdout'], { env: { USERPIPE_LOG_FORMAT: 'json' } });
  assert.equal(json.code, 0);
  assert.ok(json.stderr.trim().split('\n').every((l) => typeof (JSON.parse(l) as { msg: string }).msg === 'string'));
});
