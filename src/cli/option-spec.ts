/**
 * One table of options per command drives everything the CLI does with them: commander flags, `--help` text
 * (with default and environment variable), environment variables, config-file keys, type coercion and
 * validation. Keys are unique across all commands, so one config file configures every stage and `run-all`
 * can take every stage's options at once.
 */
export type OptionType = 'string' | 'integer' | 'number' | 'boolean' | 'duration' | 'size' | 'list' | 'enum';

export interface OptionSpec {
  /** Unique key across commands (camelCase). Env var: USERPIPE_<UPPER_SNAKE(key)>. */
  key: string;
  /** Commander flag, e.g. `--results <n>`, `--once`, `--no-gzip`. */
  flag: string;
  /** Flag to use in `run-all`, where stage flags may collide (defaults to `flag`). */
  runAllFlag?: string;
  description: string;
  type: OptionType;
  default?: unknown;
  /** Shown in help instead of the default value (e.g. "from INFLUX_HOST"). */
  defaultLabel?: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Extra environment variables read (after USERPIPE_<KEY>), e.g. INFLUX_HOST. */
  env?: readonly string[];
  /** Never printed; given as a flag, warns that it shows in `ps`. */
  secret?: boolean;
  /** For list options: allowed items. */
  itemChoices?: readonly string[];
  /** Help group heading. */
  group?: string;
  /** The stage whose config-file section also applies to this option in run-all (`ingest`, `archive`...). */
  stage?: string;
  /** Set by the CLI in run-all: the flag the option has in its own stage (names it in that stage's section). */
  stageFlag?: string;
}

export type OptionValues = Record<string, unknown>;

export function envName(key: string): string {
  return 'USERPIPE_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** `--spool-dir <dir>` -> `spoolDir`; `--no-gzip` -> `gzip`. Commander's own attribute naming. */
export function flagAttribute(flag: string): string {
  const long = /--(?:no-)?([a-z0-9-]+)/.exec(flag)?.[1] ?? flag;
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function flagName(flag: string): string {
  return /--[a-z0-9-]+/.exec(flag)?.[0] ?? flag;
}
