/**
 * HA NameNode selection. No real system can play a standby or unreachable NameNode here, so tiny local HTTP
 * servers play exactly those two roles (and a hung one); the happy path with a real active NameNode is in
 * test/integration/webhdfs.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { PipelineError } from '../../src/core/errors.ts';
import { NameNodeRotation } from '../../src/clients/webhdfs-http.ts';
import { WebHdfsClient } from '../../src/clients/webhdfs.ts';

interface Hit {
  server: string;
  method: string;
  url: URL;
}

async function startServer(name: string, log: Hit[], handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    log.push({ server: name, method: req.method ?? '', url: new URL(req.url ?? '/', 'http://x') });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** What a standby NameNode answers to any WebHDFS operation (Hadoop 3). */
function standby(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(403, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      RemoteException: {
        exception: 'StandbyException',
        javaClassName: 'org.apache.hadoop.ipc.StandbyException',
        message: 'Operation category READ is not supported in state standby. Visit https://s.apache.org/sbnn-error',
      },
    }),
  );
}

function closeAll(...servers: Server[]): void {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
}

const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const UNREACHABLE = 'http://127.0.0.1:1';

test('NameNodeRotation: active first then cyclic; markActive sticks; markSuspect moves on; duplicates and empty lists', () => {
  const r = new NameNodeRotation(['http://a:9870/', 'http://b:9870', 'http://c:9870/webhdfs/v1', 'http://a:9870']);
  assert.deepEqual(r.urls, ['http://a:9870', 'http://b:9870', 'http://c:9870']);
  assert.deepEqual(r.order(), ['http://a:9870', 'http://b:9870', 'http://c:9870']);
  r.markActive('http://c:9870');
  assert.equal(r.active, 'http://c:9870');
  assert.deepEqual(r.order(), ['http://c:9870', 'http://a:9870', 'http://b:9870']);
  r.markSuspect('http://b:9870'); // not the active one: no change
  assert.equal(r.active, 'http://c:9870');
  r.markSuspect('http://c:9870');
  assert.deepEqual(r.order(), ['http://a:9870', 'http://b:9870', 'http://c:9870']);
  r.markActive('http://unknown:1');
  assert.equal(r.active, 'http://a:9870');
  const single = new NameNodeRotation(['http://only:1']);
  single.markSuspect('http://only:1');
  assert.deepEqual(single.order(), ['http://only:1']);
  assert.throws(() => new NameNodeRotation([]), (e: unknown) => e instanceof PipelineError && e.code === 'CONFIG');
});

test('unreachable and standby NameNodes are skipped in list order, each attempt, then a retryable UNAVAILABLE', async (t) => {
  const log: Hit[] = [];
  const sb = await startServer('standby', log, standby);
  t.after(() => closeAll(sb.server));
  const skipped: string[] = [];
  const client = new WebHdfsClient({
    urls: [UNREACHABLE, sb.url],
    user: 'alice',
    retry: FAST_RETRY,
    onNameNodeSkipped: ({ url, error }) => skipped.push(`${url} ${error.code}`),
  });
  const err = await client.getFileStatus('/some/path').then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PipelineError);
  assert.equal(err.code, 'UNAVAILABLE');
  assert.equal(err.retryable, true);
  assert.match(err.message, /no active NameNode reachable/);
  assert.deepEqual(err.details.nameNodes, [UNREACHABLE, sb.url]);
  assert.equal(log.length, 3, 'one standby request per attempt');
  for (const hit of log) {
    assert.equal(hit.method, 'GET');
    assert.equal(hit.url.pathname, '/webhdfs/v1/some/path');
    assert.equal(hit.url.searchParams.get('op'), 'GETFILESTATUS');
    assert.equal(hit.url.searchParams.get('user.name'), 'alice');
  }
  assert.deepEqual(skipped, [
    `${UNREACHABLE} NETWORK`, `${sb.url} UNAVAILABLE`,
    `${UNREACHABLE} NETWORK`, `${sb.url} UNAVAILABLE`,
    `${UNREACHABLE} NETWORK`, `${sb.url} UNAVAILABLE`,
  ]);
});

test('a single standby NameNode: its own StandbyException surfaces, retried maxAttempts times', async (t) => {
  const log: Hit[] = [];
  const sb = await startServer('standby', log, standby);
  t.after(() => closeAll(sb.server));
  const client = new WebHdfsClient({ urls: [sb.url], user: 'u', retry: FAST_RETRY });
  await assert.rejects(client.mkdirs('/a'), (e: unknown) =>
    e instanceof PipelineError && e.code === 'UNAVAILABLE' && e.details.exception === 'StandbyException' && e.details.step === 'namenode',
  );
  assert.equal(log.length, 3);
  assert.equal(log[0]?.method, 'PUT');
  assert.equal(log[0]?.url.searchParams.get('op'), 'MKDIRS');
});

test('APPEND with a stream body: the NameNode step is retried and the body is never touched', async (t) => {
  const log: Hit[] = [];
  const sb = await startServer('standby', log, standby);
  t.after(() => closeAll(sb.server));
  let pulled = 0;
  const body = new Readable({
    read() {
      pulled++;
      this.push(null);
    },
  });
  const client = new WebHdfsClient({ urls: [sb.url, UNREACHABLE], user: 'u', retry: FAST_RETRY });
  await assert.rejects(client.append('/log/a.txt', body), (e: unknown) => e instanceof PipelineError && e.code === 'UNAVAILABLE');
  assert.equal(log.length, 3);
  assert.ok(log.every((h) => h.method === 'POST' && h.url.searchParams.get('op') === 'APPEND'));
  assert.equal(pulled, 0, 'the body was not read: the caller may still send it elsewhere');
});

test('a NameNode that hangs after connecting ends the attempt (TIMEOUT) and the next attempt starts at the next one', async (t) => {
  const log: Hit[] = [];
  const hung = await startServer('hung', log, () => {
    // Never answer: a GC-paused or wedged NameNode.
  });
  const sb = await startServer('standby', log, standby);
  t.after(() => closeAll(hung.server, sb.server));
  const client = new WebHdfsClient({
    urls: [hung.url, sb.url],
    user: 'u',
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    timeouts: { responseMs: 150 },
  });
  await assert.rejects(client.delete('/x'), (e: unknown) => e instanceof PipelineError && e.code === 'TIMEOUT');
  // Attempt 1: hung (timeout, marked suspect). Attempt 2: standby first (skipped), then hung again.
  assert.deepEqual(log.map((h) => h.server), ['hung', 'standby', 'hung']);
});

test('abort during the backoff rejects at once with ABORTED', async (t) => {
  const log: Hit[] = [];
  const sb = await startServer('standby', log, standby);
  t.after(() => closeAll(sb.server));
  const client = new WebHdfsClient({ urls: [sb.url], user: 'u', retry: { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 1 } });
  const controller = new AbortController();
  const started = Date.now();
  const pending = client.listStatus('/', { signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending, (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED');
  assert.ok(Date.now() - started < 2000);
  assert.equal(log.length, 1);
  // The client-wide signal works the same way, combined with per-call ones.
  const clientWide = new AbortController();
  clientWide.abort();
  const aborted = new WebHdfsClient({ urls: [sb.url], user: 'u', signal: clientWide.signal });
  await assert.rejects(aborted.getFileStatus('/', { signal: new AbortController().signal }), (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED');
  assert.equal(log.length, 1, 'nothing sent once aborted');
});

test('invalid paths are rejected before any request', async (t) => {
  const log: Hit[] = [];
  const sb = await startServer('standby', log, standby);
  t.after(() => closeAll(sb.server));
  const client = new WebHdfsClient({ urls: [sb.url], user: 'u', retry: FAST_RETRY });
  await assert.rejects(client.create('relative', Buffer.from('x')), (e: unknown) => e instanceof PipelineError && e.code === 'INVALID_INPUT');
  await assert.rejects(client.rename('/a', '/b/../c'), (e: unknown) => e instanceof PipelineError && e.code === 'INVALID_INPUT');
  await assert.rejects(client.mkdirs('/a', { permission: '999' }), (e: unknown) => e instanceof PipelineError && e.code === 'INVALID_INPUT');
  assert.equal(log.length, 0);
});
