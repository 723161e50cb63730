import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, PipelineError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { PageCursor, cursorPath } from '../../src/sources/fetch-cursor.ts';

const PARAMS = { source: 'randomuser', results: 10, nat: ['US'], inc: [], exc: [] };

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'userpipe-cursor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const open = (dataDir: string, over: Partial<Parameters<typeof PageCursor.open>[0]> = {}) =>
  PageCursor.open({ dataDir, seed: 's', params: PARAMS, startPage: 1, log: silentLogger, ...over });

test('a new cursor starts at the given page and is saved under <data-dir>/state', async (t) => {
  const dir = tmp(t);
  const c = await open(dir, { startPage: 7 });
  t.after(() => c.release());
  assert.equal(c.nextPage, 7);
  assert.equal(c.path, cursorPath(dir, 's'));
  assert.match(c.path, /\/state\/fetch-cursor-[0-9a-f]{16}\.json$/);
  assert.equal(JSON.parse(readFileSync(c.path, 'utf8')).nextPage, 7);
  assert.notEqual(cursorPath(dir, 's'), cursorPath(dir, 't'), 'one cursor per seed');
});

test('commit advances; a reopened cursor continues at the next unwritten page, whatever --page says', async (t) => {
  const dir = tmp(t);
  const c = await open(dir);
  await c.commit(1);
  await c.commit(2);
  await c.commit(2); // already recorded: no-op
  assert.equal(c.nextPage, 3);
  await c.release();
  const again = await open(dir, { startPage: 1 });
  t.after(() => again.release());
  assert.equal(again.nextPage, 3);
});

test('pages are recorded strictly in order: skipping or repeating one is a bug, not a silent gap', async (t) => {
  const dir = tmp(t);
  const c = await open(dir);
  t.after(() => c.release());
  await assert.rejects(c.commit(2), (e) => e instanceof PipelineError && e.code === 'INTERNAL');
  await assert.rejects(c.prepare(3, '/x/.t', '/x/t'), (e) => e instanceof PipelineError && e.code === 'INTERNAL');
  assert.equal(c.nextPage, 1);
});

test('crash between cursor update and rename: reopening finishes the rename (the page is neither lost nor fetched twice)', async (t) => {
  const dir = tmp(t);
  const spool = join(dir, 'spool');
  mkdirSync(spool);
  const c = await open(dir);
  const temp = join(spool, '.response_x.json.tmp');
  const final = join(spool, 'response_x.json');
  writeFileSync(temp, '{"results":[]}\n');
  await c.prepare(1, temp, final);
  // Simulate kill -9 here: no rename. (Dropping the lock is what a restart does with a dead holder's lock; that
  // path has its own test below.)
  await c.release();
  const again = await open(dir);
  t.after(() => again.release());
  assert.equal(again.nextPage, 2);
  assert.deepEqual(readdirSync(spool), ['response_x.json']);
  assert.equal(readFileSync(final, 'utf8'), '{"results":[]}\n');
  assert.equal(JSON.parse(readFileSync(again.path, 'utf8')).pending, undefined, 'recovery recorded');
});

test('crash after the rename: reopening changes nothing', async (t) => {
  const dir = tmp(t);
  const c = await open(dir);
  const final = join(dir, 'response_y.json');
  writeFileSync(final, 'data\n');
  await c.prepare(1, join(dir, '.response_y.json.tmp'), final);
  await c.release();
  const again = await open(dir);
  t.after(() => again.release());
  assert.equal(again.nextPage, 2);
  assert.equal(readFileSync(final, 'utf8'), 'data\n');
});

test('a cursor made with other request parameters is refused, naming the parameter', async (t) => {
  const dir = tmp(t);
  await (await open(dir)).release();
  await assert.rejects(open(dir, { params: { ...PARAMS, results: 50 } }), (e) => e instanceof ConfigError && /results=10, now 50/.test(e.message));
  await assert.rejects(open(dir, { params: { ...PARAMS, gender: 'male' } }), (e) => e instanceof ConfigError && /gender/.test(e.message));
  // The refused attempts did not leave a lock behind.
  const ok = await open(dir);
  await ok.release();
});

test('a second user of the same cursor is refused while the first holds it', async (t) => {
  const dir = tmp(t);
  const c = await open(dir);
  t.after(() => c.release());
  await assert.rejects(open(dir), (e) => e instanceof ConfigError && /already in use/.test(e.message));
});

test('a lock held by a live process on this host is refused; a dead one is taken over', async (t) => {
  const dir = tmp(t);
  const path = cursorPath(dir, 's');
  mkdirSync(join(dir, 'state'), { recursive: true });
  // pid 1 is always alive.
  writeFileSync(`${path}.lock`, `1 ${hostname()}\n`);
  await assert.rejects(open(dir), (e) => e instanceof ConfigError && /pid 1/.test(e.message));
  // A pid that has exited (a finished child) is stale.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(`${path}.lock`, `${dead} ${hostname()}\n`);
  const c = await open(dir);
  assert.equal(readFileSync(`${path}.lock`, 'utf8'), `${process.pid} ${hostname()}\n`);
  await c.release();
  assert.equal(existsSync(`${path}.lock`), false, 'release removes the lock');
});

test('a damaged cursor file is a configuration error naming the file', async (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'state'));
  writeFileSync(cursorPath(dir, 's'), '{"version":1,"seed":"s","nextPage":"x"');
  await assert.rejects(open(dir), (e) => e instanceof ConfigError && e.message.includes(cursorPath(dir, 's')));
});
