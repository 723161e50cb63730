/**
 * `npm run bench -- [options]`. Defaults are sized to finish in under 10 minutes on 2 cores.
 */
import { parseArgs } from 'node:util';
import { userInfo } from 'node:os';

export const STAGES = ['fetch', 'ingest', 'archive', 'process', 'run-all', 'memory', 'profile'] as const;
export type StageName = (typeof STAGES)[number];

export const DEFAULT_USERS = 100_000;
const DEFAULT_MEMORY_USERS = 1_000_000;

export interface BenchOptions {
  users: number;
  results: number;
  partitions: number;
  codec: string;
  only: Set<StageName>;
  memoryUsers: number;
  memorySmall: number;
  /** users per second fed to run-all for the latency measurement. */
  latencyRate: number;
  latencySeconds: number;
  /** A stage name, `auto` (lowest ratio to its ceiling), or `off`. */
  profile: string;
  brokers: string;
  hdfsUrl: string;
  influxUrl: string;
  hdfsUser: string;
  keep: boolean;
  outDir: string;
  workDir: string | undefined;
}

const HELP = `usage: npm run bench -- [options]

  --users <n>            users through each stage (default ${DEFAULT_USERS.toLocaleString('en-US')})
  --results <n>          users per response / spool file (default 1000)
  --partitions <n>       partitions of the bench topics (default 3, ingest's --create-topic default)
  --codec <codec>        Kafka compression for ingest and ProducerPerformance (default snappy, ingest's default)
  --only <list>          comma-separated subset of: ${STAGES.join(',')}
  --memory-users <n>     backlog of the memory run (default 1,000,000, scaled down with --users)
  --memory-small <n>     the small backlog it is compared with (default 10,000)
  --latency-rate <n>     users/s fed to run-all for the latency row (default 1000)
  --latency-seconds <n>  length of that run (default 30)
  --profile <stage|auto|off>  CPU-profile one stage's userpipe run (default auto: the lowest ratio)
  --brokers <list>       default $USERPIPE_TEST_BROKERS or 127.0.0.1:9092
  --hdfs-url <url>       default $USERPIPE_TEST_HDFS_URL or http://127.0.0.1:9870
  --influx-url <url>     default $USERPIPE_TEST_INFLUX_URL or http://127.0.0.1:8086
  --hdfs-user <name>     default $HADOOP_USER_NAME or the OS user
  --work-dir <dir>       local scratch space (default a fresh dir under the OS temp dir)
  --out <dir>            where results go (default bench/results)
  --keep                 keep topics, HDFS files, databases and scratch files
`;

function int(v: string | undefined, d: number, name: string, min = 1): number {
  if (v === undefined) return d;
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${v}`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string' },
      results: { type: 'string' },
      partitions: { type: 'string' },
      codec: { type: 'string' },
      only: { type: 'string' },
      'memory-users': { type: 'string' },
      'memory-small': { type: 'string' },
      'latency-rate': { type: 'string' },
      'latency-seconds': { type: 'string' },
      profile: { type: 'string' },
      brokers: { type: 'string' },
      'hdfs-url': { type: 'string' },
      'influx-url': { type: 'string' },
      'hdfs-user': { type: 'string' },
      'work-dir': { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const users = int(values.users, DEFAULT_USERS, 'users');
  const only = new Set<StageName>();
  for (const s of (values.only ?? STAGES.join(',')).split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(STAGES as readonly string[]).includes(s)) throw new Error(`--only: unknown stage ${s} (known: ${STAGES.join(', ')})`);
    only.add(s as StageName);
  }
  const scaledMemory = Math.max(10_000, Math.round((DEFAULT_MEMORY_USERS * Math.min(users, DEFAULT_USERS)) / DEFAULT_USERS));
  const codec = values.codec ?? 'snappy';
  if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(codec)) throw new Error(`--codec: unknown codec ${codec}`);
  return {
    users,
    results: int(values.results, 1000, 'results'),
    partitions: int(values.partitions, 3, 'partitions'),
    codec,
    only,
    memoryUsers: int(values['memory-users'], scaledMemory, 'memory-users'),
    memorySmall: int(values['memory-small'], 10_000, 'memory-small'),
    latencyRate: int(values['latency-rate'], 1000, 'latency-rate'),
    latencySeconds: int(values['latency-seconds'], 30, 'latency-seconds'),
    profile: values.profile ?? 'auto',
    brokers: values.brokers ?? process.env.USERPIPE_TEST_BROKERS ?? '127.0.0.1:9092',
    hdfsUrl: (values['hdfs-url'] ?? process.env.USERPIPE_TEST_HDFS_URL ?? 'http://127.0.0.1:9870').replace(/\/webhdfs\/v1\/?$/, ''),
    influxUrl: values['influx-url'] ?? process.env.USERPIPE_TEST_INFLUX_URL ?? 'http://127.0.0.1:8086',
    hdfsUser: values['hdfs-user'] ?? process.env.HADOOP_USER_NAME ?? userInfo().username,
    keep: values.keep === true,
    outDir: values.out ?? 'bench/results',
    workDir: values['work-dir'],
  };
}
