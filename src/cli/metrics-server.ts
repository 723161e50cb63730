import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Stats } from '../core/stats.ts';

/**
 * Prometheus metrics (`/metrics`) and probes (`/healthz`: the process is alive; `/readyz`: every stage has
 * started and none has failed). Values are read from Stats at scrape time, so the hot path only bumps plain
 * numbers. Binds to 127.0.0.1 unless told otherwise: metrics are not for the open internet.
 */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export function buildRegistry(stats: Stats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'userpipe_' });
  const counter = (name: string, help: string, pick: (c: ReturnType<Stats['stage']>) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['stage'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [stage, c] of stats.stages) this.inc({ stage }, pick(c));
      },
    });
  };
  counter('userpipe_records_in_total', 'Records taken in by each stage', (c) => c.in);
  counter('userpipe_records_out_total', 'Records durably handed on by each stage', (c) => c.out);
  counter('userpipe_errors_total', 'Records or requests that failed for good (quarantined, dead-lettered)', (c) => c.errors);
  counter('userpipe_retries_total', 'Retried attempts', (c) => c.retries);
  counter('userpipe_bytes_out_total', 'Payload bytes handed on', (c) => c.bytes);
  new Gauge({
    name: 'userpipe_queue_fill_ratio',
    help: 'Fill of the stage input queue, 0..1',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [stage, g] of stats.gauges) if (g.queueFill) this.set({ stage }, g.queueFill());
    },
  });
  new Gauge({
    name: 'userpipe_consumer_lag',
    help: 'Messages behind the end of the log, per consuming stage',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [stage, g] of stats.gauges) if (g.lag) this.set({ stage }, g.lag());
    },
  });
  const latency = new Histogram({
    name: 'userpipe_write_latency_seconds',
    help: 'Latency of writes to the next system (Kafka send, HDFS file close, InfluxDB write)',
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  stats.latencyListeners.push((stage, seconds) => latency.observe({ stage }, seconds));
  return registry;
}

export async function startMetricsServer(options: {
  port: number;
  host?: string;
  stats: Stats;
  ready: () => boolean;
}): Promise<MetricsServer> {
  const registry = buildRegistry(options.stats);
  const server: Server = createServer((req, res) => {
    const url = req.url?.split('?')[0];
    if (url === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500).end(String(err));
        },
      );
    } else if (url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    } else if (url === '/readyz') {
      const ok = options.ready();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  server.unref();
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
