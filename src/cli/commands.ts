import type { CommandDefinition } from './program.ts';
import type { OptionSpec } from './option-spec.ts';
import { fetchCommand } from './fetch.ts';
import { ARCHIVE_COMMAND } from './archive.ts';
import { ingestCommand } from './ingest.ts';
import { PROCESS_COMMAND } from './process.ts';
import { RUN_ALL_COMMAND } from './run-all.ts';

/**
 * Every subcommand, in help order. Each stage's file exports its CommandDefinition; adding a command is one
 * import and one entry here.
 */
export const COMMANDS: CommandDefinition[] = [fetchCommand, ingestCommand, ARCHIVE_COMMAND, PROCESS_COMMAND, RUN_ALL_COMMAND];

/** All option specs of all commands: config files are checked against these (a typo is an error). */
export function allSpecs(): OptionSpec[] {
  return COMMANDS.flatMap((c) => c.specs);
}
