import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  BAD_GATEWAY_HTML,
  FAULT_KINDS,
  FaultPicker,
  OFFLINE_BODY,
  RATE_LIMIT_BODY,
  startRandomUserServer,
} from '../support/randomuser-server.ts';
import type { FaultStep, RandomUserServer, RandomUserServerOptions } from '../support/randomuser-server.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import type { RandomUserResponse } from '../../src/transforms/randomuser-types.ts';
import { checkResponseCompleteness, partitionUsers, validateResponse } from '../../src/transforms/user-schema.ts';

async function withServer(opts: RandomUserServerOptions, fn: (s: RandomUserServer) => Promise<void>): Promise<void> {
  const server = await startRandomUserServer(opts);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

async function getJson(url: string): Promise<RandomUserResponse> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as RandomUserResponse;
}

test('serves valid, deterministic API 1.4 responses for a seed and page', async () => {
  await withServer({}, async (s) => {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/1\.4\/$/);
    const a = await getJson(`${s.url}?results=50&seed=abc&page=2`);
    const b = await getJson(`${s.origin}/api/?results=50&seed=abc&page=2`);
    assert.deepEqual(a, b);
    assert.deepEqual(a, generateResponse({ seed: 'abc', page: 2, results: 50 }));
    assert.deepEqual(a.info, { seed: 'abc', results: 50, page: 2, version: '1.4' });
    const v = validateResponse(a);
    assert.ok(v.ok && partitionUsers(v.value.results).invalid.length === 0);
    const c = await getJson(`${s.url}?results=50&seed=abc&page=3`);
    assert.notEqual(c.results[0]?.login?.uuid, a.results[0]?.login?.uuid);
    assert.equal(s.stats.good, 3);
    assert.equal(s.stats.usersServed, 150);
  });
});

test('without a seed each answer gets a random 16-hex seed; page defaults to 1', async () => {
  await withServer({}, async (s) => {
    const a = await getJson(s.url);
    const b = await getJson(s.url);
    assert.match(a.info?.seed ?? '', /^[0-9a-f]{16}$/);
    assert.notEqual(a.info?.seed, b.info?.seed);
    assert.equal(a.info?.page, 1);
    assert.equal(a.results.length, 1);
  });
});

test('query parameters behave like the real service', async () => {
  await withServer({}, async (s) => {
    for (const [q, n] of [['0', 1], ['5001', 1], ['abc', 1], ['-3', 1], ['5000', 5000], ['7', 7]] as const) {
      assert.equal((await getJson(`${s.url}?seed=q&results=${q}`)).results.length, n, `results=${q}`);
    }
    const two = await getJson(`${s.url}?seed=q&results=300&nat=us,FR`);
    assert.deepEqual([...new Set(two.results.map((u) => u.nat))].sort(), ['FR', 'US']);
    // one unknown code: the whole list is ignored
    const ignored = await getJson(`${s.url}?seed=q&results=300&nat=us,xx`);
    assert.ok(new Set(ignored.results.map((u) => u.nat)).size > 10);
    const men = await getJson(`${s.url}?seed=q&results=100&gender=male`);
    assert.ok(men.results.every((u) => u.gender === 'male'));
    const inc = await getJson(`${s.url}?seed=q&results=3&inc=name,nat`);
    assert.deepEqual(Object.keys(inc.results[0] ?? {}), ['name', 'nat']);
    const exc = await getJson(`${s.url}?seed=q&results=3&exc=login,id`);
    assert.equal('login' in (exc.results[0] ?? {}), false);
    const noinfo = await getJson(`${s.url}?seed=q&results=3&noinfo&format=json`);
    assert.equal('info' in noinfo, false);
  });
});

test('unknown paths are 404 and not counted as API requests', async () => {
  await withServer({ faults: ['500'] }, async (s) => {
    const res = await fetch(`${s.origin}/api/1.3/`);
    assert.equal(res.status, 404);
    await res.text();
    assert.equal(s.stats.requests, 0);
    assert.equal(s.stats.notFound, 1);
    // the fault plan was not consumed by the 404
    assert.equal((await fetch(s.url)).status, 500);
  });
});

test('each fault is served exactly as configured, in sequence', async () => {
  const steps: FaultStep[] = ['500', '502', '429', '429-retry-after', 'empty', 'short', 'truncated', 'html-200', 'reset', 'ok'];
  await withServer({ faults: steps, retryAfter: '7' }, async (s) => {
    const url = `${s.url}?seed=faults&results=10`;
    const good = JSON.stringify(generateResponse({ seed: 'faults', page: 1, results: 10 }));

    let res = await fetch(url);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), OFFLINE_BODY);

    res = await fetch(url);
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(await res.text(), BAD_GATEWAY_HTML);

    res = await fetch(url);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), null);
    assert.equal(await res.text(), RATE_LIMIT_BODY);

    res = await fetch(url);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.match(((await res.json()) as { error: string }).error, /^Whoa, ease up there cowboy/);

    const empty = await getJson(url);
    assert.deepEqual(empty.results, []);
    assert.equal(empty.info?.results, 10);
    assert.equal(checkResponseCompleteness(empty).ok, false);

    const short = await getJson(url);
    assert.equal(short.results.length, 5);
    assert.equal(short.info?.results, 10);
    assert.deepEqual(checkResponseCompleteness(short), { ok: false, reason: 'short results: 5 of 10', expected: 10, received: 5 });

    res = await fetch(url);
    assert.equal(res.status, 200);
    const cut = await res.text();
    assert.ok(cut.length > 0 && cut.length < good.length && good.startsWith(cut));
    assert.throws(() => JSON.parse(cut) as unknown, SyntaxError);

    res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), /^<!DOCTYPE html>/);

    await assert.rejects(fetch(url), (err: Error & { cause?: { code?: string } }) => {
      assert.equal(err.name, 'TypeError');
      assert.match(String(err.cause?.code), /ECONNRESET|UND_ERR_SOCKET/);
      return true;
    });

    assert.equal(JSON.stringify(await getJson(url)), good);
    // the sequence is over: good answers from now on
    assert.equal((await getJson(url)).results.length, 10);

    const f = s.stats.faults;
    assert.deepEqual(
      FAULT_KINDS.filter((k) => f[k] === 1),
      ['500', '502', '429', '429-retry-after', 'empty', 'short', 'truncated', 'reset', 'html-200'],
    );
    assert.equal(f.slow, 0);
    assert.equal(s.stats.requests, 11);
    assert.equal(s.stats.good, 2);
    assert.deepEqual(s.log.map((e) => e.step), [...steps, 'ok']);
  });
});

test('a slow answer outlasts a client timeout, and still arrives for a patient client', async () => {
  await withServer({ faults: { kind: 'sequence', steps: ['slow'], loop: true }, slowMs: 400 }, async (s) => {
    const t0 = performance.now();
    await assert.rejects(fetch(s.url, { signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
    assert.ok(performance.now() - t0 < 350);
    const t1 = performance.now();
    const body = await getJson(`${s.url}?seed=slow`);
    assert.ok(performance.now() - t1 >= 380, 'answer came before slowMs');
    assert.equal(body.results.length, 1);
    assert.equal(s.stats.faults.slow, 2);
    assert.equal(s.stats.good, 0);
  });
});

test('close() does not wait for pending slow answers', async () => {
  const s = await startRandomUserServer({ faults: ['slow'], slowMs: 60_000 });
  const pending = fetch(s.url).then(
    () => 'answered',
    () => 'failed',
  );
  while (s.stats.requests === 0) await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  await s.close();
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(await pending, 'failed');
});

test('failEvery fails exactly every n-th request, rotating through the kinds', async () => {
  await withServer({ faults: { kind: 'every', failEvery: 3, kinds: ['500', 'reset'] } }, async (s) => {
    const outcomes: string[] = [];
    for (let i = 0; i < 9; i++) {
      try {
        outcomes.push(String((await fetch(`${s.url}?seed=e`)).status));
      } catch {
        outcomes.push('reset');
      }
    }
    assert.deepEqual(outcomes, ['200', '200', '500', '200', '200', 'reset', '200', '200', '500']);
    assert.equal(s.stats.faults['500'], 2);
    assert.equal(s.stats.faults.reset, 1);
    assert.equal(s.stats.good, 6);
  });
});

test('a fault ratio is deterministic for its seed and close to the ratio', () => {
  const draw = (seed: string, ratio: number): FaultStep[] => {
    const p = new FaultPicker({ kind: 'ratio', ratio, seed });
    return Array.from({ length: 900 }, (_, i) => p.next(i + 1));
  };
  const a = draw('s1', 0.33);
  assert.deepEqual(draw('s1', 0.33), a);
  assert.notDeepEqual(draw('s2', 0.33), a);
  const faults = a.filter((x) => x !== 'ok');
  assert.ok(faults.length > 240 && faults.length < 360, `${faults.length} faults of 900`);
  // rotation: every kind shows up equally often
  for (const k of FAULT_KINDS) assert.ok(faults.filter((x) => x === k).length >= Math.floor(faults.length / FAULT_KINDS.length));
  assert.ok(draw('s', 0).every((x) => x === 'ok'));
  assert.ok(draw('s', 1).every((x) => x !== 'ok'));
});

test('bad fault plans are refused', () => {
  assert.throws(() => new FaultPicker(['500', 'teapot' as FaultStep]), RangeError);
  assert.throws(() => new FaultPicker({ kind: 'every', failEvery: 0 }), RangeError);
  assert.throws(() => new FaultPicker({ kind: 'ratio', ratio: 1.5 }), RangeError);
  assert.throws(() => new FaultPicker({ kind: 'every', failEvery: 2, kinds: [] }), RangeError);
});

test('setFaults restarts the plan; setResponder serves fixture bodies, faults apply to them', async () => {
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/randomuser/invalid-users.json', import.meta.url), 'utf8'),
  ) as RandomUserResponse;
  await withServer({}, async (s) => {
    assert.equal((await fetch(s.url)).status, 200);
    s.setFaults(['ok', '502']);
    assert.equal((await fetch(s.url)).status, 200);
    assert.equal((await fetch(s.url)).status, 502);
    s.setResponder(() => fixture);
    assert.deepEqual(await getJson(s.url), fixture);
    s.setFaults(['short']);
    assert.equal((await getJson(s.url)).results.length, 5);
    s.resetStats();
    assert.equal(s.stats.requests, 0);
    assert.equal(s.log.length, 0);
  });
});

test('latencyMs delays every answer', async () => {
  await withServer({ latencyMs: 150 }, async (s) => {
    const t0 = performance.now();
    await getJson(s.url);
    assert.ok(performance.now() - t0 >= 140);
  });
});

test('the CLI prints its URL, serves the configured faults and exits 0 on SIGTERM', async () => {
  const script = new URL('../support/randomuser-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [script, '--port', '0', '--faults', '500,ok', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [url] = (await once(lines, 'line')) as [string];
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api\/1\.4\/$/);
    assert.equal((await fetch(url)).status, 500);
    assert.equal((await fetch(url)).status, 200);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
