import type { Lifecycle } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import type { Stats } from '../core/stats.ts';
import type { OptionValues } from './option-spec.ts';
import type { Progress } from './progress.ts';

/**
 * What a command's function receives. Commands are plain async functions over resolved options and this
 * context (no argv, no process.exit, no signals), so tests call them without a process.
 */
export interface CommandContext {
  log: Logger;
  lifecycle: Lifecycle;
  stats: Stats;
  /** Where data goes (NDJSON); logs never go here. */
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Start live progress for these stages; stopped by the CLI layer at the end. */
  startProgress(stages: readonly string[]): Progress;
}

/** Exit codes, documented in the README. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, INTERRUPTED: 130 } as const;

export type CommandAction = (options: OptionValues, ctx: CommandContext) => Promise<number>;
