/**
 * The WebHDFS client against the real HDFS (NameNode + DataNode, test/stack). Every test works under one unique
 * directory, deleted at the end. Set USERPIPE_SKIP_INTEGRATION=1 to skip; otherwise a missing HDFS fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { PipelineError } from '../../src/core/errors.ts';
import { WebHdfsClient } from '../../src/clients/webhdfs.ts';

const SKIP = process.env.USERPIPE_SKIP_INTEGRATION === '1';
const HDFS_URL = process.env.USERPIPE_TEST_HDFS_URL ?? 'http://127.0.0.1:9870';
const ROOT = `/userpipe-test/webhdfs-${Date.now()}-${randomBytes(4).toString('hex')}`;
const USER = 'userpipe-it';

function isCode(code: string, extra: (e: PipelineError) => boolean = () => true) {
  return (e: unknown): boolean => {
    if (!(e instanceof PipelineError)) throw e;
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    assert.ok(extra(e), `unexpected details: ${JSON.stringify(e.details)}`);
    return true;
  };
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `total` bytes in `chunk`-sized pieces, produced lazily (as a Kafka-fed archive would). */
async function* chunks(data: Buffer, chunk: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += chunk) {
    await new Promise((resolve) => setImmediate(resolve));
    yield data.subarray(i, i + chunk);
  }
}

/** Poll `read` until `done` holds or 10 s passed; returns the last value (the caller asserts on it). */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/** Wait until the NameNode has a live DataNode and is out of safe mode; fail with what was seen. */
async function waitForHdfs(timeoutMs: number): Promise<void> {
  const url = `${HDFS_URL}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState`;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const bean = ((await res.json()) as { beans?: Array<{ NumLiveDataNodes?: number; FSState?: string }> }).beans?.[0];
      last = JSON.stringify({ NumLiveDataNodes: bean?.NumLiveDataNodes, FSState: bean?.FSState });
      if ((bean?.NumLiveDataNodes ?? 0) >= 1 && bean?.FSState === 'Operational') return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(
    `HDFS at ${HDFS_URL} is not ready (${last}). Start it with \`test/stack/stack up\`, or set USERPIPE_SKIP_INTEGRATION=1 to skip.`,
  );
}

describe('WebHdfsClient against the real HDFS', { skip: SKIP ? 'USERPIPE_SKIP_INTEGRATION=1' : false }, () => {
  const client = new WebHdfsClient({ urls: [HDFS_URL], user: USER, retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 } });

  let created = false;

  before(async () => {
    await waitForHdfs(Number(process.env.USERPIPE_TEST_HDFS_WAIT_MS ?? 30_000));
    await client.mkdirs(ROOT);
    created = true;
  });

  after(async () => {
    if (!created) return; // skipped, or HDFS was not there: the before hook already failed loudly
    assert.equal(await client.delete(ROOT, { recursive: true }), true);
    assert.equal(await client.getFileStatus(ROOT), null);
  });

  test('mkdirs is idempotent; getFileStatus and listStatus answer null for a missing path', async () => {
    const dir = `${ROOT}/mk/a/b`;
    await client.mkdirs(dir, { permission: '750' });
    await client.mkdirs(dir);
    const st = await client.getFileStatus(dir);
    assert.equal(st?.type, 'DIRECTORY');
    assert.equal(st?.owner, USER, 'user.name is passed on every request');
    assert.equal(st?.permission, '750');
    assert.equal(await client.getFileStatus(`${ROOT}/mk/missing`), null);
    assert.equal(await client.listStatus(`${ROOT}/mk/missing`), null);
  });

  test('create follows the 307 to the DataNode; open reads it back byte for byte; overwrite semantics', async () => {
    const path = `${ROOT}/create/small.txt`;
    const body = Buffer.from('{"hello":"hdfs"}\n'.repeat(10));
    await client.create(path, body, { permission: '640' });
    assert.deepEqual(await client.open(path), body);
    const st = await client.getFileStatus(path);
    assert.equal(st?.type, 'FILE');
    assert.equal(st?.length, body.length);
    assert.equal(st?.permission, '640');
    // overwrite=false (the default) on an existing file: REJECTED, not retryable, with the Java class kept.
    await assert.rejects(
      client.create(path, Buffer.from('other')),
      isCode('REJECTED', (e) =>
        e.details.exception === 'FileAlreadyExistsException' &&
        e.details.javaClassName === 'org.apache.hadoop.fs.FileAlreadyExistsException' &&
        e.details.step === 'datanode' &&
        !String(e.details.message).includes('\tat ') &&
        e.retryable === false,
      ),
    );
    assert.deepEqual(await client.open(path), body, 'the refused create did not touch the file');
    await client.create(path, Buffer.from('replaced'), { overwrite: true });
    assert.equal((await client.open(path)).toString(), 'replaced');
    // Empty files.
    await client.create(`${ROOT}/create/empty`, Buffer.alloc(0));
    assert.equal((await client.open(`${ROOT}/create/empty`)).length, 0);
    assert.equal((await client.getFileStatus(`${ROOT}/create/empty`))?.length, 0);
  });

  test('a ~5 MB body round-trips, buffered, streamed, and by range', async () => {
    const path = `${ROOT}/big/five-mb.bin`;
    const body = randomBytes(5 * 1024 * 1024 + 123);
    await client.create(path, body, { overwrite: true });
    const back = await client.open(path);
    assert.equal(back.length, body.length);
    assert.ok(back.equals(body), 'byte for byte');
    assert.ok((await collect(await client.openStream(path))).equals(body), 'openStream gives the same bytes');
    const range = await client.open(path, { offset: 4_000_000, length: 1000 });
    assert.ok(range.equals(body.subarray(4_000_000, 4_001_000)));
    const tail = await collect(await client.openStream(path, { offset: body.length - 10 }));
    assert.ok(tail.equals(body.subarray(body.length - 10)));
  });

  test('streamed bodies: a Readable and an async generator, read back exactly', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    await client.create(`${ROOT}/stream/readable.bin`, Readable.from(chunks(data, 64 * 1024)));
    assert.ok((await client.open(`${ROOT}/stream/readable.bin`)).equals(data));
    await client.create(`${ROOT}/stream/generator.bin`, chunks(data, 100_000));
    assert.ok((await client.open(`${ROOT}/stream/generator.bin`)).equals(data));
  });

  test('append adds to the end (Buffer and stream); appending to a missing file is NOT_FOUND', async () => {
    const path = `${ROOT}/append/log.jsonl`;
    const parts = [Buffer.from('line 1\n'), randomBytes(200_000), Buffer.from('line 3\n')];
    await client.create(path, parts[0] as Buffer);
    await client.append(path, parts[1] as Buffer);
    await client.append(path, chunks(parts[2] as Buffer, 3));
    assert.ok((await client.open(path)).equals(Buffer.concat(parts)));
    assert.equal((await client.getFileStatus(path))?.length, Buffer.concat(parts).length);
    await assert.rejects(client.append(`${ROOT}/append/missing`, Buffer.from('x')), isCode('NOT_FOUND'));
  });

  test('a body that fails midway leaves a closed, truncated file; truncate undoes a partial append', async () => {
    const path = `${ROOT}/partial/f`;
    async function* breaks(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(50_000, 97);
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new PipelineError('INVALID_INPUT', 'producer broke');
    }
    await assert.rejects(client.create(path, breaks()), isCode('INVALID_INPUT', (e) => e.message === 'producer broke'));
    // What the archive stage must design around: the DataNode closes the file with what it received.
    const length = await waitFor(async () => (await client.getFileStatus(path))?.length ?? 0, (n) => n > 0);
    assert.ok(length > 0 && length <= 50_000, `partial file of ${length} bytes`);
    await client.create(path, Buffer.from('0123456789'), { overwrite: true });
    await assert.rejects(client.append(path, breaks()), isCode('INVALID_INPUT'));
    // The NameNode learns the new length once the DataNode's stream is closed: poll (bounded).
    const appended = await waitFor(async () => (await client.getFileStatus(path))?.length ?? 0, (n) => n > 10);
    assert.ok(appended > 10 && appended <= 10 + 50_000, `the failed append left ${appended - 10} bytes behind`);
    // Roll back to the length before the append. Not on a block boundary: HDFS answers false and recovers the
    // last block in the background; the failed append's lease may also still be held (retryable).
    let done: boolean | undefined;
    for (let i = 0; done === undefined; i++) {
      try {
        done = await client.truncate(path, 10);
      } catch (err) {
        if (!(err instanceof PipelineError && err.retryable) || i >= 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const back = await waitFor(() => client.open(path), (b) => b.length === 10);
    assert.equal(back.length, 10, `truncate answered ${done}; length still ${back.length}`);
    assert.equal(back.toString(), '0123456789');
    await assert.rejects(client.truncate(path, -1), isCode('INVALID_INPUT'));
  });

  test('rename moves; a false answer becomes a classified error with its reason', async () => {
    const dir = `${ROOT}/rename`;
    await client.create(`${dir}/a.tmp`, Buffer.from('A'));
    await client.create(`${dir}/b`, Buffer.from('B'));
    await client.rename(`${dir}/a.tmp`, `${dir}/a`);
    assert.equal(await client.getFileStatus(`${dir}/a.tmp`), null);
    assert.equal((await client.open(`${dir}/a`)).toString(), 'A');
    // Onto an existing file: HDFS answers {"boolean": false}.
    await assert.rejects(
      client.rename(`${dir}/a`, `${dir}/b`),
      isCode('REJECTED', (e) => e.details.reason === 'destination-exists' && !e.retryable),
    );
    assert.equal((await client.open(`${dir}/b`)).toString(), 'B', 'target untouched');
    await assert.rejects(client.rename(`${dir}/nope`, `${dir}/c`), isCode('NOT_FOUND', (e) => e.details.reason === 'source-missing'));
    await assert.rejects(
      client.rename(`${dir}/a`, `${dir}/no/such/parent/a`),
      isCode('REJECTED', (e) => e.details.reason === 'destination-parent-missing'),
    );
    assert.equal((await client.open(`${dir}/a`)).toString(), 'A');
  });

  test('listStatus: entries with names, types and lengths; on a file: itself', async () => {
    const dir = `${ROOT}/list`;
    await client.mkdirs(`${dir}/sub`);
    await client.create(`${dir}/f1`, Buffer.from('12345'));
    await client.create(`${dir}/f2`, Buffer.alloc(0));
    const list = await client.listStatus(dir);
    assert.deepEqual(
      list?.map((s) => [s.pathSuffix, s.type, s.length]),
      [['f1', 'FILE', 5], ['f2', 'FILE', 0], ['sub', 'DIRECTORY', 0]],
    );
    const self = await client.listStatus(`${dir}/f1`);
    assert.equal(self?.length, 1);
    assert.equal(self?.[0]?.pathSuffix, '');
    assert.deepEqual(await client.listStatus(`${dir}/sub`), []);
  });

  test('delete: true, then false; a non-empty directory needs recursive', async () => {
    const dir = `${ROOT}/del`;
    await client.create(`${dir}/x/file`, Buffer.from('x'));
    assert.equal(await client.delete(`${dir}/x/file`), true);
    assert.equal(await client.delete(`${dir}/x/file`), false);
    await client.create(`${dir}/y/file`, Buffer.from('y'));
    await assert.rejects(
      client.delete(`${dir}/y`),
      isCode('REJECTED', (e) => !e.retryable && e.details.exception === 'PathIsNotEmptyDirectoryException' && e.details.status === 403),
    );
    assert.equal(await client.delete(`${dir}/y`, { recursive: true }), true);
    assert.equal(await client.getFileStatus(`${dir}/y`), null);
  });

  test('open: a missing file and a directory are NOT_FOUND', async () => {
    await assert.rejects(client.open(`${ROOT}/nothing-here`), isCode('NOT_FOUND', (e) => e.details.exception === 'FileNotFoundException'));
    await assert.rejects(client.openStream(`${ROOT}/nothing-here`), isCode('NOT_FOUND'));
    await assert.rejects(client.open(ROOT), isCode('NOT_FOUND'));
  });

  test('special characters in names survive the round trip', async () => {
    const name = 'a b+c%41%d;e#f?g=h&i ü 日本 (1)';
    const dir = `${ROOT}/special dir+`;
    await client.create(`${dir}/${name}`, Buffer.from(name));
    assert.deepEqual((await client.listStatus(dir))?.map((s) => s.pathSuffix), [name]);
    assert.equal((await client.open(`${dir}/${name}`)).toString(), name);
    await client.rename(`${dir}/${name}`, `${dir}/${name}.done`);
    assert.deepEqual((await client.listStatus(dir))?.map((s) => s.pathSuffix), [`${name}.done`]);
    await client.append(`${dir}/${name}.done`, Buffer.from('!'));
    assert.equal((await client.open(`${dir}/${name}.done`)).toString(), `${name}!`);
  });

  test('HA: an unreachable NameNode first in the list is skipped, and the active one sticks', async () => {
    const skipped: string[] = [];
    const ha = new WebHdfsClient({
      urls: ['http://127.0.0.1:1', HDFS_URL],
      user: USER,
      onNameNodeSkipped: ({ url }) => skipped.push(url),
    });
    await ha.create(`${ROOT}/ha/one`, Buffer.from('ha'));
    assert.equal((await ha.open(`${ROOT}/ha/one`)).toString(), 'ha');
    assert.deepEqual(skipped, ['http://127.0.0.1:1'], 'skipped once, then the real NameNode stays active');
    assert.equal(ha.activeNameNode, new URL(HDFS_URL).origin);
  });

  test('HA: a standby NameNode first in the list is skipped, then not asked again', async (t) => {
    let standbyHits = 0;
    const standby: Server = createServer((_req, res) => {
      standbyHits++;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"RemoteException":{"exception":"StandbyException","javaClassName":"org.apache.hadoop.ipc.StandbyException","message":"Operation category WRITE is not supported in state standby"}}');
    });
    await new Promise<void>((resolve) => standby.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      standby.closeAllConnections();
      standby.close();
    });
    const ha = new WebHdfsClient({ urls: [`http://127.0.0.1:${(standby.address() as AddressInfo).port}`, HDFS_URL], user: USER });
    await ha.mkdirs(`${ROOT}/ha2`);
    assert.equal(standbyHits, 1);
    await ha.create(`${ROOT}/ha2/f`, Buffer.from('x'));
    await ha.append(`${ROOT}/ha2/f`, Buffer.from('y'));
    assert.equal((await ha.open(`${ROOT}/ha2/f`)).toString(), 'xy');
    assert.equal(standbyHits, 1, 'the happy path costs one request per step');
  });

  test('a DataNode that is down in step 2: retryable NETWORK; replayed only when safe', async () => {
    let retries = 0;
    const deadDataNode = new WebHdfsClient({
      urls: [HDFS_URL],
      user: USER,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, onRetry: () => retries++ },
      rewriteDataNodeUrl: (location) => Object.assign(new URL(location), { port: '1' }),
    });
    const path = `${ROOT}/dn-down/f`;
    const isDnDown = isCode('NETWORK', (e) => e.retryable && e.details.step === 'datanode' && e.details.errno === 'ECONNREFUSED');
    // A stream cannot be replayed: surfaced at once.
    await assert.rejects(deadDataNode.create(path, chunks(Buffer.from('abc'), 1)), isDnDown);
    assert.equal(retries, 0);
    // The NameNode step of CREATE left nothing behind: this is why retrying it is safe.
    assert.equal(await client.getFileStatus(path), null);
    // A Buffer with overwrite=true is replayed up to maxAttempts.
    await assert.rejects(deadDataNode.create(path, Buffer.from('abc'), { overwrite: true }), isDnDown);
    assert.equal(retries, 2);
    // APPEND with a Buffer: a refused connection means nothing was sent, so it is retried too.
    retries = 0;
    await client.create(path, Buffer.from('base'));
    await assert.rejects(deadDataNode.append(path, Buffer.from('more')), isDnDown);
    assert.equal(retries, 2);
    assert.equal((await client.open(path)).toString(), 'base');
  });
});
