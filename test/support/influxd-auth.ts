/**
 * A second, private InfluxDB 1.8 WITH authentication, for tests that need a server which checks tokens (the
 * stack's shared instance runs with auth off, where 1.8 ignores the token). Started from the stack's cached
 * binary (`test/stack/stack install` puts it at $USERPIPE_STACK_HOME/dist/influxdb-<version>/bin/influxd) on
 * free ports, data in a temporary directory; `stop()` kills exactly that process and removes the directory.
 *
 * With auth on, 1.8 lets the FIRST admin user be created without credentials; after that every request needs
 * them. The v2 write API takes them as `Authorization: Token user:password`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function influxdBinary(): string {
  const home = process.env.USERPIPE_STACK_HOME ?? join(homedir(), '.cache', 'userpipe-stack');
  const versions = readFileSync(fileURLToPath(new URL('../stack/versions.env', import.meta.url)), 'utf8');
  const version = /^INFLUXDB_VERSION=(\S+)/m.exec(versions)?.[1] ?? '1.8.10';
  return join(home, 'dist', `influxdb-${version}`, 'bin', 'influxd');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface AuthInflux {
  url: string;
  /** `user:password` of the admin (all privileges). */
  adminToken: string;
  /** Run InfluxQL with the admin's credentials; throws on an error in the answer. */
  query(q: string, db?: string): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startAuthInflux(): Promise<AuthInflux> {
  const bin = influxdBinary();
  if (!existsSync(bin)) throw new Error(`influxd not found at ${bin}: run test/stack/stack install`);
  const dir = await mkdtemp(join(tmpdir(), 'userpipe-influx-auth-'));
  const [http, rpc] = [await freePort(), await freePort()];
  const config = join(dir, 'influxdb.conf');
  await writeFile(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${http}"`,
      '  auth-enabled = true',
      '  log-enabled = false',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['run', '-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const url = `http://127.0.0.1:${http}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await fetch(`${url}/ping`).then((r) => r.status, () => 0);
      if (status === 204) break;
      if (child.exitCode !== null) throw new Error(`influxd exited (${child.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`influxd did not answer /ping within 30 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const adminToken = 'userpipe_admin:it-password';
    const raw = async (q: string, auth: boolean, db?: string): Promise<unknown> => {
      const body = new URLSearchParams({ q, ...(db ? { db } : {}) });
      const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
      if (auth) headers.Authorization = `Token ${adminToken}`;
      const res = await fetch(`${url}/query`, { method: 'POST', headers, body: body.toString() });
      const json = (await res.json()) as { error?: string; results?: { error?: string }[] };
      const err = json.error ?? json.results?.find((r) => r.error)?.error;
      if (!res.ok || err) throw new Error(`InfluxQL ${q}: HTTP ${res.status} ${err ?? ''}`);
      return json;
    };
    await raw(`CREATE USER "userpipe_admin" WITH PASSWORD 'it-password' WITH ALL PRIVILEGES`, false);
    return { url, adminToken, query: (q, db) => raw(q, true, db), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
