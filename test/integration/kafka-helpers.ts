import { randomBytes } from 'node:crypto';
import type { KafkaConnectionOptions } from '../../src/clients/kafka.ts';

/** Shared by the Kafka integration tests: the real broker from the test stack, unique names per run. */

export const BROKERS = (process.env.USERPIPE_TEST_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);

/** Integration tests are real failures when Kafka is down, unless explicitly skipped. */
export const SKIP = process.env.USERPIPE_SKIP_INTEGRATION === '1' ? 'USERPIPE_SKIP_INTEGRATION=1' : false;

export function unique(prefix: string): string {
  return `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;
}

export function conn(clientId: string): KafkaConnectionOptions {
  return { brokers: BROKERS, clientId, connectTimeoutMs: 5_000 };
}

/** Short group timings so rebalances in tests take a second, not a minute. */
export const FAST_GROUP = { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, heartbeatIntervalMs: 500, revokeTimeoutMs: 5_000 };

/** Poll `check` until it returns true; fail with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
