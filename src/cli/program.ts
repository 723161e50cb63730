import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, PipelineError, errorMessage, isAbortError } from '../core/errors.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import { createLogger, type LogFormat, type LogLevel } from '../core/log.ts';
import { Stats } from '../core/stats.ts';
import { formatBytes, formatDuration } from '../core/units.ts';
import { checkConfigKeys, loadConfigFile, resolveOptions, type ConfigFile } from './config.ts';
import { EXIT, type CommandAction, type CommandContext } from './context.ts';
import { envName, flagName, type OptionSpec } from './option-spec.ts';
import { Progress } from './progress.ts';

/** A subcommand: its help, its option table and its function. */
export interface CommandDefinition {
  name: string;
  summary: string;
  /** Longer help shown above the options. */
  description?: string;
  /** Shown after the options under "Examples:". */
  examples?: readonly string[];
  specs: readonly OptionSpec[];
  /** Flags for this command differ in run-all; set true there. */
  runAllFlags?: boolean;
  action: CommandAction;
}

export interface ProgramIO {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  isTTY: boolean;
  /** The process-level lifecycle (signals are mapped onto it by main.ts). */
  lifecycle: Lifecycle;
  allSpecs: readonly OptionSpec[];
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
const LOG_FORMATS = ['text', 'json'] as const;

const GLOBAL_HELP = `
Pipeline: RandomUser API -> fetch -> spool dir -> ingest -> Kafka -> { archive -> HDFS, process -> InfluxDB }.
Every option can also come from the environment (USERPIPE_<NAME>, shown in each command's help) or from
a config file (--config, JSON or YAML; top-level keys for all commands, or a section per command).
Precedence: flags > environment > config file > defaults.

Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 130 interrupted.`;

/** The version in package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function defaultText(spec: OptionSpec): string | undefined {
  if (spec.defaultLabel) return spec.defaultLabel;
  const d = spec.default;
  if (d === undefined) return undefined;
  if (spec.type === 'duration' && typeof d === 'number') return formatDuration(d);
  if (spec.type === 'size' && typeof d === 'number') return formatBytes(d);
  if (Array.isArray(d)) return d.join(',');
  return String(d);
}

export function helpDescription(spec: OptionSpec): string {
  const bits: string[] = [];
  const d = defaultText(spec);
  if (spec.choices) bits.push(`one of ${spec.choices.join('|')}`);
  if (d !== undefined && !(spec.type === 'boolean' && d === 'false')) bits.push(`default: ${d}`);
  bits.push(`env ${[envName(spec.key), ...(spec.env ?? [])].join(' or ')}`);
  return `${spec.description} (${bits.join('; ')})`;
}

export function buildProgram(commands: readonly CommandDefinition[], io: ProgramIO, setExit: (code: number) => void): Command {
  const program = new Command('userpipe')
    .description('Move RandomUser records through Kafka into HDFS and InfluxDB, with nothing lost.')
    .version(packageVersion(), '-V, --version')
    .option('-c, --config <file>', 'config file (JSON or YAML) for every stage (env USERPIPE_CONFIG)')
    .addOption(new Option('--log-level <level>', 'log level (default: info; env USERPIPE_LOG_LEVEL)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'log format on stderr (default: text; env USERPIPE_LOG_FORMAT)').choices(LOG_FORMATS))
    .option('-q, --quiet', 'only warnings and errors, no progress display')
    .addHelpText('after', GLOBAL_HELP)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  for (const def of commands) {
    const cmd = program.command(def.name).summary(def.summary).description(def.description ?? def.summary);
    cmd.exitOverride();
    const seen = new Set<string>();
    for (const spec of def.specs) {
      const flag = def.runAllFlags ? (spec.runAllFlag ?? spec.flag) : spec.flag;
      if (seen.has(flagName(flag))) continue;
      seen.add(flagName(flag));
      const opt = new Option(flag, helpDescription(spec));
      if (spec.group) opt.helpGroup(spec.group);
      cmd.addOption(opt);
    }
    if (def.examples?.length) cmd.addHelpText('after', `\nExamples:\n${def.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    cmd.action(async (_opts: Record<string, unknown>, command: Command) => {
      setExit(await runCommand(def, command, io));
    });
  }
  return program;
}

async function runCommand(def: CommandDefinition, command: Command, io: ProgramIO): Promise<number> {
  const globals = command.optsWithGlobals<{ config?: string; logLevel?: LogLevel; logFormat?: LogFormat; quiet?: boolean }>();
  // The environment is not checked by commander's choices: an unknown level would silently log everything.
  for (const [name, allowed] of [['USERPIPE_LOG_LEVEL', LOG_LEVELS], ['USERPIPE_LOG_FORMAT', LOG_FORMATS]] as const) {
    const v = io.env[name];
    if (v !== undefined && v !== '' && !(allowed as readonly string[]).includes(v)) {
      io.stderr.write(`userpipe: invalid ${name} (environment): ${JSON.stringify(v)} is not one of ${allowed.join(', ')}\n`);
      return EXIT.USAGE;
    }
  }
  const envLevel = io.env.USERPIPE_LOG_LEVEL ? (io.env.USERPIPE_LOG_LEVEL as LogLevel) : undefined;
  const level: LogLevel = globals.logLevel ?? envLevel ?? (globals.quiet ? 'warn' : 'info');
  const format: LogFormat = globals.logFormat ?? (io.env.USERPIPE_LOG_FORMAT === 'json' ? 'json' : 'text');
  let progress: Progress | undefined;
  const log = createLogger({
    level,
    format,
    write: (line) => io.stderr.write(line),
    beforeWrite: () => progress?.beforeLog(),
    afterWrite: () => progress?.afterLog(),
  });
  try {
    // Flags the user actually typed: commander reports 'cli' as their source; defaults come from our table.
    const flags: Record<string, unknown> = {};
    const opts = command.opts<Record<string, unknown>>();
    for (const k of Object.keys(opts)) if (command.getOptionValueSource(k) === 'cli') flags[k] = opts[k];
    const configPath = globals.config ?? io.env.USERPIPE_CONFIG;
    let file: ConfigFile | undefined;
    if (configPath) {
      file = loadConfigFile(configPath);
      checkConfigKeys(file, io.allSpecs);
    }
    const specs = def.runAllFlags ? def.specs.map((s) => ({ ...s, flag: s.runAllFlag ?? s.flag, stageFlag: s.flag })) : def.specs;
    const { values, sources } = resolveOptions({ command: def.name, specs, flags, env: io.env, file });
    for (const spec of specs) {
      if (spec.secret && sources[spec.key] === 'flag') {
        log.warn('a secret was given as a flag: it shows in `ps` and shell history; prefer the environment or a file', {
          option: flagName(spec.flag),
        });
      }
    }
    const stats = new Stats();
    const ctx: CommandContext = {
      log,
      lifecycle: io.lifecycle,
      stats,
      stdout: io.stdout,
      env: io.env,
      startProgress: (stages) => {
        progress = new Progress({
          stats,
          stages,
          log,
          tty: io.isTTY,
          intervalMs: typeof values.progressInterval === 'number' ? values.progressInterval : 10_000,
          enabled: !globals.quiet && level !== 'silent',
          stream: io.stderr as NodeJS.WriteStream,
        });
        progress.start();
        return progress;
      },
    };
    return await def.action(values, ctx);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error(err.message, err.details);
      return EXIT.USAGE;
    }
    if (io.lifecycle.abort.aborted && isAbortError(err)) {
      log.warn('aborted');
      return EXIT.INTERRUPTED;
    }
    const pe = err instanceof PipelineError ? err : undefined;
    log.error(`${def.name} failed: ${errorMessage(err)}`, pe ? { code: pe.code, ...pe.details } : undefined);
    if (!pe && level === 'debug' && err instanceof Error) io.stderr.write(`${err.stack ?? ''}\n`);
    return EXIT.FAILED;
  } finally {
    progress?.stop();
  }
}

export function usageExitCode(err: unknown): number | undefined {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
    return EXIT.USAGE;
  }
  return undefined;
}
