/**
 * Cancellation in two phases, both plain AbortSignals (principle 4):
 * - `stop`: stop taking new input, drain what is in flight, flush, commit, then return normally;
 * - `abort`: give up now. What was not committed is redone on the next start (at-least-once).
 * Aborting implies stopping. Only the entry file maps SIGINT/SIGTERM onto these; everything else just
 * receives the signals.
 *
 * `drainTimeoutMs` bounds the soft stop: if a stop has not finished by then, the lifecycle aborts.
 */
export class Lifecycle {
  private readonly stopController = new AbortController();
  private readonly abortController = new AbortController();
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly drainTimeoutMs: number;

  /**
   * `parent`: this lifecycle aborts when the parent aborts and, unless `followStop` is false, stops when it
   * stops (run-all stops its consumers itself, after ingest has drained, but aborts them with everything).
   */
  constructor(options: { drainTimeoutMs?: number; parent?: Lifecycle; followStop?: boolean } = {}) {
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    const parent = options.parent;
    if (parent) {
      if (parent.abort.aborted) this.hardAbort(parent.abort.reason);
      else parent.abort.addEventListener('abort', () => this.hardAbort(parent.abort.reason), { once: true });
      if (options.followStop !== false) {
        if (parent.stop.aborted) this.softStop(parent.stop.reason);
        else parent.stop.addEventListener('abort', () => this.softStop(parent.stop.reason), { once: true });
      }
    }
    this.abortController.signal.addEventListener('abort', () => this.clearDrainTimer(), { once: true });
  }

  get stop(): AbortSignal {
    return this.stopController.signal;
  }

  get abort(): AbortSignal {
    return this.abortController.signal;
  }

  /** Soft stop; starts the drain timer. Idempotent. */
  softStop(reason: unknown = 'stop'): void {
    if (this.stopController.signal.aborted) return;
    this.stopController.abort(reason);
    if (Number.isFinite(this.drainTimeoutMs)) {
      this.drainTimer = setTimeout(() => this.hardAbort('drain timeout'), this.drainTimeoutMs);
      this.drainTimer.unref();
    }
  }

  /** Hard abort (implies stop). Idempotent. */
  hardAbort(reason: unknown = 'abort'): void {
    if (!this.stopController.signal.aborted) this.stopController.abort(reason);
    if (!this.abortController.signal.aborted) this.abortController.abort(reason);
  }

  /** Release the drain timer once the work finished. */
  dispose(): void {
    this.clearDrainTimer();
  }

  private clearDrainTimer(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
  }
}

/**
 * Run tasks concurrently under one lifecycle. If any task fails, the others are stopped (soft), and the first
 * failure is rethrown once all have settled, so no task is left running behind the caller's back.
 */
export async function runAll(tasks: Array<(lc: Lifecycle) => Promise<void>>, lifecycle: Lifecycle): Promise<void> {
  let firstError: unknown;
  let failed = false;
  await Promise.all(
    tasks.map(async (task) => {
      try {
        await task(lifecycle);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
        lifecycle.softStop('task failed');
      }
    }),
  );
  if (failed) throw firstError;
}
