import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PipelineError } from '../../src/core/errors.ts';
import { InfluxWriter } from '../../src/clients/influx-writer.ts';

// No InfluxDB here (that is test/integration/influx.test.ts): only what the client does on its own -
// configuration checks, secrets kept out of messages, and transport failures on real sockets.

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('InfluxWriter: configuration', () => {
  it('refuses bad URLs, credentials in the URL, an empty bucket and a token that cannot be a header', () => {
    const bad = [
      { url: 'not a url', bucket: 'b' },
      { url: 'ftp://h:1', bucket: 'b' },
      { url: 'http://user:pw@h:8086', bucket: 'b' },
      { url: 'http://h:8086', bucket: '' },
      { url: 'http://h:8086', bucket: 'b', token: 'abc\n' },
    ];
    for (const o of bad) {
      assert.throws(() => new InfluxWriter(o), (e: unknown) => e instanceof PipelineError && e.code === 'CONFIG', JSON.stringify(o));
    }
  });

  it('describes itself without the token', () => {
    const w = new InfluxWriter({ url: 'http://127.0.0.1:8086/prefix/', bucket: 'db/rp', org: 'acme', token: 's3cr3t-token' });
    assert.equal(w.describe(), 'influxdb http://127.0.0.1:8086/prefix bucket=db/rp org=acme');
    assert.ok(!w.describe().includes('s3cr3t'));
  });
});

describe('InfluxWriter: transport failures', () => {
  let blackhole: Server;
  let blackholePort = 0;
  const sockets = new Set<Socket>();

  before(async () => {
    // Accepts connections and never answers: a hung server.
    blackhole = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    blackholePort = (blackhole.address() as { port: number }).port;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => blackhole.close(() => resolve()));
  });

  it('a refused connection is NETWORK and retryable, without the token in the message', async () => {
    const port = await freePort();
    const w = new InfluxWriter({ url: `http://127.0.0.1:${port}`, bucket: 'b', token: 'tok-xyz', retry: { maxAttempts: 1 } });
    await assert.rejects(w.write(['m v=1i 1']), (e: unknown) => {
      assert.ok(e instanceof PipelineError);
      assert.equal(e.code, 'NETWORK');
      assert.equal(e.retryable, true);
      assert.match(e.message, /ECONNREFUSED/);
      assert.ok(!e.message.includes('tok-xyz') && !JSON.stringify(e.details).includes('tok-xyz'));
      return true;
    });
  });

  it('retries within its bounds and reports each retry', async () => {
    const port = await freePort();
    const retries: number[] = [];
    const w = new InfluxWriter({
      url: `http://127.0.0.1:${port}`,
      bucket: 'b',
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      onRetry: (info) => retries.push(info.attempt),
    });
    await assert.rejects(w.write('m v=1i 1'), (e: unknown) => e instanceof PipelineError && e.code === 'NETWORK');
    assert.deepEqual(retries, [1, 2]);
  });

  it('a server that never answers is a TIMEOUT', async () => {
    const w = new InfluxWriter({ url: `http://127.0.0.1:${blackholePort}`, bucket: 'b', timeoutMs: 200, retry: { maxAttempts: 1 } });
    const t0 = Date.now();
    await assert.rejects(w.write(['m v=1i 1']), (e: unknown) => e instanceof PipelineError && e.code === 'TIMEOUT' && e.retryable);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('the caller aborting is ABORTED, promptly, also while waiting for an answer', async () => {
    const w = new InfluxWriter({ url: `http://127.0.0.1:${blackholePort}`, bucket: 'b', timeoutMs: 60_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    await assert.rejects(w.write(['m v=1i 1'], ac.signal), (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED');
    assert.ok(Date.now() - t0 < 5000);
    await assert.rejects(w.write(['m v=1i 1'], ac.signal), (e: unknown) => e instanceof PipelineError && e.code === 'ABORTED');
  });

  it('an empty batch needs no request', async () => {
    const port = await freePort();
    const w = new InfluxWriter({ url: `http://127.0.0.1:${port}`, bucket: 'b', retry: { maxAttempts: 1 } });
    assert.deepEqual(await w.write([]), { written: 0, rejected: [], requests: 0 });
    assert.deepEqual(await w.write(''), { written: 0, rejected: [], requests: 0 });
  });
});
