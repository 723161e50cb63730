/**
 * Raw InfluxDB over node:http (no userpipe code): the process stage's ceiling (POST /api/v2/write of
 * line protocol already rendered, gzip) and the bench's bookkeeping (databases, counts, version).
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { expectStatus, request } from './http.ts';

const gzip = promisify(gzipCb);

export class RawInflux {
  readonly base: string;

  constructor(url: string) {
    this.base = url.replace(/\/+$/, '');
  }

  async query(q: string, db?: string): Promise<unknown> {
    const body = new URLSearchParams({ q, ...(db ? { db } : {}), epoch: 'ns' }).toString();
    const a = await request(`${this.base}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expectStatus(a, [200], `query ${q}`);
    return JSON.parse(a.body.toString());
  }

  async createDb(db: string): Promise<void> {
    await this.query(`CREATE DATABASE "${db}"`);
  }

  async dropDb(db: string): Promise<void> {
    await this.query(`DROP DATABASE "${db}"`);
  }

  /** Rows of the first series of the first statement (e.g. `SELECT count(x)`), [] when none. */
  async rows(q: string, db: string): Promise<unknown[][]> {
    const r = (await this.query(q, db)) as { results?: Array<{ series?: Array<{ values?: unknown[][] }>; error?: string }> };
    const first = r.results?.[0];
    if (first?.error) throw new Error(`query ${q}: ${first.error}`);
    return first?.series?.[0]?.values ?? [];
  }

  async count(db: string, measurement: string, field: string): Promise<number> {
    const rows = await this.rows(`SELECT count("${field}") FROM "${measurement}"`, db);
    return Number(rows[0]?.[1] ?? 0);
  }

  async version(): Promise<string> {
    const a = await request(`${this.base}/ping`);
    const v = a.headers['x-influxdb-version'];
    return typeof v === 'string' ? v : 'unknown';
  }

  async ready(): Promise<boolean> {
    try {
      return (await request(`${this.base}/ping`, { timeoutMs: 5000 })).status === 204;
    } catch {
      return false;
    }
  }

  /** One write request: the body gzipped at `level`, precision ns, as userpipe's writer sends it. */
  async write(bucket: string, lines: string, level: number): Promise<void> {
    const body = await gzip(Buffer.from(lines), { level });
    const a = await request(`${this.base}/api/v2/write?${new URLSearchParams({ bucket, precision: 'ns' }).toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip', 'content-length': body.length },
      body,
    });
    expectStatus(a, [204], `write ${bucket}`);
  }

  /** Write every batch, `concurrency` requests at a time (userpipe's --max-in-flight). */
  async writeAll(bucket: string, batches: readonly string[], concurrency: number, level: number): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const b = batches[next++] as string;
        await this.write(bucket, b, level);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}
