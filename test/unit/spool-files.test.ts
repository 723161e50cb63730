import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { PipelineError } from '../../src/core/errors.ts';
import { envelope, type Envelope } from '../../src/core/envelope.ts';
import { writeDurably, writeFileAtomic } from '../../src/sinks/atomic-file.ts';
import { NdjsonStreamSink } from '../../src/sinks/ndjson-stream.ts';
import { SpoolFileSink } from '../../src/sinks/spool-files.ts';
import { parseSpoolName, tempNameFor } from '../../src/sinks/spool-name.ts';
import type { FetchedResponse } from '../../src/sources/fetched-response.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';

const T = Date.UTC(2026, 10, 30, 5, 1, 2, 123);

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'userpipe-spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function item(seq: number, overrides: Partial<FetchedResponse> = {}): FetchedResponse {
  const response = generateResponse({ seed: 'spool', page: seq + 1, results: 3 });
  return { response, fetchedAtMs: T, seq, users: response.results.length, ...overrides };
}

/** Envelopes whose acks record what happened, and when (what the directory held at ack time). */
function tracked(items: FetchedResponse[], dir: string) {
  const settled: Array<{ seq: number; error?: PipelineError; visible: string[] }> = [];
  const envs: Array<Envelope<FetchedResponse>> = items.map((p) =>
    envelope(p, async (error) => {
      settled.push({ seq: p.seq, ...(error ? { error } : {}), visible: readdirSync(dir).filter((n) => !n.startsWith('.')) });
    }),
  );
  return { envs, settled };
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const i of items) yield i;
}

test('spool sink: one file per response, the API JSON on one line, acked once visible, no temp file left', async (t) => {
  const dir = join(tmp(t), 'spool'); // created by the sink
  const sink = new SpoolFileSink({ dir, writer: 'test01' });
  const items = [item(0), item(1), item(2)];
  const { envs, settled } = tracked(items, dir);
  await sink.write(from(envs), new AbortController().signal);

  const names = readdirSync(dir);
  assert.deepEqual(names, [...names].sort());
  assert.equal(names.length, 3);
  assert.deepEqual(names.map((n) => parseSpoolName(n)), [0, 1, 2].map((seq) => ({ fetchedAtMs: T, seq, writer: 'test01' })));
  for (const [i, n] of names.entries()) {
    const text = readFileSync(join(dir, n), 'utf8');
    assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, 'exactly one line');
    assert.deepEqual(JSON.parse(text), items[i]?.response);
  }
  assert.deepEqual(settled.map((s) => [s.seq, s.error, s.visible.length]), [[0, undefined, 1], [1, undefined, 2], [2, undefined, 3]]);
});

test('spool sink: beforePublish runs with the data durable in the hidden temp file and the final name still absent', async (t) => {
  const dir = tmp(t);
  const sink = new SpoolFileSink({ dir, writer: 'w' });
  const seen: Array<{ temp: string; tempExists: boolean; finalExists: boolean; content: string }> = [];
  await sink.writeOne(
    item(0, {
      beforePublish: async (tempPath, finalPath) => {
        seen.push({ temp: tempPath, tempExists: existsSync(tempPath), finalExists: existsSync(finalPath), content: readFileSync(tempPath, 'utf8') });
      },
    }),
  );
  assert.equal(seen.length, 1);
  assert.ok(seen[0]?.tempExists);
  assert.equal(seen[0]?.finalExists, false);
  assert.match(seen[0]?.temp ?? '', /\/\.response_.*\.json\.tmp$/);
  assert.ok(JSON.parse(seen[0]?.content ?? ''));
  assert.equal(readdirSync(dir).length, 1);
});

test('spool sink: a failing beforePublish leaves neither the file nor its temp, and nacks', async (t) => {
  const dir = tmp(t);
  const sink = new SpoolFileSink({ dir, writer: 'w' });
  const boom = new PipelineError('UNAVAILABLE', 'cursor disk full', { retryable: false });
  const { envs, settled } = tracked([item(0, { beforePublish: () => Promise.reject(boom) })], dir);
  await assert.rejects(sink.write(from(envs), new AbortController().signal), (e) => e === boom);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(settled[0]?.error, boom);
});

test('spool sink: a hard abort before the rename discards the response (temp removed, nack ABORTED)', async (t) => {
  const dir = tmp(t);
  const sink = new SpoolFileSink({ dir, writer: 'w' });
  const abort = new AbortController();
  // The abort arrives while the file is being written (between the temp write and the rename).
  const { envs, settled } = tracked([item(0, { beforePublish: async () => abort.abort('SIGINT') }), item(1)], dir);
  await assert.rejects(sink.write(from(envs), abort.signal), (e) => e instanceof PipelineError && e.code === 'ABORTED');
  assert.deepEqual(readdirSync(dir), [], 'nothing visible, no temp left');
  assert.equal(settled.length, 1);
  assert.equal(settled[0]?.error?.code, 'ABORTED');
});

test('spool sink: a write error nacks with a classified error and stops', async (t) => {
  const base = tmp(t);
  const dir = join(base, 'spool');
  const sink = new SpoolFileSink({ dir, writer: 'w' });
  await sink.init();
  rmSync(dir, { recursive: true });
  writeFileSync(dir, 'not a directory');
  const { envs, settled } = tracked([item(0), item(1)], base);
  await assert.rejects(sink.write(from(envs), new AbortController().signal), (e) => e instanceof PipelineError && e.code === 'UNAVAILABLE' && !e.retryable);
  assert.equal(settled.length, 1, 'the second response is never taken');
  assert.equal(settled[0]?.error?.code, 'UNAVAILABLE');
});

test('writeFileAtomic never overwrites a temp file it did not create', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, tempNameFor('a.json')), 'someone else');
  await assert.rejects(writeFileAtomic(dir, 'a.json', 'x', { tempName: tempNameFor('a.json') }), PipelineError);
  assert.equal(readFileSync(join(dir, tempNameFor('a.json')), 'utf8'), 'someone else');
  assert.equal(existsSync(join(dir, 'a.json')), false);
});

test('ndjson sink: one line per response, acked after the write callback', async () => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (d: Buffer) => chunks.push(d.toString()));
  const sink = new NdjsonStreamSink<FetchedResponse>(out, (p) => p.response);
  const acks: Array<PipelineError | undefined> = [];
  const items = [item(0), item(1)];
  await sink.write(from(items.map((p) => envelope(p, async (e) => void acks.push(e)))), new AbortController().signal);
  const lines = chunks.join('').split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => JSON.parse(l)), items.map((i) => i.response));
  assert.deepEqual(acks, [undefined, undefined]);
});

test('ndjson sink: a reader that went away (EPIPE) nacks the response in hand and ends quietly', async () => {
  let writes = 0;
  const out = new Writable({
    write(_chunk, _enc, cb) {
      writes += 1;
      if (writes === 1) cb();
      else cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const sink = new NdjsonStreamSink<FetchedResponse>(out, (p) => p.response);
  const acks: Array<string | undefined> = [];
  let pulled = 0;
  async function* source(): AsyncGenerator<Envelope<FetchedResponse>> {
    for (let i = 0; i < 5; i++) {
      pulled += 1;
      yield envelope(item(i), async (e) => void acks.push(e?.code));
    }
  }
  await sink.write(source(), new AbortController().signal);
  assert.equal(sink.readerGone, true);
  assert.deepEqual(acks, [undefined, 'ABORTED']);
  assert.equal(pulled, 2, 'stops pulling once the reader is gone');
});

test('ndjson sink: other stream errors fail the sink', async () => {
  const out = new Writable({
    write(_chunk, _enc, cb) {
      cb(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
    },
  });
  const sink = new NdjsonStreamSink<FetchedResponse>(out, (p) => p.response);
  const acks: Array<string | undefined> = [];
  await assert.rejects(
    sink.write(from([envelope(item(0), async (e) => void acks.push(e?.code))]), new AbortController().signal),
    (e) => e instanceof PipelineError && e.code === 'UNAVAILABLE',
  );
  assert.deepEqual(acks, ['UNAVAILABLE']);
});

test('writeDurably writes, appends, and creates new names (directory synced with newEntry)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'durably-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'seg.ndjson');
  await writeDurably(path, 'a\n', { append: true, newEntry: true });
  await writeDurably(path, 'b\n', { append: true });
  assert.equal(readFileSync(path, 'utf8'), 'a\nb\n');
  await writeDurably(path, 'c\n');
  assert.equal(readFileSync(path, 'utf8'), 'c\n', 'without append the file is replaced');
  await assert.rejects(writeDurably(join(dir, 'no', 'such', 'dir'), 'x', { newEntry: true }), { code: 'ENOENT' });
});
