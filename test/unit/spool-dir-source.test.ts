import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { PipelineError } from '../../src/core/errors.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { formatSpoolName } from '../../src/sinks/spool-name.ts';
import { SpoolDirSource, type SpoolDirOptions, type SpoolFile } from '../../src/sources/spool-dir.ts';
import { isCandidateName, SpoolScanner } from '../../src/sources/spool-scan.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';

let root: string;
let spool: string;
let quarantine: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'userpipe-spool-'));
  spool = join(root, 'spool');
  quarantine = join(root, 'quarantine');
  await mkdir(spool);
  await mkdir(quarantine);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 30, 5, 1, 2, 123);
const fetchName = (i: number): string => formatSpoolName(T0 + i * 1000, i % 3, 'test');
const body = (page: number, results = 2): string => JSON.stringify(generateResponse({ seed: 'src', page, results })) + '\n';

/** Set a file's mtime (its ctime stays "now": the kernel sets it on every change). */
async function setMtime(path: string, ms: number): Promise<void> {
  await utimes(path, new Date(ms), new Date(ms));
}

function source(over: Partial<SpoolDirOptions> = {}): SpoolDirSource {
  return new SpoolDirSource({
    dir: spool,
    completion: { mode: 'rename' },
    quarantineDir: quarantine,
    settleTimeMs: 0,
    pollIntervalMs: 20,
    once: true,
    maxFilesInFlight: 4,
    maxFileSize: 1 << 20,
    ...over,
  });
}

async function collect(src: SpoolDirSource, signal = new AbortController().signal): Promise<Envelope<SpoolFile>[]> {
  const out: Envelope<SpoolFile>[] = [];
  for await (const e of src.read(signal)) out.push(e);
  return out;
}

test('names: hidden, temporary, done markers and sidecars are never candidates', () => {
  for (const n of ['.response_x.json.tmp', '.hidden', 'a.tmp', 'a.TMP', 'a.part', 'a~', 'a.json.COMPLETED', 'a.json.error.json']) {
    assert.equal(isCandidateName(n), false, n);
  }
  for (const n of ['response_20261130_050102_123_00_a.json', 'users.ndjson', 'data.json', 'COMPLETED']) assert.equal(isCandidateName(n), true, n);
});

test('scan: fetch names are ready at once; foreign files only after the settle time; oldest first', async () => {
  await writeFile(join(spool, fetchName(2)), body(1));
  await writeFile(join(spool, fetchName(0)), body(2));
  await writeFile(join(spool, 'fresh.ndjson'), body(3));
  await writeFile(join(spool, 'old.json'), body(4));
  await setMtime(join(spool, 'old.json'), T0 - 60_000);
  await writeFile(join(spool, '.writing.tmp'), 'x');
  await mkdir(join(spool, 'subdir'));
  const scanner = new SpoolScanner({ dir: spool, settleTimeMs: 2000 });
  const ready = await scanner.scan();
  // old.json's mtime is old, but writing it just now updated its ctime: not settled yet.
  assert.deepEqual(ready.map((e) => e.name), [fetchName(0), fetchName(2)]);
  assert.deepEqual(scanner.unsettled.sort(), ['fresh.ndjson', 'old.json']);
  const later = new SpoolScanner({ dir: spool, settleTimeMs: 2000, now: () => Date.now() + 5000 });
  const names = (await later.scan()).map((e) => e.name);
  assert.deepEqual(names, ['old.json', fetchName(0), fetchName(2), 'fresh.ndjson'], 'foreign files sort by mtime among fetch times');
});

test('scan: a foreign file still growing between two scans is not ready', async () => {
  const path = join(spool, 'growing.ndjson');
  await writeFile(path, body(1));
  let now = Date.now() + 10_000;
  const scanner = new SpoolScanner({ dir: spool, settleTimeMs: 1000, now: () => now });
  await scanner.scan();
  await writeFile(path, body(1) + body(2));
  const st = await stat(path);
  await utimes(path, new Date(st.mtimeMs - 60_000), new Date(st.mtimeMs - 60_000)); // even with an old mtime
  now += 10_000;
  assert.deepEqual((await scanner.scan()).map((e) => e.name), [], 'size changed since the previous scan');
  now += 10_000;
  assert.deepEqual((await scanner.scan()).map((e) => e.name), ['growing.ndjson']);
});

test('source: emits parsed files oldest first; ack marks .COMPLETED; bad files go to quarantine with a sidecar', async () => {
  await writeFile(join(spool, fetchName(1)), body(1, 3));
  await writeFile(join(spool, fetchName(0)), body(2, 2));
  await writeFile(join(spool, fetchName(2)), '{"results": [tru');
  await writeFile(join(spool, fetchName(3)), '');
  const quarantined: string[] = [];
  const done: string[] = [];
  const src = source({ onQuarantine: (n) => quarantined.push(n), onDone: (n) => done.push(n) });
  const envs = await collect(src);
  assert.deepEqual(envs.map((e) => e.payload.name), [fetchName(0), fetchName(1)]);
  const first = envs[0]?.payload;
  assert.equal(first?.fromFetch, true);
  assert.deepEqual(first?.origin, { source: fetchName(0), fetchedAtMs: T0, seq: 0 });
  assert.equal(first?.layout, 'response');
  assert.equal(src.filesInFlight, 2);
  for (const e of envs) await e.ack();
  assert.equal(src.filesInFlight, 0);
  assert.deepEqual(done, [fetchName(0), fetchName(1)]);
  assert.deepEqual(quarantined.sort(), [fetchName(2), fetchName(3)]);
  assert.deepEqual((await readdir(spool)).sort(), [`${fetchName(0)}.COMPLETED`, `${fetchName(1)}.COMPLETED`]);
  const sidecar = JSON.parse(await readFile(join(quarantine, `${fetchName(2)}.error.json`), 'utf8')) as Record<string, unknown>;
  assert.match(String(sidecar.reason), /^not valid JSON/);
  assert.deepEqual(sidecar.position, { line: 1, column: 17, byte: 16 });
  assert.equal(sidecar.file, fetchName(2));
  assert.equal(typeof sidecar.at, 'string');
  assert.equal(await readFile(join(quarantine, fetchName(2)), 'utf8'), '{"results": [tru', 'the bad file is kept byte for byte');
  const empty = JSON.parse(await readFile(join(quarantine, `${fetchName(3)}.error.json`), 'utf8')) as Record<string, unknown>;
  assert.equal(empty.reason, 'empty file');
});

test('source: foreign files carry their mtime as fetch time and seq 0', async () => {
  const path = join(spool, 'users.ndjson');
  await writeFile(path, body(5));
  const src = source({ settleTimeMs: 0 });
  const [e] = await collect(src);
  const st = await stat(join(spool, 'users.ndjson'));
  assert.equal(e?.payload.fromFetch, false);
  assert.deepEqual(e?.payload.origin, { source: 'users.ndjson', fetchedAtMs: Math.trunc(st.mtimeMs), seq: 0 });
  await e?.ack();
});

test('source: a nack with a refusal quarantines; any other nack leaves the file for a later attempt', async () => {
  await writeFile(join(spool, fetchName(0)), body(1));
  await writeFile(join(spool, fetchName(1)), body(2));
  const envs = await collect(source());
  await envs[0]?.ack(new PipelineError('REJECTED', 'message too large'));
  await envs[1]?.ack(new PipelineError('ABORTED', 'stopped'));
  const sidecar = JSON.parse(await readFile(join(quarantine, `${fetchName(0)}.error.json`), 'utf8')) as Record<string, unknown>;
  assert.equal(sidecar.reason, 'refused downstream: message too large');
  assert.deepEqual(await readdir(spool), [fetchName(1)], 'the aborted file is untouched');
  const again = await collect(source());
  assert.deepEqual(again.map((e) => e.payload.name), [fetchName(1)], 'and taken again by the next run');
  await again[0]?.ack();
});

test('source: --delete-completed and --done-dir', async () => {
  await writeFile(join(spool, fetchName(0)), body(1));
  const [a] = await collect(source({ completion: { mode: 'delete' } }));
  await a?.ack();
  assert.deepEqual(await readdir(spool), []);
  const doneDir = join(root, 'done');
  await mkdir(doneDir);
  await writeFile(join(spool, fetchName(1)), body(2));
  const [b] = await collect(source({ completion: { mode: 'move', dir: doneDir } }));
  await b?.ack();
  assert.deepEqual(await readdir(spool), []);
  assert.deepEqual(await readdir(doneDir), [fetchName(1)]);
});

test('source: a name whose .COMPLETED already exists is not overwritten', async () => {
  await writeFile(join(spool, 'x.json.COMPLETED'), 'older');
  await writeFile(join(spool, 'x.json'), body(1));
  const [e] = await collect(source());
  await e?.ack();
  const names = (await readdir(spool)).sort();
  assert.equal(names.length, 2);
  assert.equal(await readFile(join(spool, 'x.json.COMPLETED'), 'utf8'), 'older');
  assert.match(names[0] ?? '', /^x\.json\.\d+\.COMPLETED$/);
});

test('source: files over --max-file-size are quarantined unread', async () => {
  await writeFile(join(spool, fetchName(0)), body(1, 50));
  const reasons: string[] = [];
  const envs = await collect(source({ maxFileSize: 100, onQuarantine: (_n, p) => reasons.push(p.reason) }));
  assert.equal(envs.length, 0);
  assert.match(reasons[0] ?? '', /^file too large: \d+ bytes, over the limit of 100/);
});

test('source: at most maxFilesInFlight files are read before an ack', async () => {
  for (let i = 0; i < 5; i++) await writeFile(join(spool, fetchName(i)), body(i));
  const src = source({ maxFilesInFlight: 2 });
  const it = src.read(new AbortController().signal)[Symbol.asyncIterator]();
  const a = (await it.next()).value as Envelope<SpoolFile>;
  const b = (await it.next()).value as Envelope<SpoolFile>;
  let third = false;
  const next = it.next().then((r) => {
    third = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(third, false, 'the third file waits for a slot');
  assert.equal(src.filesInFlight, 2);
  await a.ack();
  const c = (await next).value as Envelope<SpoolFile>;
  assert.equal(c.payload.name, fetchName(2));
  await b.ack();
  await c.ack();
  for (let r = await it.next(); !r.done; r = await it.next()) await r.value.ack();
  assert.equal((await readdir(spool)).filter((n) => n.endsWith('.COMPLETED')).length, 5);
});

test('source: files in flight stay under maxFileSize bytes together; a file alone always goes', async () => {
  for (let i = 0; i < 3; i++) await writeFile(join(spool, fetchName(i)), body(i, 4));
  const size = (await stat(join(spool, fetchName(0)))).size;
  // Room for one file and a half: the second waits for the first's ack, though file slots are free.
  const src = source({ maxFilesInFlight: 4, maxFileSize: Math.floor(size * 1.5) + 10 });
  const it = src.read(new AbortController().signal)[Symbol.asyncIterator]();
  const a = (await it.next()).value as Envelope<SpoolFile>;
  let second = false;
  const next = it.next().then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(second, false, 'the second file waits until the bytes in flight allow it');
  await a.ack();
  const b = (await next).value as Envelope<SpoolFile>;
  assert.equal(b.payload.name, fetchName(1));
  await b.ack();
  for (let r = await it.next(); !r.done; r = await it.next()) await r.value.ack();
  assert.equal((await readdir(spool)).filter((n) => n.endsWith('.COMPLETED')).length, 3);
});

test('source --once: waits for a foreign file present at start to settle, ignores later files, then ends', async () => {
  await writeFile(join(spool, 'slow.ndjson'), body(1));
  const src = source({ settleTimeMs: 150, pollIntervalMs: 20 });
  const started = Date.now();
  const seen: string[] = [];
  const laterFile = setTimeout(() => void writeFile(join(spool, fetchName(9)), body(9)), 30);
  for await (const e of src.read(new AbortController().signal)) {
    seen.push(e.payload.name);
    await e.ack();
  }
  clearTimeout(laterFile);
  assert.deepEqual(seen, ['slow.ndjson']);
  assert.ok(Date.now() - started >= 140, 'waited for the settle time');
});

test('source watch mode: picks up files as they arrive and ends when the signal fires', async () => {
  const ctl = new AbortController();
  const src = source({ once: false, pollIntervalMs: 10 });
  const seen: string[] = [];
  setTimeout(() => void writeFile(join(spool, fetchName(0)), body(0)), 30);
  setTimeout(() => void writeFile(join(spool, fetchName(1)), body(1)), 60);
  for await (const e of src.read(ctl.signal)) {
    seen.push(e.payload.name);
    await e.ack();
    if (seen.length === 2) ctl.abort();
  }
  assert.deepEqual(seen, [fetchName(0), fetchName(1)]);
});
