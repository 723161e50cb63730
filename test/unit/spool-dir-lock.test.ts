import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LOCK_NAME, lockSpoolDir } from '../../src/sources/spool-lock.ts';
import { isCandidateName } from '../../src/sources/spool-scan.ts';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

test('spool lock: a second ingest on the same directory is refused while the first lives; release frees it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'userpipe-lock-'));
  try {
    const release = await lockSpoolDir(dir); // held by this (live) process
    assert.equal((await readFile(join(dir, LOCK_NAME), 'utf8')).trim(), String(process.pid));
    assert.equal(isCandidateName(LOCK_NAME), false, 'the scan never takes the lock file for data');
    await assert.rejects(lockSpoolDir(dir, deadPid()), /another userpipe ingest \(pid \d+\) is reading/);
    await release();
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('spool lock: a lock left by a dead process (kill -9) is taken over', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'userpipe-lock-'));
  try {
    await writeFile(join(dir, LOCK_NAME), `${deadPid()}\n`);
    const release = await lockSpoolDir(dir);
    assert.equal((await readFile(join(dir, LOCK_NAME), 'utf8')).trim(), String(process.pid));
    await release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
