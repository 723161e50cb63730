/**
 * Helpers for the process stage's unit tests over run-all's in-process log (MemoryLog): messages in ingest's
 * formats (built by ingest's own `buildMessages`), a PointWriter whose behaviour each test scripts, and
 * readers for what the stage left behind (committed offsets, the dead-letter spill file).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemoryLog } from '../../src/clients/memory-log.ts';
import type { ProduceRecord } from '../../src/clients/message-log.ts';
import type { RetryInfo } from '../../src/core/retry.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import { toLines, type PointWriter, type WriteResult } from '../../src/sinks/point-writer.ts';
import type { ProcessStageOptions } from '../../src/stages/process.ts';
import { generateResponse } from '../../src/sources/synthetic-generator.ts';
import type { RandomUser } from '../../src/transforms/randomuser-types.ts';
import { buildMessages } from '../../src/transforms/user-messages.ts';

export const TOPIC = 't';
export const DLQ = 't.dlq';
export const T0 = Date.UTC(2026, 10, 30, 6, 0, 0, 0);

/** Users of one synthetic response as ingest would send them (`format`), from one spool file. */
export function messagesOf(users: readonly RandomUser[], format: 'user' | 'response', fileIndex = 0): ProduceRecord[] {
  const raw = JSON.stringify({ results: users });
  const records = [{ kind: 'response' as const, response: { results: [...users] }, raw, line: 1 }];
  const origin = { source: `f${fileIndex}.json`, fetchedAtMs: T0 + fileIndex, seq: 0 };
  return buildMessages('response', records, origin, { format, topic: TOPIC, dlqTopic: DLQ }).map((m) => ({
    ...(m.key === undefined ? {} : { key: m.key }),
    value: m.value,
    headers: m.headers,
  }));
}

export function users(n: number, seed = 'process'): RandomUser[] {
  return generateResponse({ seed, page: 1, results: n }).results;
}

/** Append without waiting: the memory log's send resolves only once the group committed. */
export async function produce(log: MemoryLog, records: readonly ProduceRecord[]): Promise<void> {
  const producer = await log.producer();
  producer.send(TOPIC, records).catch(() => {});
  // let the appends happen (send appends synchronously until it waits for commits)
  await new Promise((r) => setImmediate(r));
}

/** Committed offsets of `group` per partition (the position a new member would start from). */
export async function committed(log: MemoryLog, group = 'process'): Promise<Map<number, bigint>> {
  const c = await log.consumer({ group, topic: TOPIC, start: 'committed' });
  const pos = c.positions();
  await c.close();
  return pos;
}

export interface SpilledMessage {
  key: string | null;
  headers: Record<string, string>;
  value: string;
}

export async function deadLetters(spillDir: string): Promise<SpilledMessage[]> {
  try {
    const text = await readFile(join(spillDir, `${DLQ}.ndjson`), 'utf8');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as SpilledMessage);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

export type Behaviour = (lines: readonly string[], call: number, signal: AbortSignal | undefined) => Promise<WriteResult | undefined>;

/** A PointWriter that records what it wrote; `behave` may throw, refuse lines, wait, or call the retry hook. */
export class ScriptedWriter implements PointWriter {
  readonly lines: string[] = [];
  calls = 0;
  running = 0;
  maxRunning = 0;
  onRetry: (info: RetryInfo) => void = () => {};
  behave: Behaviour | undefined;

  constructor(behave?: Behaviour) {
    this.behave = behave;
  }

  async write(input: readonly string[] | string, signal?: AbortSignal): Promise<WriteResult> {
    const lines = toLines(input);
    this.calls += 1;
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const scripted = await this.behave?.(lines, this.calls, signal);
      if (scripted) {
        const refused = new Set(scripted.rejected.map((r) => r.line));
        this.lines.push(...lines.filter((l) => !refused.has(l)));
        return scripted;
      }
      this.lines.push(...lines);
      return { written: lines.length, rejected: [], requests: 1 };
    } finally {
      this.running -= 1;
    }
  }

  async close(): Promise<void> {}

  describe(): string {
    return 'scripted writer';
  }
}

export function stageOptions(log: MemoryLog, writer: ScriptedWriter | PointWriter, extra: Partial<ProcessStageOptions> = {}): ProcessStageOptions {
  return {
    log,
    makeWriter: (hooks) => {
      if (writer instanceof ScriptedWriter) writer.onRetry = hooks.onRetry;
      return writer;
    },
    topic: TOPIC,
    dlqTopic: DLQ,
    group: 'process',
    start: 'committed',
    measurement: 'users',
    dedupeWindow: 1000,
    batchSize: 100,
    batchBytes: 8 * 1024 * 1024,
    flushIntervalMs: 20,
    maxInFlight: 2,
    once: true,
    commitIntervalMs: 10,
    ...extra,
  };
}

export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'info', write: (l) => lines.push(l) }), lines };
}

export const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
