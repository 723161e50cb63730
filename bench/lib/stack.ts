/**
 * The real stack the bench runs against: addresses, readiness (waited for before every measurement, since
 * other engineers restart services for their fault tests), versions, and the bench's own topics.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { KafkaAdmin } from '../../src/clients/kafka.ts';
import { RawInflux } from './influx-raw.ts';
import { RawWebHdfs } from './webhdfs-raw.ts';
import { REPO_ROOT } from './child.ts';

const run = promisify(execFile);

export interface StackAddresses {
  brokers: string;
  hdfsUrl: string;
  influxUrl: string;
  hdfsUser: string;
}

export interface Versions {
  kafka: string;
  hdfs: string;
  influxdb: string;
}

/** Created by the readiness probe, deleted at the end of a run. */
export const PROBE_TOPIC = 'userpipe-bench-probe';

export class Stack {
  readonly a: StackAddresses;
  readonly hdfs: RawWebHdfs;
  readonly influx: RawInflux;
  private adminP: Promise<KafkaAdmin> | undefined;

  constructor(a: StackAddresses) {
    this.a = a;
    this.hdfs = new RawWebHdfs(a.hdfsUrl, a.hdfsUser);
    this.influx = new RawInflux(a.influxUrl);
  }

  admin(): Promise<KafkaAdmin> {
    this.adminP ??= KafkaAdmin.create({ brokers: this.a.brokers.split(','), clientId: 'userpipe-bench' });
    return this.adminP;
  }

  async kafkaReady(): Promise<boolean> {
    const [host, port] = (this.a.brokers.split(',')[0] ?? '').split(':');
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port: Number(port) });
      s.setTimeout(3000, () => {
        s.destroy();
        resolve(false);
      });
      s.once('connect', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (!open) return false;
    try {
      // A metadata round trip with leaders elected: the broker really serves requests (not just listening).
      await (await this.admin()).ensureTopic(PROBE_TOPIC, { partitions: 1, replicationFactor: 1 }, 10_000);
      return true;
    } catch {
      return false;
    }
  }

  /** Wait (bounded) until every service answers; returns the seconds waited. Throws after `timeoutMs`. */
  async waitReady(timeoutMs = 180_000, log: (s: string) => void = () => {}): Promise<number> {
    const t0 = Date.now();
    let said = false;
    for (;;) {
      const [k, h, i] = await Promise.all([this.kafkaReady(), this.hdfs.ready(), this.influx.ready()]);
      if (k && h && i) return (Date.now() - t0) / 1000;
      if (!said) {
        log(`waiting for the stack (kafka ${k ? 'up' : 'down'}, hdfs ${h ? 'up' : 'down'}, influxdb ${i ? 'up' : 'down'})`);
        said = true;
      }
      if (Date.now() - t0 > timeoutMs) throw new Error('the stack did not become ready (is `test/stack/stack up` running?)');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async versions(): Promise<Versions> {
    const [hdfs, influxdb] = await Promise.all([this.hdfs.version().catch(() => 'unknown'), this.influx.version().catch(() => 'unknown')]);
    let kafka = 'unknown';
    try {
      // The broker does not say its version over the protocol we speak; the stack script knows what it runs.
      const { stdout } = await run('bash', [join(REPO_ROOT, 'test/stack/stack'), 'status'], { timeout: 30_000 }).catch(
        (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
      );
      kafka = /Kafka (\d[\w.-]*)/.exec(stdout)?.[1] ?? 'unknown';
    } catch {
      // keep unknown
    }
    return { kafka, hdfs: hdfs.split(',')[0] ?? hdfs, influxdb };
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    await (await this.admin()).ensureTopic(topic, { partitions, replicationFactor: 1 });
  }

  async deleteTopic(topic: string): Promise<void> {
    await (await this.admin()).deleteTopic(topic);
  }

  async endOffsetsTotal(topic: string): Promise<number> {
    const ends = await (await this.admin()).endOffsets(topic);
    return ends.reduce((s, o) => s + Number(o), 0);
  }

  async close(): Promise<void> {
    if (this.adminP) await (await this.adminP).close();
  }
}
