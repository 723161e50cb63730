import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MIN_NODE, nodeTooOld } from '../../src/node-version.ts';

test('node version gate: older than 22.18 is refused, 22.18 and later pass', () => {
  assert.deepEqual(MIN_NODE, [22, 18]);
  for (const v of ['18.19.0', '20.20.2', '22.17.1', '21.99.0']) assert.equal(nodeTooOld(v), true, v);
  for (const v of ['22.18.0', '22.20.1', '23.0.0', '24.22.3', '100.0.0']) assert.equal(nodeTooOld(v), false, v);
});

// The machine's own Node (Debian 12 ships 20) runs the built CLI: a clear message and exit 1, nothing else.
const SYSTEM_NODE = ['/usr/bin/node', '/bin/node'].find((p) => existsSync(p));
const systemVersion = SYSTEM_NODE ? execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).trim().slice(1) : undefined;
const DIST_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const skip = !SYSTEM_NODE || !systemVersion || !nodeTooOld(systemVersion) ? 'no Node older than 22.18 on this machine' : !existsSync(DIST_MAIN) ? 'not built' : false;

test('node version gate: the built CLI on an old Node says what it needs and exits 1', { skip }, () => {
  const r = spawnSync(SYSTEM_NODE as string, [DIST_MAIN, 'fetch', '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /userpipe: needs Node >= 22\.18, this is v\d+/);
  assert.equal(r.stdout, '', 'no help printed: nothing ran past the gate');
});
