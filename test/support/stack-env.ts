/** Addresses of the real stack for integration tests (started by test/stack/stack up). */
export const BROKERS = process.env.USERPIPE_TEST_BROKERS ?? '127.0.0.1:9092';
export const HDFS_URL = process.env.USERPIPE_TEST_HDFS_URL ?? 'http://127.0.0.1:9870';
export const INFLUX_URL = process.env.USERPIPE_TEST_INFLUX_URL ?? 'http://127.0.0.1:8086';

/** A name unique to this run, for topics, groups, paths and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
