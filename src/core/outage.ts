import type { Fields, Logger } from './log.ts';
import type { RetryInfo } from './retry.ts';

/**
 * One warning when a system becomes unreachable and one line when it is back, instead of a line per attempt
 * (attempts are logged at debug level). Shared by everything retrying against the same system.
 */
export class OutageReporter {
  private readonly log: Logger;
  private readonly messages: { down: string; up: string; still: string };
  private readonly fields: () => Fields;
  private since: number | undefined;

  constructor(log: Logger, messages: { down: string; up: string; still: string }, fields: () => Fields = () => ({})) {
    this.log = log;
    this.messages = messages;
    this.fields = fields;
  }

  get down(): boolean {
    return this.since !== undefined;
  }

  failed({ attempt, delayMs, error }: RetryInfo): void {
    if (this.since === undefined) {
      this.since = Date.now();
      this.log.warn(this.messages.down, { ...this.fields(), code: error.code, error: error.message });
    } else {
      this.log.debug(this.messages.still, { attempt, delayMs, code: error.code, error: error.message });
    }
  }

  recovered(): void {
    if (this.since === undefined) return;
    this.log.info(this.messages.up, { ...this.fields(), downMs: Date.now() - this.since });
    this.since = undefined;
  }
}
