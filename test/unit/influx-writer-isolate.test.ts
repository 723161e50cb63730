import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineError } from '../../src/core/errors.ts';
import { type ChunkRefusal, type PostChunk, writeIsolating } from '../../src/clients/influx-isolate.ts';

// The isolation algorithm is transport-free: `post` is the only dependency. These tests drive it with plain
// functions that refuse lines by rule (the real server's answers are exercised in test/integration/influx*).

function lines(n: number, bad: Set<number>): string[] {
  return Array.from({ length: n }, (_, i) => (bad.has(i) ? `BAD ${i}` : `m v=${i}i ${i}`));
}

/** Refuses a chunk holding any BAD line, naming nothing (the worst case: pure bisection). */
function silentRefuser(log: number[]): PostChunk {
  return async (chunk) => {
    log.push(chunk.length);
    return chunk.some((l) => l.startsWith('BAD')) ? { status: 400, body: { message: 'something is wrong' } } : undefined;
  };
}

describe('writeIsolating', () => {
  it('writes a clean batch in one request', async () => {
    const log: number[] = [];
    const r = await writeIsolating(lines(5000, new Set()), silentRefuser(log));
    assert.deepEqual(r, { written: 5000, rejected: [], requests: 1 });
  });

  it('bisects to isolate unnamed bad lines: good ones written, bad ones rejected with the message, bounded requests', async () => {
    for (const badIdx of [[0], [4999], [17, 18], [1, 2500, 4998], [3, 700, 701, 1999, 3333, 4000, 4001, 4002, 4500, 4999]]) {
      const bad = new Set(badIdx);
      const log: number[] = [];
      const input = lines(5000, bad);
      const r = await writeIsolating(input, silentRefuser(log));
      assert.equal(r.written, 5000 - bad.size);
      assert.deepEqual(r.rejected.map((x) => x.line), badIdx.map((i) => `BAD ${i}`));
      assert.ok(r.rejected.every((x) => x.message === 'something is wrong' && x.status === 400));
      // 2k·ceil(log2 n) + 1 bounds pure bisection for k bad lines.
      assert.ok(r.requests <= 2 * bad.size * 13 + 1, `requests ${r.requests} for ${bad.size} bad`);
      assert.equal(r.requests, log.length);
    }
  });

  it('uses named lines (1.8 style) to reject them directly and resend the rest', async () => {
    const input = lines(1000, new Set([10, 500]));
    const posts: number[] = [];
    const post: PostChunk = async (chunk) => {
      posts.push(chunk.length);
      const badOnes = chunk.filter((l) => l.startsWith('BAD'));
      if (badOnes.length === 0) return undefined;
      return { status: 400, body: { message: 'partial write: ' + badOnes.map((l) => `unable to parse '${l}': missing fields`).join('\n') } };
    };
    const r = await writeIsolating(input, post);
    assert.equal(r.written, 998);
    assert.deepEqual(posts, [1000, 998]);
    assert.deepEqual(r.rejected.map((x) => [x.line, x.message]), [
      ['BAD 10', 'unable to parse line: missing fields'],
      ['BAD 500', 'unable to parse line: missing fields'],
    ]);
  });

  it('rejects the whole chunk at once when dropped=N covers it (type conflict on every point)', async () => {
    const posts: number[] = [];
    const post: PostChunk = async (chunk) => {
      posts.push(chunk.length);
      return { status: 400, body: { message: `partial write: field type conflict: input field "postcode" on measurement "users" is type string, already exists as type integer dropped=${chunk.length}` } };
    };
    const r = await writeIsolating(lines(5000, new Set()), post);
    assert.equal(r.written, 0);
    assert.equal(r.rejected.length, 5000);
    assert.deepEqual(posts, [5000]);
    assert.match(r.rejected[0]?.message ?? '', /field type conflict/);
  });

  it('splits on 413 until chunks fit, then writes everything', async () => {
    const posts: number[] = [];
    const post: PostChunk = async (chunk) => {
      posts.push(chunk.length);
      return chunk.length > 600 ? { status: 413, body: { message: 'Request Entity Too Large' } } : undefined;
    };
    const r = await writeIsolating(lines(5000, new Set()), post);
    assert.equal(r.written, 5000);
    assert.equal(r.rejected.length, 0);
    assert.ok(posts.every((n, i) => i === 0 || n <= 2500));
  });

  it('a single line too large is rejected (413 on one line)', async () => {
    const post: PostChunk = async (chunk) => (chunk.some((l) => l.length > 20) ? { status: 413, body: { message: 'too large' } } : undefined);
    const r = await writeIsolating(['m v=1i 1', 'm s="' + 'x'.repeat(100) + '" 2', 'm v=3i 3'], post);
    assert.equal(r.written, 2);
    assert.equal(r.rejected.length, 1);
    assert.equal(r.rejected[0]?.status, 413);
  });

  it('stops at the request budget and rejects what is left as not isolated', async () => {
    const all = new Set(Array.from({ length: 512 }, (_, i) => i));
    const log: number[] = [];
    const r = await writeIsolating(lines(512, all), silentRefuser(log), 20);
    assert.equal(r.requests, 20);
    assert.equal(r.written + r.rejected.length, 512);
    assert.equal(r.written, 0);
    assert.ok(r.rejected.some((x) => x.message.startsWith('not isolated: gave up splitting after 20 requests')));
  });

  it('keeps every line accounted for: written + rejected = input, in order within each outcome', async () => {
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 50; round++) {
      const n = 1 + Math.floor(rand() * 300);
      const bad = new Set<number>();
      for (let i = 0; i < n; i++) if (rand() < 0.05) bad.add(i);
      const input = lines(n, bad);
      const written: string[] = [];
      const post: PostChunk = async (chunk): Promise<ChunkRefusal | undefined> => {
        if (chunk.some((l) => l.startsWith('BAD'))) return { status: 400, body: { message: 'no' } };
        written.push(...chunk);
        return undefined;
      };
      const r = await writeIsolating(input, post);
      assert.equal(r.written, n - bad.size);
      assert.deepEqual(written, input.filter((l) => !l.startsWith('BAD')));
      assert.deepEqual(r.rejected.map((x) => x.line), input.filter((l) => l.startsWith('BAD')));
    }
  });

  it('propagates fatal errors from post (nothing is claimed written)', async () => {
    const post: PostChunk = async () => {
      throw new PipelineError('AUTH', 'token rejected');
    };
    await assert.rejects(writeIsolating(['m v=1i 1'], post), (e: unknown) => e instanceof PipelineError && e.code === 'AUTH');
  });
});
