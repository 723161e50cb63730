/**
 * What every bench stage shares: options, the stack, unique names for this run, scratch space, cleanup, and
 * the data handed from one stage to the next (the spool files fetch wrote are what ingest sends; the topic
 * ingest filled is what archive and process read), prepared untimed when a stage runs alone (`--only`).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from './options.ts';
import type { Stack } from './stack.ts';

/** One side of a pair: what was measured and how long it took. */
export interface Side {
  /** Seconds of work (userpipe: the stage's start to finish log lines; ceilings: the timed loop or tool's own figure). */
  seconds: number;
  label: string;
  /** Ceilings: every repeat's seconds (`seconds` is their median). */
  runs?: number[];
}

/** How many times each ceiling runs right after userpipe's run; the median is the figure. */
export const CEILING_REPEATS = 3;

/**
 * Run a ceiling `CEILING_REPEATS` times (`i` = 0, 1, ...: each repeat gets its own fresh target) and keep the
 * median: one hiccup of a shared service (a DataNode flushing, a compaction) neither makes nor breaks the ratio.
 */
export async function repeatCeiling(fn: (i: number) => Promise<number>): Promise<{ seconds: number; runs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < CEILING_REPEATS; i++) runs.push(await fn(i));
  const sorted = [...runs].sort((a, b) => a - b);
  return { seconds: sorted[Math.floor(sorted.length / 2)] as number, runs };
}

export interface UserpipeSide extends Side {
  wallSeconds: number;
  cpuSeconds: number | undefined;
  peakRssBytes: number | undefined;
  /** Service outages seen in the run's logs (another engineer restarting a service): the pair is suspect. */
  disturbed: string[];
  args: string[];
}

export interface Measured {
  stage: string;
  records: number;
  /** Payload bytes the figure counts (which bytes: see `bytesWhat`). */
  bytes: number;
  bytesWhat: string;
  userpipe: UserpipeSide;
  ceiling: Side;
  notes: string[];
}

export interface SpoolData {
  dir: string;
  users: number;
}

export interface TopicData {
  topic: string;
  users: number;
  /** Spool files whose users are in the topic (for rendering the process ceiling's line protocol). */
  spoolDir: string;
}

export class BenchContext {
  readonly o: BenchOptions;
  readonly stack: Stack;
  readonly runId: string;
  readonly workDir: string;
  spool: SpoolData | undefined;
  topic: TopicData | undefined;
  private readonly cleanups: Array<{ what: string; fn: () => Promise<void> }> = [];

  constructor(o: BenchOptions, stack: Stack) {
    this.o = o;
    this.stack = stack;
    const d = new Date();
    const stamp = d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
    this.runId = `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
    this.workDir = o.workDir ?? join(tmpdir(), `userpipe-bench-${this.runId}`);
    mkdirSync(this.workDir, { recursive: true });
  }

  path(...parts: string[]): string {
    return join(this.workDir, ...parts);
  }

  /** A Kafka topic / group / database name unique to this run. */
  name(what: string): string {
    return `bench-${this.runId}-${what}`;
  }

  /** InfluxDB database names: letters, digits and underscores only. */
  dbName(what: string): string {
    return `bench_${this.runId.replace(/-/g, '_')}_${what}`;
  }

  get hdfsRoot(): string {
    return `/userpipe-bench/${this.runId}`;
  }

  log(msg: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  }

  /** Register an undo step, run at the end (latest first) unless --keep. */
  onCleanup(what: string, fn: () => Promise<void>): void {
    this.cleanups.push({ what, fn });
  }

  async cleanup(): Promise<void> {
    if (this.o.keep) {
      this.log(`--keep: left topics bench-${this.runId}-*, HDFS ${this.hdfsRoot}, databases bench_${this.runId.replace(/-/g, '_')}_*, ${this.workDir}`);
      return;
    }
    for (const c of this.cleanups.reverse()) {
      try {
        await c.fn();
      } catch (err) {
        this.log(`cleanup of ${c.what} failed: ${(err as Error).message}`);
      }
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Wait for every service before a measurement; say so when one was down. */
  async ready(): Promise<void> {
    const waited = await this.stack.waitReady(180_000, (s) => this.log(s));
    if (waited > 2) this.log(`stack ready after ${waited.toFixed(0)} s`);
  }
}
