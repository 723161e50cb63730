import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PipelineError } from '../../src/core/errors.ts';
import { LpFileWriter } from '../../src/sinks/lp-files.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'userpipe-lp-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 20, 14, 59, 59, 500); // 2026-11-20 14:59:59.500 UTC

describe('LpFileWriter', () => {
  it('appends batches as lines to the hourly file and reports them written', async () => {
    const dir = await tempDir();
    const w = new LpFileWriter({ dir: join(dir, 'nested'), now: () => T0 });
    assert.deepEqual(await w.write(['m v=1i 1', 'm v=2i 2']), { written: 2, rejected: [], requests: 1 });
    assert.deepEqual(await w.write('m v=3i 3\nm v=4i 4'), { written: 2, rejected: [], requests: 1 });
    await w.close();
    assert.deepEqual(await readdir(join(dir, 'nested')), ['users-20261120-14.lp']);
    assert.equal(await readFile(join(dir, 'nested', 'users-20261120-14.lp'), 'utf8'), 'm v=1i 1\nm v=2i 2\nm v=3i 3\nm v=4i 4\n');
  });

  it('rolls to a new file at the hour and to a new part at the size limit', async () => {
    const dir = await tempDir();
    let now = T0;
    const w = new LpFileWriter({ dir, prefix: 'pts', maxFileBytes: 20, now: () => now });
    await w.write(['a v=1i 1']); // 9 bytes
    await w.write(['b v=1i 1']); // 18 bytes: still fits
    await w.write(['c v=1i 1']); // would be 27: new part
    now += 1000; // next hour
    await w.write(['d v=1i 1']);
    await w.write(['e'.repeat(40)]); // larger than the limit on its own: goes to a fresh part anyway
    await w.close();
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, ['pts-20261120-14.1.lp', 'pts-20261120-14.lp', 'pts-20261120-15.1.lp', 'pts-20261120-15.lp']);
    assert.equal(await readFile(join(dir, 'pts-20261120-14.lp'), 'utf8'), 'a v=1i 1\nb v=1i 1\n');
    assert.equal(await readFile(join(dir, 'pts-20261120-14.1.lp'), 'utf8'), 'c v=1i 1\n');
    assert.equal(await readFile(join(dir, 'pts-20261120-15.1.lp'), 'utf8'), 'e'.repeat(40) + '\n');
  });

  it('serializes concurrent writes without interleaving lines', async () => {
    const dir = await tempDir();
    const w = new LpFileWriter({ dir, now: () => T0 });
    const batches = Array.from({ length: 50 }, (_, b) => Array.from({ length: 100 }, (_, i) => `m b=${b}i,i=${i}i ${b * 1000 + i}`));
    await Promise.all(batches.map((batch) => w.write(batch)));
    await w.close();
    const text = await readFile(join(dir, 'users-20261120-14.lp'), 'utf8');
    assert.deepEqual(text.split('\n').slice(0, -1), batches.flat());
  });

  it('after a crash, cuts a torn last line before appending (it was never acked)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'users-20261120-14.lp');
    await writeFile(file, 'm v=1i 1\nm v=2i 2\n');
    await appendFile(file, 'm v=3i'); // torn: no newline
    const w = new LpFileWriter({ dir, now: () => T0 });
    await w.write(['m v=3i 3']);
    await w.close();
    assert.equal(await readFile(file, 'utf8'), 'm v=1i 1\nm v=2i 2\nm v=3i 3\n');

    // A file holding only a torn line is emptied.
    const other = join(dir, 'users-20261120-15.lp');
    await writeFile(other, 'x'.repeat(70_000));
    const w2 = new LpFileWriter({ dir, now: () => T0 + 1000 });
    await w2.write(['ok v=1i 1']);
    await w2.close();
    assert.equal(await readFile(other, 'utf8'), 'ok v=1i 1\n');
  });

  it('after a restart, continues the last part of the hour', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'users-20261120-14.lp'), 'a\n');
    await writeFile(join(dir, 'users-20261120-14.3.lp'), 'b\n');
    const w = new LpFileWriter({ dir, now: () => T0 });
    await w.write(['c']);
    await w.close();
    assert.equal(await readFile(join(dir, 'users-20261120-14.3.lp'), 'utf8'), 'b\nc\n');
  });

  it('an aborted signal writes nothing; a bad directory is a classified error', async () => {
    const dir = await tempDir();
    const w = new LpFileWriter({ dir, now: () => T0 });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(w.write(['m v=1i 1'], ac.signal), (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED');
    assert.deepEqual(await readdir(dir), []);
    await w.close();

    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const bad = new LpFileWriter({ dir: join(file, 'sub'), now: () => T0 });
    await assert.rejects(bad.write(['m v=1i 1']), (e: unknown) => e instanceof PipelineError && e.code === 'UNAVAILABLE' && !e.retryable);
    assert.throws(() => new LpFileWriter({ dir, prefix: '../x' }), (e: unknown) => e instanceof PipelineError && e.code === 'CONFIG');
  });
});
