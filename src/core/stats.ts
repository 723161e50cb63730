/**
 * Live counters per stage, read synchronously by the progress display and at scrape time by the Prometheus
 * exporter. Plain numbers on purpose: incrementing one is as cheap as it gets on the hot path.
 */
export interface StageCounters {
  /** Records taken in (users, messages). */
  in: number;
  /** Records durably handed on (acked). */
  out: number;
  /** Records or requests that failed for good (quarantined, dead-lettered, failed requests). */
  errors: number;
  /** Attempts that were retried. */
  retries: number;
  /** Payload bytes handed on. */
  bytes: number;
}

export interface StageGauges {
  /** Fill of the stage's input queue, 0..1. */
  queueFill?: () => number;
  /** Consumer lag in messages, summed over partitions. */
  lag?: () => number;
}

export class Stats {
  readonly stages = new Map<string, StageCounters>();
  readonly gauges = new Map<string, StageGauges>();
  /** Write latency samples in seconds, pushed by sinks; the exporter turns them into a histogram. */
  readonly latencyListeners: Array<(stage: string, seconds: number) => void> = [];
  readonly startedAt = Date.now();

  stage(name: string): StageCounters {
    let c = this.stages.get(name);
    if (!c) {
      c = { in: 0, out: 0, errors: 0, retries: 0, bytes: 0 };
      this.stages.set(name, c);
    }
    return c;
  }

  gauge(name: string, gauges: StageGauges): void {
    this.gauges.set(name, { ...this.gauges.get(name), ...gauges });
  }

  observeLatency(stage: string, seconds: number): void {
    for (const l of this.latencyListeners) l(stage, seconds);
  }
}
