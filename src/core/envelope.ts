import { PipelineError, toPipelineError } from './errors.ts';

/**
 * Settles a record: no argument once its effect is durable downstream; an error when it could not be
 * delivered (the source then decides: retry, quarantine, or stop). Sources turn the ack into their own commit
 * (rename the spool file, commit the Kafka offset, advance the fetch cursor).
 *
 * Contract: every Ack is settled exactly once. A second call is a bug and throws; use `onceAck` to make an
 * Ack from a plain function.
 */
export type Ack = (error?: PipelineError) => Promise<void>;

/** Metadata a record carries through the pipeline; stages add fields, never remove them. */
export type Meta = Record<string, unknown>;

export interface Envelope<T> {
  readonly payload: T;
  readonly meta: Meta;
  readonly ack: Ack;
}

export function envelope<T>(payload: T, ack: Ack, meta: Meta = {}): Envelope<T> {
  return { payload, meta, ack };
}

/** Wrap a settle function so that it runs once; a second settle throws (it always means a bug). */
export function onceAck(settle: (error?: PipelineError) => void | Promise<void>): Ack {
  let settled = false;
  return async (error?: PipelineError) => {
    if (settled) throw new PipelineError('INTERNAL', 'ack settled twice');
    settled = true;
    await settle(error);
  };
}

/** An Ack that does nothing (records with no upstream to tell, e.g. synthetic data written to stdout). */
export const noopAck: Ack = async () => {};

/**
 * Split one parent ack over `n >= 1` child records (a response exploded into users, a batch of files).
 * The parent settles once all children have settled: successfully if all succeeded, otherwise with the
 * first error (the same rule as Benthos' combined ack). A parent with no children is the caller's to settle
 * (`await parent()`), so an error of that settlement is never lost.
 */
export function splitAck(parent: Ack, n: number): Ack[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`splitAck needs n >= 1, got ${n}; settle a parent without children directly`);
  let remaining = n;
  let firstError: PipelineError | undefined;
  const children: Ack[] = [];
  for (let i = 0; i < n; i++) {
    children.push(
      onceAck(async (error) => {
        if (error && !firstError) firstError = error;
        remaining -= 1;
        if (remaining === 0) await parent(firstError);
      }),
    );
  }
  return children;
}

/**
 * Counts outstanding acks: tests assert `outstanding === 0` after a run, and the runner logs what is left
 * unsettled at a hard abort. Cheap: one integer.
 */
export class AckTracker {
  private pending = 0;
  private settledOk = 0;
  private settledErr = 0;

  get outstanding(): number {
    return this.pending;
  }
  get acked(): number {
    return this.settledOk;
  }
  get nacked(): number {
    return this.settledErr;
  }

  /** Wrap an ack so the tracker sees it created and settled. */
  track(ack: Ack): Ack {
    this.pending += 1;
    return onceAck(async (error) => {
      this.pending -= 1;
      if (error) this.settledErr += 1;
      else this.settledOk += 1;
      await ack(error);
    });
  }
}

/** Settle an ack with an arbitrary thrown value, classified. */
export function nack(ack: Ack, err: unknown): Promise<void> {
  return ack(toPipelineError(err));
}
