/**
 * The contract `process` writes points through: the real InfluxDB (`clients/influx-writer.ts`) or local
 * line-protocol files (`sinks/lp-files.ts`, `--lp-dir`). Both give a KNOWN outcome per line, so the caller can
 * settle every record's ack once: written -> ack; rejected -> dead-letter, then ack; thrown -> nothing is
 * known to be written for lines not yet reported, ack nothing (the records are redelivered).
 */

/** A line the destination refused for good: dead-letter it with `message`, never retry it as is. */
export interface RejectedLine {
  line: string;
  /** The destination's own words (InfluxDB's error message), bounded in length. */
  message: string;
  /** HTTP status of the refusal (400, 413, 422), when there was one. */
  status?: number;
}

export interface WriteResult {
  /** Lines durably accepted. `written + rejected.length` equals the number of lines given. */
  written: number;
  rejected: RejectedLine[];
  /** Requests (or file writes) it took, retries not counted: isolating bad lines costs extra ones. */
  requests: number;
}

export interface PointWriter {
  /**
   * Write lines of line protocol (an array of single lines, or one string of lines joined by `\n`).
   * Resolves only when every line is either durable (written) or known to be refused (rejected).
   * Transient failures are retried inside, within the writer's bounds; meanwhile the call blocks, which is the
   * caller's backpressure. Throws a PipelineError when the outcome is not known: AUTH / NOT_FOUND / CONFIG
   * (fatal: stop, commit nothing), ABORTED (the signal fired), or the last transient error once the retry
   * bounds are spent. Redelivered lines are identical (deterministic timestamps), so writing one again after
   * a throw overwrites the same point.
   */
  write(lines: readonly string[] | string, signal?: AbortSignal): Promise<WriteResult>;
  /** Release files/sockets. Calls to `write` must have settled. */
  close(): Promise<void>;
  /** Where the points go, for logs (never contains a secret). */
  describe(): string;
}

/** Normalize the `lines` argument of `write`: an array of lines without empty ones. */
export function toLines(lines: readonly string[] | string): readonly string[] {
  if (typeof lines !== 'string') return lines;
  if (lines === '') return [];
  return lines.split('\n').filter((l) => l !== '');
}
